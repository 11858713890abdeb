/**
 * Issue 13, items 4 to 6 end to end on the virtual clock: what a manifest holds beside MDE's
 * action, the audit trail of starts, reads and cancellations, and the sweep that records a
 * collection terminated through the Durable API.
 */
import { invokeFunction, timerInfo } from "../../devhost";
import type { AppServices } from "../../app";
import type { Manifest } from "../../shared/contract";
import { readAuditRecords, type AuditTrail } from "../../shared/evidence/auditTrail";
import { HOUR, machine, MINUTE, startCollectorHarness, type CollectorHarness } from "../support/collectorHarness";

const GET_FILE = { type: "GetFile", params: [{ key: "Path", value: "C:\\temp\\a.txt" }] };
const TOKEN_SHAPE = /eyJ[A-Za-z0-9_-]{10,}/;

let h: CollectorHarness;
/** While true, every audit append fails (a storage outage of the trail). */
let auditDown = false;
/** While set, the governor answers every read with this wait (a tenant whose read budget is spent). */
let governorWaitMs: number | undefined;
/** The reads asked of the governor, by endpoint, in order. */
const governedReads: string[] = [];

function withTestDoubles(services: AppServices): AppServices {
  const real = services.audit!;
  const audit: AuditTrail = {
    append: async (record) => {
      if (auditDown) throw new Error("storage unavailable");
      return real.append(record);
    },
  };
  const governor = services.governor!;
  const observed: NonNullable<AppServices["governor"]> = {
    acquireSubmission: (...args) => governor.acquireSubmission(...args),
    releaseSession: (...args) => governor.releaseSession(...args),
    renewSession: (...args) => governor.renewSession(...args),
    reportThrottled: (...args) => governor.reportThrottled(...args),
    observeSessions: (...args) => governor.observeSessions(...args),
    acquireRead: async (endpoint, ...rest) => {
      governedReads.push(endpoint);
      if (governorWaitMs !== undefined) return { kind: "wait", waitMs: governorWaitMs, reason: "readBudget" };
      return governor.acquireRead(endpoint, ...rest);
    },
  };
  return { ...services, audit, governor: observed };
}

beforeAll(async () => {
  h = await startCollectorHarness({ wrapServices: withTestDoubles });
});
afterAll(async () => {
  await h.stop();
});

const sweep = () => invokeFunction("collectionSweep", timerInfo({ now: h.clock.now() }), { durable: h.api, triggerType: "timerTrigger" });
const audit = (instanceId: string) => readAuditRecords(h.container, h.config.evidence.prefix, instanceId);

describe("the manifest beside MDE's action", () => {
  it("holds the action as MDE returned it, the collector's build, the invocation ids and its own times", async () => {
    const m = machine();
    h.simulator.addMachine(m);
    const id = ((await h.start({ machineId: m.machineId, commands: [GET_FILE] })).jsonBody as { id: string }).id;
    const summary = await h.finish(id);
    const manifest = await h.readManifest(summary.manifest!.blobName);
    expect(manifest.machineActionAsReturned).toMatchObject({ id: summary.actionId, requestSource: "PublicApi", status: "Succeeded" });
    expect(manifest.collector).toEqual({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      commit: expect.stringMatching(/^([0-9a-f]{40}|unknown)$/),
      manifestInvocationId: expect.any(String),
      manifestWrittenAt: h.clock.now().toISOString(),
    });
    const evidence = manifest.commands[0]!.evidence!;
    expect(evidence.invocationId).toEqual(expect.any(String));
    expect(evidence.invocationId).not.toBe(manifest.collector!.manifestInvocationId);
    // Storage's commit time (Azurite's wall clock here) beside the collector's virtual one and MDE's.
    expect(Number.isNaN(Date.parse(evidence.committedAt))).toBe(false);
    expect(manifest.machineAction?.commands[0]?.endTime).toEqual(expect.any(String));
  });
});

describe("the audit trail", () => {
  it("records who started, read and cancelled the collection, from where, with no token in it", async () => {
    const m = machine({ onlineAfterMs: 2 * HOUR });
    h.simulator.addMachine(m);
    const forwarded = { "x-forwarded-for": "203.0.113.7:51234, 10.0.0.1" };
    const id = ((await h.start({ machineId: m.machineId, commands: [GET_FILE] }, forwarded)).jsonBody as { id: string }).id;
    await h.engine.runUntilIdle({ maxVirtualTimeMs: MINUTE });
    expect((await h.status(id, forwarded)).status).toBe(200);
    expect((await h.cancel(id, { reason: "wrong host" }, forwarded)).status).toBe(202);
    await h.finish(id);

    const { records, problems } = await audit(id);
    expect(problems).toEqual([]);
    expect(records.map((r) => r.action)).toEqual(["start", "read", "cancel"]);
    for (const r of records) {
      expect(r).toMatchObject({
        instanceId: id,
        clientIp: "203.0.113.7",
        caller: { objectId: expect.any(String), name: expect.any(String) },
      });
      expect(JSON.stringify(r)).not.toMatch(TOKEN_SHAPE);
      expect(JSON.stringify(r)).not.toMatch(/sig=|authorization|bearer/i);
    }
    expect(records[2]!.detail).toBe("wrong host");
  });

  it("fails closed for start and cancel when the trail cannot be written, and open (logged) for reads", async () => {
    const m = machine({ onlineAfterMs: 2 * HOUR });
    h.simulator.addMachine(m);
    const id = ((await h.start({ machineId: m.machineId, commands: [GET_FILE] })).jsonBody as { id: string }).id;
    await h.engine.runUntilIdle({ maxVirtualTimeMs: MINUTE });
    auditDown = true;
    try {
      const other = machine();
      h.simulator.addMachine(other);
      const refused = await h.start({ machineId: other.machineId, commands: [GET_FILE] });
      expect(refused).toMatchObject({ status: 503, jsonBody: { error: { code: "AuditUnavailable" } } });
      expect(h.simulator.actions().filter((a) => a.machineId === other.machineId)).toEqual([]);
      expect(
        h.engine.listInstances({}).filter((s) => (s.input as { request?: { machineId?: string } })?.request?.machineId === other.machineId),
      ).toEqual([]);
      expect((await h.cancel(id, { reason: "x" })).status).toBe(503);
      expect((await h.status(id)).status).toBe(200);
    } finally {
      auditDown = false;
    }
    expect(((await h.status(id)).jsonBody as { phase: string }).phase).not.toBe("cancelled");
    expect((await audit(id)).records.map((r) => r.action)).toEqual(["start", "read"]);
    await h.cancel(id, { reason: "done" });
    await h.finish(id);
  });
});

