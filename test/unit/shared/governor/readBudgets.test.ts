/** Read budgets per endpoint, per minute and per hour, with headroom for other tools of the tenant. */
import type { ReadEndpoint } from "../../../../shared/governor/governorDocument";
import { MINUTE, SECOND, seededRandom, T0, testGovernor } from "./governorFixture";

type TestGovernor = ReturnType<typeof testGovernor>["governor"];

async function readMany(governor: TestGovernor, endpoint: ReadEndpoint, count: number, now: number) {
  const kinds = [];
  for (let i = 0; i < count; i++) kinds.push((await governor.acquireRead(endpoint, now)).kind);
  return kinds;
}

/** The most calls any sliding window of `windowMs` holds (instants sorted). */
function busiestWindow(instants: number[], windowMs: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < instants.length; i++) {
    while (instants[i] - instants[j] >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe("read budgets", () => {
  it("grants 90 reads a minute by default (100 less 10% headroom), then waits until the oldest second leaves the window", async () => {
    const { governor } = testGovernor();
    const kinds = await readMany(governor, "getMachineAction", 90, T0);
    expect(kinds.every((k) => k === "granted")).toBe(true);
    // T0 falls on a second: its bucket leaves the 60.5-second window (margin included) 61.5 s later.
    expect(await governor.acquireRead("getMachineAction", T0)).toEqual({ kind: "wait", waitMs: 61.5 * SECOND, reason: "readBudget" });
    expect(await governor.acquireRead("getMachineAction", T0 + 61.5 * SECOND)).toEqual({ kind: "granted" });
  });

  it("honours the headroom setting and the per-minute setting", async () => {
    expect(
      (await readMany(testGovernor({ settings: { headroomPercent: 0 } }).governor, "cancel", 101, T0)).filter((k) => k === "granted"),
    ).toHaveLength(100);
    expect(
      (await readMany(testGovernor({ settings: { readsPerMinute: 20, headroomPercent: 50 } }).governor, "cancel", 11, T0)).filter(
        (k) => k === "granted",
      ),
    ).toHaveLength(10);
  });

  it("keeps each endpoint's budget apart", async () => {
    const { governor } = testGovernor();
    await readMany(governor, "downloadLink", 90, T0);
    expect(await governor.acquireRead("downloadLink", T0)).toMatchObject({ kind: "wait" });
    for (const endpoint of ["getMachineAction", "listMachineActions", "cancel"] as const) {
      expect(await governor.acquireRead(endpoint, T0)).toEqual({ kind: "granted" });
    }
  });

  it("grants 1,350 reads an hour by default, then waits until the oldest minute leaves the hour", async () => {
    const { governor } = testGovernor();
    // 15 batches of 90, each after the previous one has left the minute window.
    for (let batch = 0; batch < 15; batch++) {
      expect(
        (await readMany(governor, "listMachineActions", 90, T0 + batch * 62 * SECOND + 2 * SECOND)).every((k) => k === "granted"),
      ).toBe(true);
    }
    const now = T0 + 20 * MINUTE;
    // The first minute's bucket [T0, T0 + 1 min) leaves the hour (plus the margin) at T0 + 61 min + 0.5 s; no wait
    // answered is longer than 10 minutes (half the lease), the caller asks again.
    expect(await governor.acquireRead("listMachineActions", now)).toEqual({ kind: "wait", waitMs: 10 * MINUTE, reason: "readBudget" });
    expect(await governor.acquireRead("listMachineActions", T0 + 61 * MINUTE)).toEqual({
      kind: "wait",
      waitMs: 0.5 * SECOND,
      reason: "readBudget",
    });
    expect(await governor.acquireRead("listMachineActions", T0 + 61 * MINUTE + 0.5 * SECOND)).toEqual({ kind: "granted" });
  });

  it("never lets a sliding minute or hour hold more than the budget, whatever the arrival times", async () => {
    const { governor } = testGovernor();
    const random = seededRandom(11);
    const granted: number[] = [];
    let now = T0 + 123;
    // About 4 reads a second asked for two hours: far above both budgets.
    for (let i = 0; i < 30_000; i++) {
      now += Math.floor(random() * 500);
      const answer = await governor.acquireRead("getMachineAction", now);
      if (answer.kind === "granted") granted.push(now);
      else expect(answer.kind).toBe("wait");
    }
    expect(busiestWindow(granted, MINUTE)).toBeLessThanOrEqual(90);
    expect(busiestWindow(granted, 60 * MINUTE)).toBeLessThanOrEqual(1_350);
    // And the budgets are used, not merely respected.
    expect(busiestWindow(granted, 60 * MINUTE)).toBeGreaterThan(1_200);
  });

  it("backs the whole tenant off an endpoint after a 429 until its Retry-After, that endpoint only", async () => {
    const { governor } = testGovernor();
    await governor.reportThrottled("getMachineAction", 30 * SECOND, T0);
    expect(await governor.acquireRead("getMachineAction", T0 + 10 * SECOND)).toEqual({
      kind: "wait",
      waitMs: 20 * SECOND,
      reason: "backoff",
    });
    expect(await governor.acquireRead("downloadLink", T0 + 10 * SECOND)).toEqual({ kind: "granted" });
    expect(await governor.acquireRead("getMachineAction", T0 + 30 * SECOND)).toEqual({ kind: "granted" });
  });

  it("renews the poller's session lease with the read, even when the read must wait", async () => {
    const { governor } = testGovernor();
    await governor.acquireSubmission("h1", T0);
    await readMany(governor, "getMachineAction", 90, T0 + MINUTE);
    const answer = await governor.acquireRead("getMachineAction", T0 + MINUTE, { renewSessionOf: "h1" });
    expect(answer).toMatchObject({ kind: "wait", renewal: { kind: "renewed", until: T0 + 21 * MINUTE } });
  });
});
