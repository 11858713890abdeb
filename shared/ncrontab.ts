/**
 * The six-field NCRONTAB expressions the Functions timer trigger takes
 * (`{second} {minute} {hour} {day} {month} {day-of-week}`): `*`, values, ranges `a-b`, steps
 * `*\/n` and `a-b/n`, lists, month and day names. Used to validate `COLLECTION_PLANS_SCHEDULE` at
 * load and to name the schedule occurrence a timer run belongs to, so a duplicate firing of the same
 * occurrence computes the same instance ids.
 */

export interface CronSchedule {
  expression: string;
  seconds: Set<number>;
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  /** 0 = Sunday. */
  weekdays: Set<number>;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const FIELDS: { name: string; min: number; max: number; names?: string[]; namesFrom?: number }[] = [
  { name: "second", min: 0, max: 59 },
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS, namesFrom: 1 },
  { name: "day-of-week", min: 0, max: 6, names: WEEKDAYS, namesFrom: 0 },
];

/**
 * Parses a six-field NCRONTAB expression.
 * @returns the schedule, or a message saying what is wrong
 */
export function parseNcrontab(expression: string): { ok: true; schedule: CronSchedule } | { ok: false; problem: string } {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 6) {
    return { ok: false, problem: "must be a six-field NCRONTAB expression {second} {minute} {hour} {day} {month} {day-of-week}, e.g. \"0 0 2 * * *\"" };
  }
  const sets: Set<number>[] = [];
  for (let i = 0; i < 6; i++) {
    const set = parseField(parts[i]!, FIELDS[i]!);
    if (typeof set === "string") return { ok: false, problem: `${FIELDS[i]!.name} field "${parts[i]}": ${set}` };
    sets.push(set);
  }
  const [seconds, minutes, hours, days, months, weekdays] = sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  return { ok: true, schedule: { expression, seconds, minutes, hours, days, months, weekdays } };
}

function parseField(text: string, field: (typeof FIELDS)[number]): Set<number> | string {
  const out = new Set<number>();
  const value = (t: string): number | undefined => {
    const named = field.names?.indexOf(t.toLowerCase()) ?? -1;
    if (named >= 0) return named + (field.namesFrom ?? 0);
    return /^\d+$/.test(t) ? Number(t) : undefined;
  };
  for (const item of text.split(",")) {
    const m = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(item);
    if (!m) return `"${item}" is not a value, range, list or step`;
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1) return "a step must be at least 1";
    let from = field.min;
    let to = field.max;
    if (m[1] !== "*") {
      const [a, b] = m[1]!.split("-");
      const lo = value(a!);
      const hi = b === undefined ? (m[2] === undefined ? lo : field.max) : value(b);
      if (lo === undefined || hi === undefined) return `"${item}" is not a number${field.names ? " or name" : ""}`;
      from = lo;
      to = hi;
    }
    if (from < field.min || to > field.max || from > to) return `values must be within ${field.min}-${field.max}`;
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

/**
 * The latest occurrence of `schedule` at or before `at` (UTC, whole seconds), searching back at
 * most `maxDays` days. Day and day-of-week must both match.
 * @returns undefined when no occurrence lies in that window
 */
export function previousOccurrence(schedule: CronSchedule, at: Date, maxDays = 400): Date | undefined {
  let t = Math.floor(at.getTime() / 1000) * 1000;
  const limit = t - maxDays * 86_400_000;
  while (t >= limit) {
    const d = new Date(t);
    if (!schedule.months.has(d.getUTCMonth() + 1) || !schedule.days.has(d.getUTCDate()) || !schedule.weekdays.has(d.getUTCDay())) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - 1000;
    } else if (!schedule.hours.has(d.getUTCHours())) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()) - 1000;
    } else if (!schedule.minutes.has(d.getUTCMinutes())) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()) - 1000;
    } else if (!schedule.seconds.has(d.getUTCSeconds())) {
      t -= 1000;
    } else {
      return d;
    }
  }
  return undefined;
}
