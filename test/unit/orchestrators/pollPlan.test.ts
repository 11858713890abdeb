import { clampToDeadline, nextPollDelayInMs } from "../../../orchestrators/pollPlan";
import type { CollectionPolicy } from "../../../shared/contract";

const policy: CollectionPolicy = { deadline: "2026-01-04T00:00:00Z", pollInitialDelayInMs: 15_000, pollMaxDelayInMs: 900_000, busyRetryDelayInMs: 300_000, throttleDelayInMs: 60_000 };

describe("nextPollDelayInMs", () => {
  it("doubles from the initial delay to the cap while the device is offline", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 20].map((n) => nextPollDelayInMs(policy, "Pending", n) / 1000)).toEqual([15, 30, 60, 120, 240, 480, 900, 900, 900]);
  });

  it("polls at least every minute once the device runs the commands", () => {
    expect(nextPollDelayInMs(policy, "InProgress", 10)).toBe(60_000);
  });

  it("costs a few hundred polls, not thousands, for a device offline three days", () => {
    let elapsed = 0;
    let polls = 0;
    while (elapsed < 72 * 3600_000) elapsed += nextPollDelayInMs(policy, "Pending", polls++);
    expect(polls).toBeLessThan(300);
  });
});

describe("clampToDeadline", () => {
  it("never sleeps past the deadline, and never less than a second", () => {
    const now = new Date("2026-01-03T23:59:00Z");
    expect(clampToDeadline(900_000, now, new Date(policy.deadline))).toBe(60_000);
    expect(clampToDeadline(900_000, new Date("2026-01-05T00:00:00Z"), new Date(policy.deadline))).toBe(1_000);
  });
});
