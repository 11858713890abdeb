/**
 * NCRONTAB schedules as the Functions timer trigger reads them (the NCrontab library):
 * `{second} {minute} {hour} {day} {month} {day-of-week}`, or, where allowed, the same without
 * seconds when the expression has five fields (the host takes both). Each field: `*`, a value, a
 * range `a-b`, a list `a,b`, any of these with a step `/n` (`a/n` runs from a to the field's
 * maximum); months and days of the week also by name (JAN-DEC, SUN-SAT, or full names, any case).
 * As in NCrontab, a date must match BOTH day and day-of-week (vixie cron matches either when both
 * are restricted).
 *
 * One parser for both directions: the product validates `COLLECTION_PLANS_SCHEDULE` at load and
 * names the occurrence a timer run belongs to ({@link NcrontabSchedule.previous}), so a duplicate
 * firing of the same occurrence computes the same instance ids; the local dev host arms its timers
 * on the next occurrence ({@link NcrontabSchedule.next}).
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
  /**
   * The latest occurrence at or before `atOrBefore` (milliseconds ignored), searching back at most
   * `maxDays` days (default 400: a firing belongs to a recent occurrence).
   * @returns undefined when no occurrence lies in that window
   */
  previous(atOrBefore: Date, timeZone?: ScheduleTimeZone, maxDays?: number): Date | undefined;
}

/** Options of {@link parseNcrontab} and {@link parseNcrontabOrThrow}. */
export interface NcrontabOptions {
  /**
   * Also accept the 5-field form without seconds, as the host does for a timer trigger's schedule.
   * @default false: only the six-field form (what the app's settings document)
   */
  allowFiveFields?: boolean;
}

/** The outcome of {@link parseNcrontab}. */
export type NcrontabParse = { ok: true; schedule: NcrontabSchedule } | { ok: false; problem: string };

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MONTH_NAMES = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];
const DAY_NAMES = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

/** In expression order. */
const FIELDS: readonly FieldSpec[] = [
  { name: "second", min: 0, max: 59 },
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTH_NAMES },
  { name: "day-of-week", min: 0, max: 6, names: DAY_NAMES },
];

const SIX_FIELDS = "a six-field NCRONTAB expression {second} {minute} {hour} {day} {month} {day-of-week}";

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

type DatePart = "FullYear" | "Month" | "Date" | "Hours" | "Minutes" | "Seconds" | "Day";

/** The same calendar read through Date's UTC getters or its local ones. */
function calendarOf(utc: boolean): Calendar {
  const get = (d: Date, part: DatePart): number => (d[`get${utc ? "UTC" : ""}${part}`] as () => number).call(d);
  return {
    fields: (d) => ({
      year: get(d, "FullYear"),
      month: get(d, "Month") + 1,
      day: get(d, "Date"),
      hour: get(d, "Hours"),
      minute: get(d, "Minutes"),
      second: get(d, "Seconds"),
      dayOfWeek: get(d, "Day"),
    }),
    make: (y, mo, d, h, mi, s) => (utc ? new Date(Date.UTC(y, mo - 1, d, h, mi, s)) : new Date(y, mo - 1, d, h, mi, s)),
  };
}

const CALENDARS: Record<ScheduleTimeZone, Calendar> = { utc: calendarOf(true), local: calendarOf(false) };

/** Far enough for Feb 29 on a given weekday (28-year cycle); a schedule with no occurrence in it has none at all. */
const SEARCH_YEARS = 30;
/** How far back {@link NcrontabSchedule.previous} looks by default. */
const PREVIOUS_SEARCH_DAYS = 400;

/** The parsed fields, seconds first. */
type FieldSets = readonly [
  seconds: Set<number>,
  minutes: Set<number>,
  hours: Set<number>,
  days: Set<number>,
  months: Set<number>,
  daysOfWeek: Set<number>,
];

/**
 * Walks from `start` (whole seconds) towards the first matching time in `direction`: a field that
 * does not match jumps to the start of its next unit (forwards) or the last second of its previous
 * one (backwards), so the loop is short.
 */
