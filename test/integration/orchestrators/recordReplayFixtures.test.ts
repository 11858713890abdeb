/**
 * NOT part of the normal run: records the replay fixtures that replayCompat.test.ts replays. Run it
 * only against a COMMITTED orchestrator whose instances may be in flight, to add fixtures for it:
 *
 *   RECORD_REPLAY_FIXTURES=1 npx jest test/integration/orchestrators/recordReplayFixtures.test.ts
 *
 * Never re-record existing fixtures after changing the orchestrator: they are the histories of
 * the old code that the new code must still replay.
 *
 * Each scenario drives the real app on the virtual clock against the MDE simulator and Azurite,
 * with faults injected around the MDE client and the evidence store, so that together the
 * scenarios reach every place the orchestrator yields.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { findFunction } from "../../../devhost";
import { buildCollectionPolicy } from "../../../shared/timing";
import { CANCEL_EVENT, COLLECT_EVIDENCE_ORCHESTRATOR, type CollectEvidenceInput } from "../../../shared/contract";
import type { LiveResponseCommand } from "../../../shared/mde/models";
import { HOUR, machine, MINUTE, startCollectorHarness, type CollectorHarness } from "../../support/collectorHarness";
import { FaultInjector, type Faults } from "../../support/replay/recordingFaults";
import { formatFixture, REPLAY_FIXTURE_DIR, type ReplayFixture } from "../../support/replay/replayFixture";
import { HandlerRecorder } from "../../support/replay/replayRecorder";

const MiB = 1024 * 1024;
const RUN_SCRIPT: LiveResponseCommand = { type: "RunScript", params: [{ key: "ScriptName", value: "triage.ps1" }] };
const GET_FILE: LiveResponseCommand = { type: "GetFile", params: [{ key: "Path", value: "C:\\Windows\\Temp\\triage.zip" }] };

/** The generation of collectEvidence's yields these recordings capture (the file names of earlier ones have none). */
const FIXTURE_GENERATION = "watched";

const faults = new FaultInjector();
const recording = process.env.RECORD_REPLAY_FIXTURES ? describe : describe.skip;

