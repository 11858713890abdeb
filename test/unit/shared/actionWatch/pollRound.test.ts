import { hadNewEntries, isActionId, isFresh, nextSchedule, pageFilter, planRound } from "../../../../shared/actionWatch/pollRound";
import type { PollSchedule, WatchEntry } from "../../../../shared/actionWatch/watchStore";
import { FINAL_WATCH_ENTRY_RETENTION_IN_MS } from "../../../../shared/timing";

const T0 = Date.parse("2026-03-02T09:00:00Z");
const MINUTE = 60_000;
const INTERVAL = 30_000;
const GRACE = 2 * INTERVAL;
const timing = { pollMaxDelayInMs: 15 * MINUTE, actionPollIntervalInMs: INTERVAL };
const guid = (i: number) => `${String(i).padStart(8, "0")}-0000-4000-8000-000000000000`;
/** The last complete round was a minute ago; the next is due in four. */
const schedule: PollSchedule = { roundAtMs: T0 - MINUTE, nextRoundAtMs: T0 + 4 * MINUTE, gapMs: 5 * MINUTE };

function entry(i: number, overrides: Partial<WatchEntry> = {}): WatchEntry {
  return {
    instanceId: `collect-${i}`,
    actionId: guid(i),
    signature: "Pending|0:Created",
    final: false,
    readAtMs: T0 - 10 * MINUTE,
    ...overrides,
  };
}

describe("planRound", () => {
  it("runs no round before the schedule's next one, and says when it is due", () => {
    const plan = planRound([entry(1), entry(2)], schedule, T0, timing);
    expect(plan.pages).toEqual([]);
    expect(plan.dueAtMs).toBe(schedule.nextRoundAtMs);
  });

  it("reads every unfinished entry once a round is due, 50 to a page", () => {
    const entries = Array.from({ length: 120 }, (_, i) => entry(i));
    const { pages } = planRound(entries, schedule, schedule.nextRoundAtMs, timing);
    expect(pages.map((p) => p.length)).toEqual([50, 50, 20]);
    expect(new Set(pages.flat().map((e) => e.instanceId)).size).toBe(120);
  });

  it("brings the round forward to one interval after an entry written since the last round", () => {
    const fresh = entry(3, { readAtMs: T0 - 10_000 });
    expect(planRound([entry(1), fresh], schedule, T0, timing).dueAtMs).toBe(T0 - 10_000 + INTERVAL);
    expect(planRound([entry(1), fresh], schedule, T0 + 20_000, timing).pages).toHaveLength(1);
    expect(hadNewEntries([entry(1), fresh], schedule)).toBe(true);
    expect(hadNewEntries([entry(1)], schedule)).toBe(false);
  });

  it("never reads a final entry, and removes it after its retention", () => {
    const kept = entry(1, { final: true, readAtMs: T0 - FINAL_WATCH_ENTRY_RETENTION_IN_MS + 1 });
    const old = entry(2, { final: true, readAtMs: T0 - FINAL_WATCH_ENTRY_RETENTION_IN_MS });
    const plan = planRound([kept, old], schedule, T0, timing);
    expect(plan.pages).toEqual([]);
    expect(plan.expired).toEqual([old]);
    expect(plan.dueAtMs).toBe(kept.readAtMs + FINAL_WATCH_ENTRY_RETENTION_IN_MS);
  });

  it("keeps anything but an action id out of the OData filter", () => {
    const hostile = entry(3, { actionId: "x') or (id ne '" });
    const plan = planRound([hostile, entry(4)], undefined, T0, timing);
    expect(plan.expired).toEqual([hostile]);
    expect(pageFilter(plan.pages[0]!)).toBe(`id in ('${guid(4)}')`);
    expect(isActionId(guid(4))).toBe(true);
    expect(isActionId("not-a-guid")).toBe(false);
  });
});

describe("nextSchedule", () => {
  it("comes back after one interval when anything changed, runs or is new, else doubles the gap up to the poll cap", () => {
    const quiet = { changed: false, running: false, hadNew: false };
    expect(nextSchedule(schedule, { ...quiet, changed: true }, T0, timing)).toEqual({
      roundAtMs: T0,
      nextRoundAtMs: T0 + INTERVAL,
      gapMs: INTERVAL,
    });
    expect(nextSchedule(schedule, { ...quiet, running: true }, T0, timing).gapMs).toBe(INTERVAL);
    expect(nextSchedule(schedule, quiet, T0, timing).gapMs).toBe(10 * MINUTE);
    expect(nextSchedule({ ...schedule, gapMs: 10 * MINUTE }, quiet, T0, timing).gapMs).toBe(15 * MINUTE);
  });
});

describe("isFresh", () => {
  it("trusts a copy just written, or confirmed by the last complete round until two intervals after the next one is due", () => {
    const justRead = entry(1, { readAtMs: T0 });
    expect(isFresh(justRead, undefined, T0 + INTERVAL + GRACE, INTERVAL)).toBe(true);
    expect(isFresh(justRead, undefined, T0 + INTERVAL + GRACE + 1, INTERVAL)).toBe(false);
    const confirmed = entry(2);
    expect(isFresh(confirmed, schedule, schedule.nextRoundAtMs + GRACE, INTERVAL)).toBe(true);
    expect(isFresh(confirmed, schedule, schedule.nextRoundAtMs + GRACE + 1, INTERVAL)).toBe(false);
    // Written after the last round: that round did not confirm it.
    expect(isFresh(entry(3, { readAtMs: schedule.roundAtMs + 1 }), schedule, schedule.roundAtMs + 10 * MINUTE, INTERVAL)).toBe(false);
    expect(isFresh({ ...confirmed, final: true }, undefined, T0 + 10 * 24 * 60 * MINUTE, INTERVAL)).toBe(true);
  });
});
