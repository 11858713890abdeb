import type { AppServices } from "../../app";
import { MdeApiError } from "../../shared/errors";
import type { MdeApi } from "../../shared/mde/api";
import { HOUR, machine, MINUTE, startCollectorHarness, type CollectorHarness } from "../support/collectorHarness";
import { bearer } from "../support/identity";

/**
 * Events and throttling that arrive while an activity runs: a cancel raised during a poll must not
 * be swallowed, and a 429 between two chunks of a large result must not throw away the chunks
 * already staged.
 */
const MiB = 1024 * 1024;
const GET_FILE = { type: "GetFile", params: [{ key: "Path", value: "C:\\Windows\\Temp\\big.bin" }] };

/** Hooks the test sets per action id: run something during the n-th poll, throttle the n-th link request. */
const hooks = { duringPoll: new Map<string, { n: number; run: () => void }>(), throttleLink: new Map<string, number>() };
const calls = { polls: new Map<string, number>(), links: new Map<string, number>() };
const bump = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1).get(key)!;

function instrument(services: AppServices): AppServices {
  const real = services.mde;
  const mde: MdeApi = {
    runLiveResponse: (...a) => real.runLiveResponse(...a),
    listMachineActions: (...a) => real.listMachineActions(...a),
    cancelMachineAction: (...a) => real.cancelMachineAction(...a),
    listMachines: (...a) => real.listMachines(...a),
    getAlert: (...a) => real.getAlert(...a),
    async getMachineAction(actionId, options) {
      const n = bump(calls.polls, actionId);
      const hook = hooks.duringPoll.get(actionId);
      if (hook && hook.n === n) hook.run();
      return real.getMachineAction(actionId, options);
    },
    async getLiveResponseResultDownloadLink(actionId, index, options) {
      const n = bump(calls.links, actionId);
      if (hooks.throttleLink.get(actionId) === n)
        throw new MdeApiError({ statusCode: 429, code: "TooManyRequests", message: "slow down", retryAfterInMs: 5_000 });
      return real.getLiveResponseResultDownloadLink(actionId, index, options);
    },
  };
  return { ...services, mde };
}

let h: CollectorHarness;
beforeAll(async () => {
  h = await startCollectorHarness({
    settings: { EVIDENCE_CHUNK_MIB: "8", COLLECTIONS_MAX_IN_FLIGHT_PER_CALLER: "2" },
    wrapServices: instrument,
    // These cases count the collection's own reads of MDE: the batched poller stays off, so every
    // fallback wait ends in a read of MDE (a watched copy goes stale after two missed rounds).
    actionPoller: false,
  });
});
afterAll(async () => {
  await h.stop();
});

async function start(machineId: string): Promise<string> {
  const res = await h.start({ machineId, commands: [GET_FILE] });
  return (res.jsonBody as { id: string }).id;
}

it("honours a cancel raised while a status poll is running, after earlier waits", async () => {
  const m = machine({ onlineAfterMs: 2 * HOUR });
  h.simulator.addMachine(m);
  const id = await start(m.machineId);
  await h.engine.runUntilIdle({ maxVirtualTimeMs: MINUTE });
  const actionId = (await h.status(id)).jsonBody as { actionId: string };
  // The third poll comes after two waits whose timers won: the cancel arrives mid-activity.
  const cancellation = {
    requestedBy: "analyst@contoso.com (0b9c1d2e-3f40-4152-8a6b-7c8d9e0f1a2b)",
    requestedByObjectId: "0b9c1d2e-3f40-4152-8a6b-7c8d9e0f1a2b",
    reason: "wrong host",
    requestedAt: "2026-03-02T09:30:00.000Z",
  };
  hooks.duringPoll.set(actionId.actionId, { n: 3, run: () => h.engine.raiseEvent(id, "CancelCollection", cancellation) });
  const summary = await h.finish(id);
  // Three polls, then the re-read after cancelling (a cancel can race with completion).
  expect(calls.polls.get(actionId.actionId)).toBe(4);
  expect(summary.outcome).toBe("Cancelled");
  expect(h.simulator.actions().find((a) => a.id === actionId.actionId)?.status).toBe("Cancelled");
  const manifest = await h.readManifest(summary.manifest!.blobName);
  expect(manifest.cancellation).toEqual(cancellation);
});