recording("record replay fixtures of collectEvidence", () => {
  let h: CollectorHarness;
  let recorder: HandlerRecorder;
  let recordedFrom: string;

  beforeAll(async () => {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: path.join(__dirname, "../../.."), encoding: "utf8" }).trim();
    if (git("status", "--porcelain", "--", "orchestrators"))
      throw new Error("orchestrators/ differs from HEAD: fixtures must come from committed code");
    recordedFrom = git("rev-parse", "HEAD");
    // A 6 h queue window keeps the never-online scenarios to a few executions; 8 MiB chunks make 20 MiB three chunks.
    h = await startCollectorHarness({
      settings: { EVIDENCE_CHUNK_MIB: "8", COLLECTION_QUEUE_WINDOW_MINUTES: "360" },
      wrapServices: (services) => faults.wrap(services),
    });
    recorder = new HandlerRecorder(findFunction(COLLECT_EVIDENCE_ORCHESTRATOR, "orchestrationTrigger")!);
  });
  afterAll(async () => {
    recorder?.restore();
    await h?.stop();
  });

  function save(name: string, scenario: string, instanceIds: string[]): void {
    const fixture: ReplayFixture = {
      orchestrator: COLLECT_EVIDENCE_ORCHESTRATOR,
      scenario,
      recordedFrom,
      executions: recorder.executionsOf(instanceIds),
    };
    // "wx": an existing fixture is never overwritten; it records code that instances in flight may still run.
    // Each generation of the orchestrator's yields has its own tag: "watched" since batched status polling.
    const file = `${fixture.orchestrator}.${FIXTURE_GENERATION}.${name}.json`;
    writeFileSync(path.join(REPLAY_FIXTURE_DIR, file), formatFixture(fixture), { flag: "wx" });
    const events = fixture.executions.map((e) => e.history.length);
    console.log(`${name}: ${fixture.executions.length} executions, history events ${events.join("/")}`);
  }

  async function startWebhook(machineId: string, commands: unknown[]): Promise<string> {
    const res = await h.start({ machineId, commands, comment: "Replay fixture" });
    expect(res.status).toBe(202);
    return (res.jsonBody as { id: string }).id;
  }

  function onMachine(f: Faults = {}, overrides: Parameters<typeof machine>[0] = {}) {
    const m = machine(overrides);
    h.simulator.addMachine(m);
    faults.set(m.machineId, f);
    return m;
  }

  it("online device: RunScript and a 20 MiB GetFile copied in three chunks", async () => {
    const m = onMachine({}, { getFileSizeBytes: 20 * MiB, getFileCompress: "stored" });
    const id = await startWebhook(m.machineId, [RUN_SCRIPT, GET_FILE]);
    expect(await h.finish(id)).toMatchObject({ outcome: "Completed", complete: true });
    save("online-chunked", "online device, RunScript + 20 MiB GetFile in 8 MiB chunks, Completed", [id]);
  });

  it("device offline 5 h: continueAsNew after 20 waits, then collects", async () => {
    const m = onMachine({}, { onlineAfterMs: 5 * HOUR });
    const id = await startWebhook(m.machineId, [RUN_SCRIPT, GET_FILE]);
    expect(await h.finish(id)).toMatchObject({ outcome: "Completed", complete: true });
    expect(h.engine.stats(id).executions).toBeGreaterThan(1);
    save("offline-continue-as-new", "device online after 5 h: two executions (continueAsNew), Completed", [id]);
  });

  it("throttled submission (no Retry-After), poll and chunk link", async () => {
    const m = onMachine(
      { submitThrottles: 1, pollThrottles: [1], linkThrottles: [2] },
      { getFileSizeBytes: 20 * MiB, getFileCompress: "stored" },
    );
    const id = await startWebhook(m.machineId, [GET_FILE]);
    expect(await h.finish(id)).toMatchObject({ outcome: "Completed", complete: true });
    save("throttled", "429 on the submission (policy fallback delay), on the first poll and on the second chunk's link, Completed", [id]);
  });

  it("device busy with the collector's own earlier session, then free", async () => {
    const m = onMachine({}, { onlineAfterMs: HOUR });
    const first = await startWebhook(m.machineId, [RUN_SCRIPT]);
    await h.engine.runUntilIdle({ maxVirtualTimeMs: MINUTE });
    const second = await startWebhook(m.machineId, [GET_FILE]);
    expect(await h.finish(second)).toMatchObject({ outcome: "Completed" });
    expect(await h.finish(first)).toMatchObject({ outcome: "Completed" });
    save("device-busy", "second collection on a device busy with the first (ActiveRequestAlreadyExists) until it ends, both Completed", [
      first,
      second,
    ]);
  });

  it("device busy with another session until the deadline", async () => {
    const m = onMachine({}, { onlineAfterMs: null });
    await faults.realMde.runLiveResponse(m.machineId, { commands: [RUN_SCRIPT], comment: "someone else's session" });
    const id = await startWebhook(m.machineId, [GET_FILE]);
    expect(await h.finish(id)).toMatchObject({ outcome: "DeviceBusy" });
    save("device-busy-deadline", "device busy with a session outside the collector until the deadline: DeviceBusy, nothing submitted", [
      id,
    ]);
  });

  it("cancel during a wait, with the cancel request throttled once", async () => {
    const m = onMachine({ cancelThrottles: 1 }, { onlineAfterMs: null });
    const id = await startWebhook(m.machineId, [RUN_SCRIPT, GET_FILE]);
    await h.engine.runUntilIdle({ maxVirtualTimeMs: 30 * MINUTE });
    expect((await h.cancel(id, { reason: "wrong device", requestedBy: "analyst@contoso.com" })).status).toBe(202);
    expect(await h.finish(id)).toMatchObject({ outcome: "Cancelled" });
    save("cancel-during-wait", "cancel raised during a poll wait; MDE throttles the cancel once; Cancelled", [id]);
  });

  it("deadline reached for a device that never comes online", async () => {
    const m = onMachine({}, { onlineAfterMs: null });
    const id = await startWebhook(m.machineId, [RUN_SCRIPT, GET_FILE]);
    expect(await h.finish(id)).toMatchObject({ outcome: "TimedOut" });
    save("deadline", "device never online: the collector cancels at its deadline; TimedOut", [id]);
  });

  it("staggered start, then a staggered start cancelled before it submits", async () => {
    const ids: string[] = [];
    for (const cancel of [false, true]) {
      const m = onMachine();
      const now = h.clock.now();
      const input: CollectEvidenceInput = {
        request: {
          machineId: m.machineId,
          commands: [RUN_SCRIPT],
          comment: "Nightly triage",
          trigger: { kind: "schedule", plan: "nightly", scheduledFor: now.toISOString(), playbook: "triage" },
        },
        policy: buildCollectionPolicy(h.config.collection, now, new Date(now.getTime() + 10 * MINUTE)),
      };
      const id = await h.engine.startNew(COLLECT_EVIDENCE_ORCHESTRATOR, { input });
      if (cancel) {
        await h.engine.runUntilIdle({ maxVirtualTimeMs: MINUTE });
        h.engine.raiseEvent(id, CANCEL_EVENT, {
          requestedBy: "scheduler@contoso.com",
          reason: "plan disabled",
          requestedAt: h.clock.now().toISOString(),
        });
      }
      expect(await h.finish(id)).toMatchObject({ outcome: cancel ? "Cancelled" : "Completed" });
      ids.push(id);
    }
    save("staggered-start", "scheduled collection waiting 10 min for its start: one Completed, one cancelled during the wait", ids);
  });

  it("MDE outage on status polls and on the result link beyond the activity's retries", async () => {
    const m = onMachine({ pollOutage: { from: 2, calls: 8 }, linkFailures: { from: 1, calls: 4 } });
    const id = await startWebhook(m.machineId, [RUN_SCRIPT]);
    expect(await h.finish(id)).toMatchObject({ outcome: "Completed", complete: true });
    save("mde-outage", "two rounds of failed polls (503 through the activity retries) and one failed collect round, Completed", [id]);
  });

  it("submission whose answer is lost, then a cancel: the action is found and cancelled", async () => {
    const f: Faults = { submitAnswersLost: true };
    const m = onMachine(f, { onlineAfterMs: null });
    const id = await startWebhook(m.machineId, [RUN_SCRIPT]);
    await h.engine.runUntilIdle({ maxVirtualTimeMs: 2 * MINUTE });
    expect(((await h.status(id)).jsonBody as { phase: string }).phase).toBe("retrying");
    f.submitAnswersLost = false;
    h.engine.raiseEvent(id, CANCEL_EVENT, {
      requestedBy: "analyst@contoso.com",
      reason: "duplicate",
      requestedAt: h.clock.now().toISOString(),
    });
    const summary = await h.finish(id);
    expect(summary).toMatchObject({ outcome: "Cancelled" });
    expect(summary.actionId).not.toBeNull();
    save(
      "lost-submission-cancel",
      "MDE accepts the submission but every answer is lost; cancel while retrying adopts and cancels the action",
      [id],
    );
  });

  it("manifest write failing through one round of activity retries", async () => {
    const m = onMachine({ manifestFailures: 4 });
    const id = await startWebhook(m.machineId, [RUN_SCRIPT]);
    expect(await h.finish(id)).toMatchObject({ outcome: "Completed" });
    save("manifest-retry", "the evidence store refuses the manifest four times (one round), the second round writes it; Completed", [id]);
  });

  it("cancel raised while a status poll runs; the action had already finished; the first link is throttled", async () => {
    const f: Faults = { linkThrottles: [1] };
    const m = onMachine(f, { commandDurationMs: 1_000 });
    const id = await startWebhook(m.machineId, [RUN_SCRIPT, GET_FILE]);
    f.duringPoll = {
      n: 1,
      run: () =>
        h.engine.raiseEvent(id, CANCEL_EVENT, {
          requestedBy: "analyst@contoso.com",
          reason: "too late",
          requestedAt: h.clock.now().toISOString(),
        }),
    };
    expect(await h.finish(id)).toMatchObject({ outcome: "Completed", complete: true });
    save(
      "cancel-during-poll",
      "cancel raised during a poll of an action MDE had just finished; results collected after the cancel through a throttled link; Completed",
      [id],
    );
  });

  it("giving up: MDE never recovers, the manifest cannot be written, results that cannot be copied", async () => {
    const outage = onMachine({ pollOutage: { from: 2, calls: 1_000 } });
    const failing = await startWebhook(outage.machineId, [RUN_SCRIPT]);
    expect(await h.finish(failing)).toMatchObject({ outcome: "Failed" });

    const storage = onMachine({ manifestFailures: 1_000 });
    const broken = await startWebhook(storage.machineId, [RUN_SCRIPT]);
    expect(await h.engine.waitForCompletion(broken)).toMatchObject({ runtimeStatus: "Failed" });

    const sources = onMachine({ linkRejections: [1], copyRestarts: 3 });
    const partial = await startWebhook(sources.machineId, [RUN_SCRIPT, GET_FILE]);
    expect(await h.finish(partial)).toMatchObject({ outcome: "Completed", complete: false });
    save(
      "giving-up",
      "status polls fail for good (Failed after 7 rounds); the manifest write fails for good (the instance fails); one result's link is refused and another's source keeps changing (both recorded as errors)",
      [failing, broken, partial],
    );
  });

  it("rejected submission and a failing command", async () => {
    const unknown = machine();
    faults.set(unknown.machineId, {});
    const rejected = await startWebhook(unknown.machineId, [RUN_SCRIPT]);
    expect(await h.finish(rejected)).toMatchObject({ outcome: "Rejected" });
    const m = onMachine({}, { failCommandIndex: 0 });
    const failed = await startWebhook(m.machineId, [RUN_SCRIPT, GET_FILE]);
    expect(await h.finish(failed)).toMatchObject({ outcome: "Failed" });
    save("rejected-and-failed", "MDE refuses the submission (unknown machine): Rejected; a command fails on the device: Failed", [
      rejected,
      failed,
    ]);
  });
});
