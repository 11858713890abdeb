/**
 * NCRONTAB schedules as the Functions timer trigger reads them (the NCrontab library):
 * `{second} {minute} {hour} {day} {month} {day-of-week}`, or the same without seconds when the
 * expression has five fields. Each field: `*`, a value, a range `a-b`, a list `a,b`, any of
 * these with a step `/n` (`a/n` runs from a to the field's maximum); months and days of the week
 * also by name (JAN-DEC, SUN-SAT, or full names). As in NCrontab, a date must match BOTH day and
 * day-of-week (vixie cron matches either when both are restricted).
 */

/** An expression the host would refuse ("not recognized as a valid cron expression"). */
export class NcrontabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NcrontabError";
  }
}

/** Which clock the fields are read on: Azure reads schedules in UTC (unless WEBSITE_TIME_ZONE); Core Tools in the machine's zone. */
export type ScheduleTimeZone = "local" | "utc";

/** A parsed schedule. */
export interface NcrontabSchedule {
  readonly expression: string;
  /** True for the 6-field form. */
  readonly includesSeconds: boolean;
  /**
   * The first occurrence strictly after `after` (milliseconds ignored).
   * @returns undefined when the schedule never occurs again within 30 years (e.g. `0 0 0 30 2 *`)
   */
  next(after: Date, timeZone?: ScheduleTimeZone): Date | undefined;
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MONTH_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
const DAY_NAMES = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

const SECOND: FieldSpec = { name: "second", min: 0, max: 59 };
const MINUTE: FieldSpec = { name: "minute", min: 0, max: 59 };
const HOUR: FieldSpec = { name: "hour", min: 0, max: 23 };
const DAY: FieldSpec = { name: "day", min: 1, max: 31 };
const MONTH: FieldSpec = { name: "month", min: 1, max: 12, names: MONTH_NAMES };
const DAY_OF_WEEK: FieldSpec = { name: "day-of-week", min: 0, max: 6, names: DAY_NAMES };

function parseValue(text: string, spec: FieldSpec): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < spec.min || n > spec.max) throw new NcrontabError(`${spec.name} value ${n} is outside ${spec.min}-${spec.max}`);
    return n;
  }
  const lower = text.toLowerCase();
  // NCrontab accepts a name by its first three letters: "MON", "Mon" and "Monday" alike.
  const index = spec.names?.findIndex((n) => lower.length >= 3 && n.startsWith(lower)) ?? -1;
  if (index < 0) throw new NcrontabError(`'${text}' is not a valid ${spec.name}`);
  return spec.min + index;
}

function parseField(text: string, spec: FieldSpec): Set<number> {
  const values = new Set<number>();
  for (const item of text.split(",")) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(item);
    if (!m) throw new NcrontabError(`'${item}' is not a valid ${spec.name} item`);
    const [, range, stepText] = m;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) throw new NcrontabError(`${spec.name} step must be at least 1`);
    let from: number;
    let to: number;
    if (range === "*") {
      [from, to] = [spec.min, spec.max];
    } else if (range!.includes("-")) {
      const [a, b, ...rest] = range!.split("-");
      if (rest.length > 0 || !a || !b) throw new NcrontabError(`'${range}' is not a valid ${spec.name} range`);
      [from, to] = [parseValue(a, spec), parseValue(b, spec)];
      if (from > to) throw new NcrontabError(`${spec.name} range ${range} runs backwards`);
    } else {
      from = parseValue(range!, spec);
      to = stepText === undefined ? from : spec.max;
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  dayOfWeek: number;
}

interface Calendar {
  fields(d: Date): Fields;
  /** Normalizes overflow (month 13, day 32, hour 24...) like the Date constructor. */
  make(year: number, month: number, day: number, hour: number, minute: number, second: number): Date;
}

