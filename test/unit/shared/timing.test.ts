import type { CollectionSettings } from "../../../shared/config";
import type { CollectionPolicy, CollectionProgress } from "../../../shared/contract";
import {
  actionDeadlineOf,
  afterFailedRound,
  afterThrottledCancel,
  buildCollectionPolicy,
  busyRetryDelayInMs,
  clampToDeadline,
  collectAgain,
  collectAgainAfterCancel,
  deadlineOf,
  MAX_WAITS_PER_EXECUTION,
  nextCheckAt,
  nextPollDelayInMs,
  startDelayInMs,
  startFreshExecution,
  submissionsNotBefore,
  throttleDelayInMs,
  actionPollSchedule,
  nextPollRoundGapInMs,
  watchedFallbackDelayInMs,
} from "../../../shared/timing";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The documented defaults (shared/config.ts). */
const settings: CollectionSettings = {
  queueWindowInMs: 72 * HOUR,
  commandTimeoutInMs: 30 * MINUTE,
  deadlineMarginInMs: 30 * MINUTE,
  pollInitialDelayInMs: 15_000,
  pollMaxDelayInMs: 15 * MINUTE,
  busyRetryDelayInMs: 5 * MINUTE,
  actionPollIntervalInMs: 30_000,
};
const now = new Date("2026-01-01T00:00:00Z");
const policy: CollectionPolicy = buildCollectionPolicy(settings, now);
const progress = (over: Partial<CollectionProgress> = {}) => ({ actionDeadline: undefined, ...over }) as CollectionProgress;

describe("buildCollectionPolicy", () => {
  it("gives the collection MDE's queue window, the command time-out and a margin, from now", () => {
    expect(policy).toEqual({
      deadline: "2026-01-04T01:00:00.000Z",
      actionWindowInMs: 73 * HOUR,
      pollInitialDelayInMs: 15_000,
      pollMaxDelayInMs: 15 * MINUTE,
      busyRetryDelayInMs: 5 * MINUTE,
      throttleDelayInMs: MINUTE,
      // New collections wait for the action poller's wake-ups (batched status polling).
      watched: true,
    });
  });

  it("counts the deadline from a staggered start, and ignores a start already past", () => {
    const later = buildCollectionPolicy(settings, now, new Date("2026-01-01T00:10:00Z"));
    expect(later).toMatchObject({ startAfter: "2026-01-01T00:10:00.000Z", deadline: "2026-01-04T01:10:00.000Z" });
    expect(buildCollectionPolicy(settings, now, new Date("2025-12-31T23:00:00Z"))).toEqual(policy);
  });
});

describe("startDelayInMs", () => {
  it("waits until a staggered start, and not at all without one or once it has passed", () => {
    const staggered = buildCollectionPolicy(settings, now, new Date("2026-01-01T00:10:00Z"));
    expect(startDelayInMs(staggered, now)).toBe(10 * MINUTE);
    expect(startDelayInMs(staggered, new Date("2026-01-01T00:10:00Z"))).toBeUndefined();
    expect(startDelayInMs(policy, now)).toBeUndefined();
  });
});

describe("deadlines", () => {
  it("uses the submission deadline until MDE accepts, then the action's own", () => {
    expect(deadlineOf(policy, progress())).toEqual(new Date(policy.deadline));
    expect(deadlineOf(policy, progress({ actionDeadline: "2026-01-05T00:00:00.000Z" }))).toEqual(new Date("2026-01-05T00:00:00Z"));
  });

  it("gives an accepted action the whole window from its acceptance, unless the policy has no window (collections started before batched polling)", () => {
    const before = { ...policy, watched: undefined };
    expect(actionDeadlineOf(before, new Date("2026-01-02T00:00:00Z"))).toBe("2026-01-05T01:00:00.000Z");
    expect(actionDeadlineOf({ ...before, actionWindowInMs: undefined }, now)).toBeUndefined();
  });

  it("gives a watched collection's action its own window only after its device was busy: a wait for a tenant slot counts", () => {
    const watched = { ...policy, watched: true as const };
    expect(actionDeadlineOf(watched, new Date("2026-01-02T00:00:00Z"))).toBeUndefined();
    expect(actionDeadlineOf(watched, new Date("2026-01-02T00:00:00Z"), true)).toBe("2026-01-05T01:00:00.000Z");
  });

  it("looks for a lost submission among actions created from five minutes before the start", () => {
    expect(submissionsNotBefore("2026-01-01T00:00:00.000Z")).toBe("2025-12-31T23:55:00.000Z");
  });
});

