import { NcrontabError, parseNcrontab, parseNcrontabOrThrow } from "../../../shared/ncrontab";

const at = (iso: string) => new Date(iso);
const next = (expr: string, after: string) => parseNcrontabOrThrow(expr).next(at(after))?.toISOString();
/** A six-field schedule, for the product's reading (scheduled collection). */
const schedule = (e: string) => {
  const r = parseNcrontab(e);
  if (!r.ok) throw new Error(r.problem);
  return r.schedule;
};

/** Consecutive occurrences from `after`. */
function occurrences(expr: string, after: string, count: number): string[] {
  const schedule = parseNcrontabOrThrow(expr);
  const out: string[] = [];
  let t = at(after);
  for (let i = 0; i < count; i++) {
    t = schedule.next(t)!;
    out.push(t.toISOString());
  }
  return out;
}

describe("NCRONTAB next occurrence (UTC)", () => {
  // Examples from the Functions timer trigger docs (functions-bindings-timer, "NCRONTAB examples").
  it("0 */5 * * * * fires every five minutes on the minute", () => {
    expect(occurrences("0 */5 * * * *", "2026-03-02T09:03:27Z", 3)).toEqual([
      "2026-03-02T09:05:00.000Z",
      "2026-03-02T09:10:00.000Z",
      "2026-03-02T09:15:00.000Z",
    ]);
  });

  it("0 0 * * * * fires at the top of every hour", () => {
    expect(next("0 0 * * * *", "2026-03-02T09:00:00Z")).toBe("2026-03-02T10:00:00.000Z");
  });

  it("0 0 */2 * * * fires every two hours", () => {
    expect(occurrences("0 0 */2 * * *", "2026-03-02T09:30:00Z", 2)).toEqual(["2026-03-02T10:00:00.000Z", "2026-03-02T12:00:00.000Z"]);
  });

  it("0 0 9-17 * * * fires hourly from 9 to 17 and then the next morning", () => {
    expect(occurrences("0 0 9-17 * * *", "2026-03-02T16:30:00Z", 3)).toEqual([
      "2026-03-02T17:00:00.000Z",
      "2026-03-03T09:00:00.000Z",
      "2026-03-03T10:00:00.000Z",
    ]);
  });

  it("0 30 9 * * 1-5 fires at 9:30 on weekdays only", () => {
    // 2026-03-06 is a Friday.
    expect(occurrences("0 30 9 * * 1-5", "2026-03-06T10:00:00Z", 2)).toEqual(["2026-03-09T09:30:00.000Z", "2026-03-10T09:30:00.000Z"]);
  });

  it("accepts day and month names (MON-FRI, JAN-DEC, full names) case-insensitively", () => {
    expect(next("0 30 9 * * MON-FRI", "2026-03-06T10:00:00Z")).toBe("2026-03-09T09:30:00.000Z");
    expect(next("0 30 9 * * monday", "2026-03-06T10:00:00Z")).toBe("2026-03-09T09:30:00.000Z");
    expect(next("0 0 0 1 JUN,Dec *", "2026-03-06T10:00:00Z")).toBe("2026-06-01T00:00:00.000Z");
    expect(next("0 0 0 1 jun,dec *", "2026-06-01T00:00:00Z")).toBe("2026-12-01T00:00:00.000Z");
  });

  it("lists, steps on ranges and a/n (a to the maximum) all work", () => {
    expect(occurrences("5,20,40 * * * * *", "2026-03-02T09:00:21Z", 3)).toEqual([
      "2026-03-02T09:00:40.000Z",
      "2026-03-02T09:01:05.000Z",
      "2026-03-02T09:01:20.000Z",
    ]);
    expect(occurrences("0 10-30/10 * * * *", "2026-03-02T09:00:00Z", 4)).toEqual([
      "2026-03-02T09:10:00.000Z",
      "2026-03-02T09:20:00.000Z",
      "2026-03-02T09:30:00.000Z",
      "2026-03-02T10:10:00.000Z",
    ]);
    expect(occurrences("45/5 * * * * *", "2026-03-02T09:00:00Z", 4)).toEqual([
      "2026-03-02T09:00:45.000Z",
      "2026-03-02T09:00:50.000Z",
      "2026-03-02T09:00:55.000Z",
      "2026-03-02T09:01:45.000Z",
    ]);
  });

  it("* * * * * * fires every second, strictly after the given time", () => {
    expect(next("* * * * * *", "2026-03-02T09:00:00.000Z")).toBe("2026-03-02T09:00:01.000Z");
    expect(next("* * * * * *", "2026-03-02T09:00:00.999Z")).toBe("2026-03-02T09:00:01.000Z");
  });

  it("the 5-field form has no seconds and fires at second 0", () => {
    const schedule = parseNcrontabOrThrow("*/15 * * * *", { allowFiveFields: true });
    expect(schedule.includesSeconds).toBe(false);
    expect(schedule.next(at("2026-03-02T09:01:00Z"))?.toISOString()).toBe("2026-03-02T09:15:00.000Z");
  });

  it("crosses month and year ends, and finds Feb 29", () => {
    expect(next("0 0 0 1 * *", "2026-12-15T00:00:00Z")).toBe("2027-01-01T00:00:00.000Z");
    expect(next("0 0 12 29 2 *", "2026-03-01T00:00:00Z")).toBe("2028-02-29T12:00:00.000Z");
    expect(next("0 0 0 31 * *", "2026-04-01T00:00:00Z")).toBe("2026-05-31T00:00:00.000Z");
  });

  it("matches day AND day-of-week, as NCrontab does (not vixie cron's OR)", () => {
    // Not Jan 2 (a Friday) nor Jan 13 (a Tuesday): the first Friday the 13th, Feb 13.
    expect(next("0 0 0 13 * FRI", "2026-01-01T00:00:00Z")).toBe("2026-02-13T00:00:00.000Z");
  });

  it("returns undefined for a schedule that never occurs", () => {
    expect(next("0 0 0 30 2 *", "2026-01-01T00:00:00Z")).toBeUndefined();
  });

  it("evaluates in the local time zone on request", () => {
    const schedule = parseNcrontabOrThrow("0 30 9 * * *");
    const local = schedule.next(new Date(2026, 2, 2, 10, 0, 0), "local")!;
    expect([local.getFullYear(), local.getMonth(), local.getDate(), local.getHours(), local.getMinutes()]).toEqual([2026, 2, 3, 9, 30]);
  });

  it.each([
    ["0 */5 * * *  * *", /7 fields/],
    ["0 * *", /3 fields/],
    ["60 * * * * *", /second value 60/],
    ["0 0 24 * * *", /hour value 24/],
    ["0 0 0 0 * *", /day value 0/],
    ["0 0 0 * 13 *", /month value 13/],
    ["0 0 0 * * 7", /day-of-week value 7/],
    ["0 0 0 * * FUN", /not a valid day-of-week/],
    ["0 0 0 * * MO", /not a valid day-of-week/],
    ["0 30-10 * * * *", /runs backwards/],
    ["*/0 * * * * *", /step must be at least 1/],
    ["1-2-3 * * * * *", /not a valid second range/],
    ["a/b * * * * *", /not a valid second/],
  ])("refuses %s", (expr, message) => {
    expect(() => parseNcrontabOrThrow(expr, { allowFiveFields: true })).toThrow(NcrontabError);
    expect(() => parseNcrontabOrThrow(expr, { allowFiveFields: true })).toThrow(message);
  });
});