it("keeps the chunks already staged when MDE throttles the link for the next chunk", async () => {
  const m = machine({ getFileSizeBytes: 20 * MiB, getFileCompress: "stored" });
  h.simulator.addMachine(m);
  const id = await start(m.machineId);
  await h.engine.runUntilIdle({ maxVirtualTimeMs: 5_000 });
  const actionId = ((await h.status(id)).jsonBody as { actionId: string }).actionId;
  hooks.throttleLink.set(actionId, 2);
  const summary = await h.finish(id);
  expect(summary).toMatchObject({ outcome: "Completed", complete: true });
  const expected = await h.simulator.expectedResult(actionId, 0);
  expect(summary.evidence[0].sha256).toBe(expected.sha256);
  // Three 8 MiB chunks and the one throttled request: a restart from byte 0 would need three more.
  expect(calls.links.get(actionId)).toBe(4);
});

it("answers 429 with Retry-After once a caller has as many collections in flight as allowed, and starts again when one ends", async () => {
  const offline = () => {
    const m = machine({ onlineAfterMs: null });
    h.simulator.addMachine(m);
    return m.machineId;
  };
  const first = await start(offline());
  const second = await start(offline());
  const refused = await h.start({ machineId: offline(), commands: [GET_FILE] });
  expect(refused.status).toBe(429);
  expect(refused.headers["retry-after"]).toBe("60");
  expect(refused.jsonBody).toMatchObject({
    error: { code: "TooManyCollections", message: expect.stringContaining("COLLECTIONS_MAX_IN_FLIGHT_PER_CALLER") },
  });
  // Another caller has its own allowance.
  expect(
    (await h.start({ machineId: offline(), commands: [GET_FILE] }, { authorization: await bearer({ name: "second-analyst@localhost" }) }))
      .status,
  ).toBe(202);

  expect((await h.cancel(first, { reason: "make room" })).status).toBe(202);
  await h.finish(first);
  const third = await h.start({ machineId: offline(), commands: [GET_FILE] });
  expect(third.status).toBe(202);
  for (const id of [second, (third.jsonBody as { id: string }).id]) {
    await h.cancel(id, { reason: "done" });
    await h.finish(id);
  }
});

it("ignores a malformed cancel event raised past the endpoint (the orchestrator checks its shape), and still honours a real cancel after it", async () => {
  const m = machine({ onlineAfterMs: null });
  h.simulator.addMachine(m);
  const id = await start(m.machineId);
  await h.engine.runUntilIdle({ maxVirtualTimeMs: 10 * MINUTE });
  // What a holder of the Durable system key could raise directly: fields of the wrong type, unknown fields.
  h.engine.raiseEvent(id, "CancelCollection", { requestedBy: { name: "x" }, reason: "forged", requestedAt: "2026-03-02T09:00:00Z" });
  h.engine.raiseEvent(id, "CancelCollection", "cancel");
  await h.engine.runUntilIdle({ maxVirtualTimeMs: 2 * HOUR });
  expect((await h.status(id)).jsonBody).toMatchObject({ runtimeStatus: "Running", phase: "queuedOnDevice" });

  expect((await h.cancel(id, { reason: "wrong device" })).status).toBe(202);
  const summary = await h.finish(id);
  expect(summary.outcome).toBe("Cancelled");
  const manifest = await h.readManifest(summary.manifest!.blobName);
  expect(manifest.cancellation).toMatchObject({ requestedBy: expect.stringContaining("developer@localhost"), reason: "wrong device" });
  expect(JSON.stringify(manifest)).not.toContain("forged");
});