describe("nextPollDelayInMs", () => {
  it("doubles from the initial delay to the cap while the device is offline", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 20].map((n) => nextPollDelayInMs(policy, "Pending", n) / 1000)).toEqual([
      15, 30, 60, 120, 240, 480, 900, 900, 900,
    ]);
  });

  it("polls at least every minute once the device runs the commands", () => {
    expect(nextPollDelayInMs(policy, "InProgress", 10)).toBe(MINUTE);
  });

  it("never goes below one second, however the policy is set", () => {
    expect(nextPollDelayInMs({ ...policy, pollInitialDelayInMs: 0 }, "Pending", 0)).toBe(1_000);
  });

  it("costs a few hundred polls, not thousands, for a device offline three days", () => {
    let elapsed = 0;
    let polls = 0;
    while (elapsed < 72 * HOUR) elapsed += nextPollDelayInMs(policy, "Pending", polls++);
    expect(polls).toBeLessThan(300);
  });
});

describe("busyRetryDelayInMs", () => {
  it("doubles from the busy delay up to the poll cap", () => {
    expect([0, 1, 2, 10].map((streak) => busyRetryDelayInMs(policy, streak) / MINUTE)).toEqual([5, 10, 15, 15]);
  });

  it("never waits less than the busy delay, even when it exceeds the poll cap", () => {
    expect(busyRetryDelayInMs({ ...policy, busyRetryDelayInMs: 30 * MINUTE }, 3)).toBe(30 * MINUTE);
  });
});

describe("throttleDelayInMs", () => {
  it("waits as MDE asked, or the policy's fallback when MDE did not say", () => {
    expect(throttleDelayInMs(policy, 5_000)).toBe(5_000);
    expect(throttleDelayInMs(policy, undefined)).toBe(MINUTE);
  });
});

describe("clampToDeadline and nextCheckAt", () => {
  const deadline = new Date(policy.deadline);
  it("never sleeps past the deadline, and never less than a second", () => {
    expect(clampToDeadline(15 * MINUTE, new Date(deadline.getTime() - MINUTE), deadline)).toBe(MINUTE);
    expect(clampToDeadline(15 * MINUTE, new Date(deadline.getTime() + HOUR), deadline)).toBe(1_000);
    expect(clampToDeadline(15 * MINUTE, now, deadline)).toBe(15 * MINUTE);
  });

  it("puts the last check at the deadline itself", () => {
    expect(nextCheckAt(new Date(deadline.getTime() - MINUTE), 15 * MINUTE, deadline)).toEqual(deadline);
  });
});

describe("afterFailedRound", () => {
  it("waits 1, 2, 4, 8, 16 and 32 minutes between rounds, then gives up at the seventh: about an hour of outage", () => {
    const decisions = [1, 2, 3, 4, 5, 6, 7].map(afterFailedRound);
    expect(decisions.map((d) => (d.retry ? d.delayInMs / MINUTE : "give up"))).toEqual([1, 2, 4, 8, 16, 32, "give up"]);
  });
});

describe("afterThrottledCancel", () => {
  it("waits as MDE asked (or the fallback) for six rounds, then gives up", () => {
    expect(afterThrottledCancel(policy, 1, 10_000)).toEqual({ retry: true, delayInMs: 10_000 });
    expect(afterThrottledCancel(policy, 6, undefined)).toEqual({ retry: true, delayInMs: MINUTE });
    expect(afterThrottledCancel(policy, 7, 10_000)).toEqual({ retry: false });
  });
});

describe("collection rounds", () => {
  it("tries a failing result again at later polls, three rounds in all", () => {
    expect([1, 2, 3].map(collectAgain)).toEqual([true, true, false]);
  });

  it("after a cancel, collects through throttling for seven rounds at most", () => {
    expect([1, 6, 7].map(collectAgainAfterCancel)).toEqual([true, true, false]);
  });
});

describe("startFreshExecution", () => {
  it(`hands over to a fresh execution after ${MAX_WAITS_PER_EXECUTION} waits`, () => {
    expect(startFreshExecution(MAX_WAITS_PER_EXECUTION - 1)).toBe(false);
    expect(startFreshExecution(MAX_WAITS_PER_EXECUTION)).toBe(true);
  });
});

describe("watched collections", () => {
  it("sleep on a fallback timer from 5 minutes, doubling to 2 hours, since the poller wakes them", () => {
    expect([0, 1, 2, 3, 4, 5, 10].map(watchedFallbackDelayInMs)).toEqual([5, 10, 20, 40, 80, 120, 120].map((m) => m * MINUTE));
  });

  it("are read by the poller every interval while something changes or runs, else less often up to the poll cap", () => {
    const s = { pollMaxDelayInMs: 15 * MINUTE, actionPollIntervalInMs: 30_000 };
    expect(nextPollRoundGapInMs(s, true, 8 * MINUTE)).toBe(30_000);
    expect(nextPollRoundGapInMs(s, false, undefined)).toBe(30_000);
    expect(nextPollRoundGapInMs(s, false, 30_000)).toBe(MINUTE);
    expect(nextPollRoundGapInMs(s, false, 10 * MINUTE)).toBe(15 * MINUTE);
    expect(actionPollSchedule(30_000)).toBe("*/30 * * * * *");
    expect(actionPollSchedule(60_000)).toBe("0 * * * * *");
  });
});