describe("NCRONTAB latest occurrence at or before (UTC)", () => {
  it("finds the occurrence a firing belongs to", () => {
    expect(schedule("0 0 2 * * *").previous(new Date("2026-03-02T02:00:00.400Z"))?.toISOString()).toBe("2026-03-02T02:00:00.000Z");
    expect(schedule("0 0 2 * * *").previous(new Date("2026-03-02T01:59:59Z"))?.toISOString()).toBe("2026-03-01T02:00:00.000Z");
    expect(schedule("0 */15 * * * *").previous(new Date("2026-03-02T10:44:10Z"))?.toISOString()).toBe("2026-03-02T10:30:00.000Z");
    expect(schedule("0 30 9 * * Mon-Fri").previous(new Date("2026-03-01T12:00:00Z"))?.toISOString()).toBe("2026-02-27T09:30:00.000Z");
    expect(schedule("0 0 0 1 Jan *").previous(new Date("2026-03-01T00:00:00Z"))?.toISOString()).toBe("2026-01-01T00:00:00.000Z");
  });

  it("matches day AND day-of-week going back too, and reads the 5-field form", () => {
    expect(schedule("0 0 0 13 * FRI").previous(at("2026-03-12T23:59:59Z"))?.toISOString()).toBe("2026-02-13T00:00:00.000Z");
    expect(parseNcrontabOrThrow("*/15 * * * *", { allowFiveFields: true }).previous(at("2026-03-02T09:14:59Z"))?.toISOString()).toBe(
      "2026-03-02T09:00:00.000Z",
    );
  });

  it("returns undefined when no occurrence lies within maxDays (400 by default)", () => {
    expect(schedule("0 0 0 30 2 *").previous(at("2026-03-01T00:00:00Z"))).toBeUndefined();
    expect(schedule("0 0 0 1 Jan *").previous(at("2026-03-01T00:00:00Z"), "utc", 30)).toBeUndefined();
  });

  it("evaluates in the local time zone on request", () => {
    const local = schedule("0 30 9 * * *").previous(new Date(2026, 2, 3, 9, 0, 0), "local")!;
    expect([local.getFullYear(), local.getMonth(), local.getDate(), local.getHours(), local.getMinutes()]).toEqual([2026, 2, 2, 9, 30]);
  });

  it.each(["0 */5 * * * *", "0 30 9 * * Mon-Fri", "0 0 0 13 * FRI", "5,20,40 * 9-17 * JUN,Dec *", "0 0 12 29 2 *"])(
    "agrees with next(): %s",
    (expr) => {
      const s = parseNcrontabOrThrow(expr);
      for (const iso of ["2026-03-02T09:03:27.250Z", "2026-06-30T23:59:59Z", "2027-12-31T12:00:00Z"]) {
        const latest = s.previous(at(iso), "utc", 3000);
        if (latest === undefined) continue;
        expect(latest.getTime()).toBeLessThanOrEqual(at(iso).getTime());
        expect(s.next(latest)!.getTime()).toBeGreaterThan(at(iso).getTime());
      }
    },
  );
});

describe("NCRONTAB settings (six fields only)", () => {
  it.each([
    ["0 2 * * *", /six-field/],
    ["0 0 25 * * *", /hour field/],
    ["0 0 2 * * Funday", /day-of-week/],
    ["0 */0 * * * *", /step/],
    ["00:05:00", /six-field/],
  ])("refuses %s", (expression, problem) => {
    expect(parseNcrontab(expression)).toEqual({ ok: false, problem: expect.stringMatching(problem) });
  });
});