describe("collectionSweep", () => {
  it("cancels the MDE action of a terminated collection and writes a signed manifest saying so, once", async () => {
    const m = machine({ onlineAfterMs: 2 * HOUR });
    h.simulator.addMachine(m);
    const id = ((await h.start({ machineId: m.machineId, commands: [GET_FILE] })).jsonBody as { id: string }).id;
    await h.engine.runUntilIdle({ maxVirtualTimeMs: MINUTE });
    const { actionId } = (await h.status(id)).jsonBody as { actionId: string };
    expect(h.simulator.actions().find((a) => a.id === actionId)?.status).toBe("Pending");
    h.engine.terminate(id, "operator stopped it");
    expect(await h.blobsOf(m.machineId)).toEqual([]);

    await sweep();
    const prefix = `${h.config.evidence.prefix}/${m.machineId}/${actionId}`;
    expect(await h.blobsOf(m.machineId)).toEqual([`${prefix}/manifest.json`, `${prefix}/manifest.signature.json`]);
    expect(h.simulator.actions().find((a) => a.id === actionId)?.status).toBe("Cancelled");
    const manifest: Manifest = await h.readManifest(`${prefix}/manifest.json`);
    expect(manifest).toMatchObject({
      instanceId: id,
      outcome: "Terminated",
      outcomeReason: expect.stringContaining("operator stopped it"),
      complete: true,
      machineAction: { id: actionId, status: "Cancelled" },
      sweep: { runtimeStatus: "Terminated", cancelAction: "the MDE action was cancelled by the sweep" },
      collector: { manifestInvocationId: expect.any(String) },
    });
    expect(manifest.commands[0]).toMatchObject({ status: expect.not.stringMatching(/^Completed$/) });

    const before = (await h.container.getBlockBlobClient(`${prefix}/manifest.json`).downloadToBuffer()).toString("utf8");
    const cancels = h.simulator.actions().filter((a) => a.id === actionId).length;
    await sweep();
    expect(await h.blobsOf(m.machineId)).toEqual([`${prefix}/manifest.json`, `${prefix}/manifest.signature.json`]);
    expect((await h.container.getBlockBlobClient(`${prefix}/manifest.json`).downloadToBuffer()).toString("utf8")).toBe(before);
    expect(h.simulator.actions().filter((a) => a.id === actionId)).toHaveLength(cancels);
  });

  it("asks the governor before it reads or cancels the action, and leaves the instance for the next sweep while told to wait", async () => {
    const m = machine({ onlineAfterMs: 2 * HOUR });
    h.simulator.addMachine(m);
    const id = ((await h.start({ machineId: m.machineId, commands: [GET_FILE] })).jsonBody as { id: string }).id;
    await h.engine.runUntilIdle({ maxVirtualTimeMs: MINUTE });
    const { actionId } = (await h.status(id)).jsonBody as { actionId: string };
    h.engine.terminate(id, "operator stopped it");

    governedReads.length = 0;
    governorWaitMs = 60_000;
    try {
      await sweep();
    } finally {
      governorWaitMs = undefined;
    }
    expect(governedReads).toContain("getMachineAction");
    expect(h.simulator.actions().find((a) => a.id === actionId)?.status).toBe("Pending");
    expect(await h.blobsOf(m.machineId)).toEqual([]);

    governedReads.length = 0;
    await sweep();
    expect(governedReads).toEqual(expect.arrayContaining(["getMachineAction", "cancel"]));
    expect(h.simulator.actions().find((a) => a.id === actionId)?.status).toBe("Cancelled");
    expect(await h.blobsOf(m.machineId)).toContain(`${h.config.evidence.prefix}/${m.machineId}/${actionId}/manifest.json`);
  });

  it("leaves collections that finished with their own manifest alone", async () => {
    const m = machine();
    h.simulator.addMachine(m);
    const id = ((await h.start({ machineId: m.machineId, commands: [GET_FILE] })).jsonBody as { id: string }).id;
    await h.finish(id);
    const blobs = await h.blobsOf(m.machineId);
    await sweep();
    expect(await h.blobsOf(m.machineId)).toEqual(blobs);
  });
});
