import "../../support/toyApp/toyApp";
import { DurableEngine, getRegisteredFunctions, VirtualClock } from "../../../devhost";
import { echoInputs, flakyAttempts } from "../../support/toyApp/toyActivities";

const START = "2026-03-01T08:00:00.000Z";
const DAY = 24 * 60 * 60 * 1000;

function setup() {
  const clock = new VirtualClock(START);
  return { clock, engine: new DurableEngine({ clock }) };
}

describe("functions-core stub", () => {
  it("captures the toy app's registrations with their trigger types", () => {
    const byName = Object.fromEntries(getRegisteredFunctions().map((f) => [f.name, f.triggerType]));
    expect(byName).toMatchObject({
      toyHello: "activityTrigger",
      toyChain: "orchestrationTrigger",
      toyStart: "httpTrigger",
    });
  });
});

describe("DurableEngine on a virtual clock", () => {
  it("runs an activity chain through the real replay code", async () => {
    const { engine } = setup();
    const id = await engine.startNew("toyChain", { instanceId: "chain-1" });
    expect(engine.getStatus(id)?.runtimeStatus).toBe("Pending");
    const status = await engine.waitForCompletion(id);
    expect(status).toMatchObject({ runtimeStatus: "Completed", output: ["Hello Tokyo", "Hello Seattle", "Hello London"] });
    // One episode per delivered event: ExecutionStarted + three TaskCompleted.
    expect(engine.stats(id)).toMatchObject({ episodes: 4, executions: 1, activityCalls: { toyHello: 3 } });
  });

  it("fans out with Task.all and fans in", async () => {
    const { engine } = setup();
    const id = await engine.startNew("toyFanOut", { input: [1, 2, 3, 4] });
    await engine.runUntilIdle();
    expect(engine.getStatus(id)).toMatchObject({ runtimeStatus: "Completed", output: 20 });
    expect(engine.stats(id).activityCalls).toEqual({ toyDouble: 4 });
  });

  it("passes activity inputs and results through JSON as the host does", async () => {
    const { engine } = setup();
    echoInputs.length = 0;
    const id = await engine.startNew("toyEchoing");
    const status = await engine.waitForCompletion(id);
    // The library JSON-stringifies string inputs; the worker's try-JSON-parse undoes it.
    expect(echoInputs).toEqual(["plain string", { nested: [1, "two"] }, undefined]);
    expect(status.output).toEqual([
      { received: "plain string", at: "1970-01-01T00:00:00.000Z" },
      { received: { nested: [1, "two"] }, at: "1970-01-01T00:00:00.000Z" },
      // JSON drops the undefined property, as the real host would.
      { at: "1970-01-01T00:00:00.000Z" },
    ]);
  });

  it("fires a 2-day timer by moving the virtual clock, without waiting", async () => {
    const { engine, clock } = setup();
    const started = Date.now();
    const id = await engine.startNew("toyTimer", { input: { delayMs: 2 * DAY } });
    const status = await engine.waitForCompletion(id);
    expect(status.output).toEqual({ start: START, end: "2026-03-03T08:00:00.000Z" });
    expect(clock.now().toISOString()).toBe("2026-03-03T08:00:00.000Z");
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("runs periodic work at its interval while a timer is pending, and never keeps an idle engine running", async () => {
    const { engine, clock } = setup();
    const ticks: string[] = [];
    engine.addPeriodicWork(60 * 60 * 1000, async () => {
      ticks.push(clock.now().toISOString());
    });
    await engine.runUntilIdle();
    expect(ticks).toEqual([]);
    const id = await engine.startNew("toyTimer", { input: { delayMs: 3 * 60 * 60 * 1000 } });
    await engine.waitForCompletion(id);
    // 09:00 and 10:00 before the timer at 11:00; the tick due at 11:00 runs before the timer fires.
    expect(ticks).toEqual(["2026-03-01T09:00:00.000Z", "2026-03-01T10:00:00.000Z", "2026-03-01T11:00:00.000Z"]);
    await engine.runUntilIdle();
    expect(ticks).toHaveLength(3);
  });

  it("splits a 10-day timer into parts no longer than 6 days", async () => {
    const { engine } = setup();
    const id = await engine.startNew("toyLongTimer");
    const status = await engine.waitForCompletion(id);
    expect(status.output).toBe("2026-03-11T08:00:00.000Z");
    // +3 d (10 > 6), +6 d (7 > 6), then the final +10 d.
    expect(engine.stats(id).timersCreated).toBe(3);
  });

  it("lets an external event win a Task.any against a timer and never fires the cancelled timer", async () => {
    const { engine, clock } = setup();
    const id = await engine.startNew("toyApproval");
    await engine.runUntilIdle({ maxVirtualTimeMs: 60 * 60 * 1000 });
    expect(engine.getStatus(id)?.runtimeStatus).toBe("Running");
    expect(engine.pendingTimers()).toHaveLength(1);
    engine.raiseEvent(id, "approve", { by: "alice" });
    await engine.runUntilIdle();
    expect(engine.getStatus(id)).toMatchObject({ runtimeStatus: "Completed", output: { approved: { by: "alice" } } });
    expect(engine.pendingTimers()).toHaveLength(0);
    expect(clock.now().toISOString()).toBe("2026-03-01T09:00:00.000Z");
  });

  it("times out a Task.any when no event arrives", async () => {
    const { engine } = setup();
    const id = await engine.startNew("toyApproval");
    expect((await engine.waitForCompletion(id)).output).toBe("timed out");
  });

  it("delivers an event raised before the orchestrator waits for it", async () => {
    const { engine } = setup();
    const id = await engine.startNew("toyStatus");
    engine.raiseEvent(id, "go", "early");
    const status = await engine.waitForCompletion(id);
    expect(status).toMatchObject({ runtimeStatus: "Completed", output: "early", customStatus: { stage: "done" } });
  });

  it("retries callActivityWithRetry with exponential backoff until the third attempt succeeds", async () => {
    const { engine } = setup();
    const id = await engine.startNew("toyRetry", { instanceId: "retry-1" });
    const status = await engine.waitForCompletion(id);
    expect(status.runtimeStatus).toBe("Completed");
    // Failures after attempt 1 and 2: waits of 1 s then 2 s (first * 2^(n-1)).
    expect(status.output).toEqual({
      first: "Hello before",
      retried: "succeeded on attempt 3",
      after: "Hello after",
      at: "2026-03-01T08:00:03.000Z",
    });
    expect(flakyAttempts.get("retry-1")).toBe(3);
    expect(engine.stats(id)).toMatchObject({ activityCalls: { toyHello: 2, toyFlaky: 3 }, timersCreated: 2 });
  });

  it("keeps task ids in step when retried activities, plain activities and timers share a batch", async () => {
    const { engine } = setup();
    const id = await engine.startNew("toyRetryFanOut", { instanceId: "fan" });
    const status = await engine.waitForCompletion(id);
    expect(status).toMatchObject({
      runtimeStatus: "Completed",
      output: ["succeeded on attempt 3", "Hello middle", "succeeded on attempt 3", "Hello tail"],
    });
    expect(engine.stats(id)).toMatchObject({ activityCalls: { toyFlaky: 6, toyHello: 2 }, timersCreated: 5 });
  });

  it("still fires a losing timer that was not cancelled", async () => {
    const { engine } = setup();
    const id = await engine.startNew("toyForgetfulApproval");
    engine.raiseEvent(id, "approve");
    await engine.runUntilIdle({ maxVirtualTimeMs: 1000 });
    const before = engine.stats(id).episodes;
    expect(engine.pendingTimers()).toHaveLength(1);
    await engine.runUntilIdle({ maxVirtualTimeMs: 2 * 60 * 60 * 1000 });
    expect(engine.stats(id).episodes).toBe(before + 1);
    engine.raiseEvent(id, "second", "ok");
    expect((await engine.waitForCompletion(id)).output).toBe("ok");
  });

  it("fails a retried activity after maxNumberOfAttempts with the activity's message", async () => {
    const { engine } = setup();
    const id = await engine.startNew("toyRetryExhausted");
    const status = await engine.waitForCompletion(id);
    expect(status.runtimeStatus).toBe("Completed");
    expect((status.output as { caught: string }).caught).toContain("boom: always");
    expect(engine.stats(id).activityCalls).toEqual({ toyBoom: 2 });
  });

  it("lets the orchestrator catch an activity failure and go on", async () => {
    const { engine } = setup();
    const id = await engine.startNew("toyCatch");
    const status = await engine.waitForCompletion(id);
    const output = status.output as { caught: string; cleanup: string };
    expect(status.runtimeStatus).toBe("Completed");
    expect(output.caught).toContain("Activity function 'toyBoom' failed: boom: disk full");
    expect(output.cleanup).toBe("Hello cleanup");
  });

  it("reports an uncaught orchestrator error as Failed with the user's message", async () => {
    const { engine } = setup();
    const id = await engine.startNew("toyThrows");
    const status = await engine.waitForCompletion(id);
    expect(status).toMatchObject({ runtimeStatus: "Failed", output: "orchestrator gave up", customStatus: { stage: "about to fail" } });
  });

  it("keeps history bounded with continueAsNew", async () => {
    const { engine, clock } = setup();
    const id = await engine.startNew("toyLoop", { input: { iteration: 1, max: 20 } });
    const status = await engine.waitForCompletion(id);
    expect(status).toMatchObject({ runtimeStatus: "Completed", output: 20, input: { iteration: 20, max: 20 } });
    const stats = engine.stats(id);
    expect(stats.executions).toBe(20);
    expect(stats.activityCalls.toyDouble).toBe(20);
    // Each execution: started+ExecutionStarted, activity, timer, completion: a handful of events, not hundreds.
    expect(stats.maxHistoryEventsPerExecution).toBeLessThanOrEqual(14);
    expect(clock.now().toISOString()).toBe("2026-03-02T04:00:00.000Z");
  });

  it("does not lose events raised while an instance continues as new", async () => {
    const { engine } = setup();
    const id = await engine.startNew("toyEventLoop", { input: 0 });
    engine.raiseEvent(id, "tick", 1);
    engine.raiseEvent(id, "tick", 2);
    engine.raiseEvent(id, "tick", 3);
    const status = await engine.waitForCompletion(id);
    expect(status).toMatchObject({ runtimeStatus: "Completed", output: { seen: 3, last: 3 } });
    expect(engine.stats(id).executions).toBe(3);
  });

  it("hands every episode a fresh copy of the input, as the host deserializes it each time", async () => {
    const { engine } = setup();
    const id = await engine.startNew("toyMutatesInput", { input: { count: 1 } });
    const status = await engine.waitForCompletion(id);
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual([1, 2, 3]);
  });

  it("detects a non-deterministic orchestrator and names the differing action", async () => {
    const { engine } = setup();
    const id = await engine.startNew("toyNonDeterministic");
    const status = await engine.waitForCompletion(id);
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.output).toMatch(/Non-deterministic orchestrator: action #0 was CallActivity 'toyHello'.*now CallActivity 'toyDouble'/);
  });

  it("shows custom status while the instance waits, and history on request", async () => {
    const { engine } = setup();
    const id = await engine.startNew("toyStatus", { input: { who: "me" } });
    await engine.runUntilIdle();
    const status = engine.getStatus(id, { showHistory: true });
    expect(status).toMatchObject({ runtimeStatus: "Running", customStatus: { stage: "waiting" }, input: { who: "me" }, output: null });
    expect(status?.history?.map((e) => e.EventType)).toEqual(["OrchestratorStarted", "ExecutionStarted", "OrchestratorCompleted"]);
  });

  it("terminates, refuses to restart a running id, and purges only terminal instances", async () => {
    const { engine } = setup();
    const id = await engine.startNew("toyStatus", { instanceId: "fixed" });
    await engine.runUntilIdle();
    await expect(engine.startNew("toyStatus", { instanceId: "fixed" })).rejects.toThrow(/already exists/);
    expect(engine.purge(id)).toBe("notTerminal");
    expect(engine.terminate(id, "enough")).toBe(true);
    expect(engine.getStatus(id)).toMatchObject({ runtimeStatus: "Terminated", output: "enough" });
    expect(engine.raiseEvent(id, "go", 1)).toBe(false);
    expect(engine.purge(id)).toBe("purged");
    expect(engine.getStatus(id)).toBeUndefined();
  });

  it("holds messages while suspended and delivers them on resume", async () => {
    const { engine } = setup();
    const id = await engine.startNew("toyStatus");
    await engine.runUntilIdle();
    engine.suspend(id);
    engine.raiseEvent(id, "go", "later");
    await engine.runUntilIdle();
    expect(engine.getStatus(id)?.runtimeStatus).toBe("Suspended");
    engine.resume(id);
    expect(await engine.waitForCompletion(id)).toMatchObject({ runtimeStatus: "Completed", output: "later" });
  });

  it("fails an instance that uses a feature the devhost does not support", async () => {
    const { engine } = setup();
    const id = await engine.startNew("toyUnsupported");
    const status = await engine.waitForCompletion(id);
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.output).toMatch(/CallSubOrchestrator 'toyChain'.*not supported by devhost/);
  });

  it("rejects an unknown orchestrator name", async () => {
    const { engine } = setup();
    await expect(engine.startNew("nope")).rejects.toThrow(/doesn't exist/);
  });
});