function search(
  sets: FieldSets,
  start: Date,
  direction: 1 | -1,
  cal: Calendar,
  outside: (t: Date, f: Fields) => boolean,
): Date | undefined {
  const [seconds, minutes, hours, days, months, daysOfWeek] = sets;
  let t = start;
  for (let guard = 0; guard < 1_000_000; guard++) {
    const f = cal.fields(t);
    if (outside(t, f)) return undefined;
    // The first unit (month, day, hour, minute, second) that does not match, as an index into `parts`.
    let unit: number;
    if (!months.has(f.month)) unit = 1;
    else if (!days.has(f.day) || !daysOfWeek.has(f.dayOfWeek)) unit = 2;
    else if (!hours.has(f.hour)) unit = 3;
    else if (!minutes.has(f.minute)) unit = 4;
    else if (!seconds.has(f.second)) unit = 5;
    else return t;
    // That unit's start: the finer fields reset (day to 1, the rest to 0).
    const parts = [f.year, f.month, f.day, f.hour, f.minute, f.second].map((v, i) => (i <= unit ? v : i === 2 ? 1 : 0)) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    let candidate: Date;
    if (direction > 0) {
      parts[unit] = parts[unit]! + 1;
      candidate = cal.make(...parts);
    } else {
      candidate = new Date(cal.make(...parts).getTime() - 1000);
    }
    // In a repeated local hour (DST ends) the constructor picks the earlier instant: never step the wrong way.
    const moved = direction > 0 ? candidate.getTime() > t.getTime() : candidate.getTime() < t.getTime();
    t = moved ? candidate : new Date(t.getTime() + direction * 1000);
  }
  return undefined;
}

/**
 * Parses an NCRONTAB expression (see the module comment).
 * @throws NcrontabError naming the field that is wrong
 */
export function parseNcrontabOrThrow(expression: string, options: NcrontabOptions = {}): NcrontabSchedule {
  const parts = expression.trim().split(/\s+/);
  const allowFiveFields = options.allowFiveFields === true;
  if (parts.length !== 6 && !(allowFiveFields && parts.length === 5)) {
    const count = `${parts.length} field${parts.length === 1 ? "" : "s"}`;
    const expected = allowFiveFields ? `expected ${SIX_FIELDS}, or five without {second}` : `must be ${SIX_FIELDS}`;
    throw new NcrontabError(`'${expression}' has ${count}: ${expected}, e.g. "0 0 2 * * *"`);
  }
  const includesSeconds = parts.length === 6;
  const texts = includesSeconds ? parts : ["0", ...parts];
  const field = (i: number): Set<number> => {
    const spec = FIELDS[i]!;
    try {
      return parseField(texts[i]!, spec);
    } catch (e) {
      throw new NcrontabError(`${spec.name} field '${texts[i]}': ${(e as Error).message}`);
    }
  };
  const sets: FieldSets = [field(0), field(1), field(2), field(3), field(4), field(5)];

  return {
    expression,
    includesSeconds,
    next(after: Date, timeZone: ScheduleTimeZone = "utc"): Date | undefined {
      const cal = CALENDARS[timeZone];
      const start = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
      const lastYear = cal.fields(start).year + SEARCH_YEARS;
      return search(sets, start, 1, cal, (_t, f) => f.year > lastYear);
    },
    previous(atOrBefore: Date, timeZone: ScheduleTimeZone = "utc", maxDays = PREVIOUS_SEARCH_DAYS): Date | undefined {
      const start = new Date(Math.floor(atOrBefore.getTime() / 1000) * 1000);
      const limit = start.getTime() - maxDays * 86_400_000;
      return search(sets, start, -1, CALENDARS[timeZone], (t) => t.getTime() < limit);
    },
  };
}

/**
 * Parses an NCRONTAB expression (see the module comment), for validating a setting.
 * @returns the schedule, or a message saying what is wrong
 */
export function parseNcrontab(expression: string, options: NcrontabOptions = {}): NcrontabParse {
  try {
    return { ok: true, schedule: parseNcrontabOrThrow(expression, options) };
  } catch (e) {
    if (e instanceof NcrontabError) return { ok: false, problem: e.message };
    throw e;
  }
}