const CALENDARS: Record<ScheduleTimeZone, Calendar> = {
  utc: {
    fields: (d) => ({
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      dayOfWeek: d.getUTCDay(),
    }),
    make: (y, mo, d, h, mi, s) => new Date(Date.UTC(y, mo - 1, d, h, mi, s)),
  },
  local: {
    fields: (d) => ({
      year: d.getFullYear(),
      month: d.getMonth() + 1,
      day: d.getDate(),
      hour: d.getHours(),
      minute: d.getMinutes(),
      second: d.getSeconds(),
      dayOfWeek: d.getDay(),
    }),
    make: (y, mo, d, h, mi, s) => new Date(y, mo - 1, d, h, mi, s),
  },
};

/** Far enough for Feb 29 on a given weekday (28-year cycle); a schedule with no occurrence in it has none at all. */
const SEARCH_YEARS = 30;

/**
 * Parses an NCRONTAB expression (5 or 6 fields, see the module comment).
 * @throws NcrontabError naming the field that is wrong
 */
export function parseNcrontab(expression: string): NcrontabSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    throw new NcrontabError(`'${expression}' has ${parts.length} fields; expected 6 ({second} {minute} {hour} {day} {month} {day-of-week}) or 5`);
  }
  const includesSeconds = parts.length === 6;
  const [s, mi, h, d, mo, dw] = includesSeconds ? parts : ["0", ...parts];
  const seconds = parseField(s!, SECOND);
  const minutes = parseField(mi!, MINUTE);
  const hours = parseField(h!, HOUR);
  const days = parseField(d!, DAY);
  const months = parseField(mo!, MONTH);
  const daysOfWeek = parseField(dw!, DAY_OF_WEEK);

  return {
    expression,
    includesSeconds,
    next(after: Date, timeZone: ScheduleTimeZone = "utc"): Date | undefined {
      const cal = CALENDARS[timeZone];
      let t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
      const lastYear = cal.fields(t).year + SEARCH_YEARS;
      // Each step jumps to the start of the next month, day, hour, minute or second, so the loop is short.
      for (let guard = 0; guard < 1_000_000; guard++) {
        const f = cal.fields(t);
        if (f.year > lastYear) return undefined;
        let candidate: Date;
        if (!months.has(f.month)) candidate = cal.make(f.year, f.month + 1, 1, 0, 0, 0);
        else if (!days.has(f.day) || !daysOfWeek.has(f.dayOfWeek)) candidate = cal.make(f.year, f.month, f.day + 1, 0, 0, 0);
        else if (!hours.has(f.hour)) candidate = cal.make(f.year, f.month, f.day, f.hour + 1, 0, 0);
        else if (!minutes.has(f.minute)) candidate = cal.make(f.year, f.month, f.day, f.hour, f.minute + 1, 0);
        else if (!seconds.has(f.second)) candidate = cal.make(f.year, f.month, f.day, f.hour, f.minute, f.second + 1);
        else return t;
        // In a repeated local hour (DST ends) the constructor picks the earlier instant: never step back.
        t = candidate.getTime() > t.getTime() ? candidate : new Date(t.getTime() + 1000);
      }
      return undefined;
    },
  };
}

/** Convenience: the next occurrence of `expression` after `after`. @throws NcrontabError */
export function nextOccurrence(expression: string, after: Date, timeZone: ScheduleTimeZone = "utc"): Date | undefined {
  return parseNcrontab(expression).next(after, timeZone);
}

/**
 * Replaces `%NAME%` references with app settings, as the host's name resolver does for binding
 * expressions (a whole schedule like `%COLLECTION_SCHEDULE%`, or part of one).
 * @throws NcrontabError naming a setting that is missing or empty
 */
export function resolveSettingReferences(value: string, settings: Record<string, string | undefined>): string {
  return value.replace(/%([^%\s]+)%/g, (_match, name: string) => {
    const resolved = settings[name];
    if (resolved === undefined || resolved.trim() === "") throw new NcrontabError(`'%${name}%' does not resolve to a value: set the app setting ${name}`);
    return resolved.trim();
  });
}
