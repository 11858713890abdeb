import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { createInvocationContext, findFunction, silentDevhostLogger } from "../../devhost";
import { DAY, HOUR, machine, MINUTE, startCollectorHarness, type CollectorHarness } from "../support/collectorHarness";
import { bearer } from "../support/identity";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Seed 001's request: a RunScript then a GetFile. */
const seedCommands = [
  {
    type: "RunScript",
    params: [
      { key: "ScriptName", value: "minidump.ps1" },
      { key: "Args", value: "OfficeClickToRun" },
    ],
  },
  { type: "GetFile", params: [{ key: "Path", value: "C:\\windows\\TEMP\\OfficeClickToRun.dmp.zip" }] },
];

let h: CollectorHarness;
beforeAll(async () => {
  h = await startCollectorHarness();
});
afterAll(async () => {
  await h.stop();
});

async function startFor(machineId: string, extra: Record<string, unknown> = {}) {
  const res = await h.start({ machineId, commands: seedCommands, comment: "Investigate suspicious activity", ...extra });
  expect(res.status).toBe(202);
  const body = res.jsonBody as { id: string; statusQueryGetUri: string };
  expect(body.statusQueryGetUri).toContain(body.id);
  return body.id;
}

/** Text that would reach the Durable extension's management API (its webhooks carry the system key in Azure). */
const DURABLE_MANAGEMENT = /runtime\/webhooks\/durabletask|code=|taskHub|\/durabletask\//i;

/** The collected blobs' SHA-256 must equal the bytes the simulator served, and GetFile's content must gunzip to the file. */
async function expectEvidenceMatchesSource(machineId: string, instanceId: string) {
  const summary = await h.finish(instanceId);
  expect(summary).toMatchObject({ outcome: "Completed", complete: true, machineId, actionStatus: "Succeeded" });
  const actionId = summary.actionId!;
  const blobs = await h.blobsOf(machineId);
  expect(blobs).toEqual([
    `liveresponse/${machineId}/${actionId}/0-RunScript-minidump.ps1`,
    `liveresponse/${machineId}/${actionId}/1-GetFile-OfficeClickToRun.dmp.zip`,
    `liveresponse/${machineId}/${actionId}/manifest.json`,
    `liveresponse/${machineId}/${actionId}/manifest.signature.json`,
  ]);

  const manifest = await h.readManifest(summary.manifest!.blobName);
  expect(manifest).toMatchObject({
    instanceId,
    outcome: "Completed",
    complete: true,
    trigger: { kind: "webhook" },
    request: { machineId },
  });
  expect(manifest.machineAction?.id).toBe(actionId);
  for (const index of [0, 1]) {
    const expected = await h.simulator.expectedResult(actionId, index);
    const stored = await h.container.getBlockBlobClient(blobs[index]).downloadToBuffer();
    expect(sha256(stored)).toBe(expected.sha256);
    expect(manifest.commands[index].evidence).toMatchObject({ sha256: expected.sha256, size: expected.size });
    if (index === 1) {
      expect(manifest.commands[1].evidence?.contentFormat).toBe("gzip");
      expect(manifest.commands[1].evidence?.decompressed).toEqual({ sha256: expected.contentSha256, size: expected.contentSize });
      expect(sha256(gunzipSync(stored))).toBe(expected.contentSha256);
    }
  }
  expect(manifest.commands[0].transcript).toMatchObject({ script_name: "minidump.ps1", exit_code: 0 });
  return { summary, manifest };
}

describe("the HTTP answers link only to the app's own endpoints", () => {
  it("202: the app's status and cancel URLs, Location and Retry-After, and nothing of the Durable management API; the same for the idempotent re-answer", async () => {
    const m = machine();
    h.simulator.addMachine(m);
    const key = `urls-${m.machineId.slice(0, 8)}`;
    const first = await h.start({ machineId: m.machineId, commands: seedCommands }, { "idempotency-key": key });
    const again = await h.start({ machineId: m.machineId, commands: seedCommands }, { "idempotency-key": key });
    for (const res of [first, again]) {
      expect(res.status).toBe(202);
      const { id } = res.jsonBody as { id: string };
      const statusUrl = `${h.api.origin}/api/liveresponse/${id}`;
      expect(res.jsonBody).toEqual({ id, statusQueryGetUri: statusUrl, cancelPostUri: `${statusUrl}/cancel` });
      expect(res.headers).toMatchObject({ location: statusUrl, "retry-after": "10" });
      expect(JSON.stringify(res)).not.toMatch(DURABLE_MANAGEMENT);
    }
    const id = (first.jsonBody as { id: string }).id;
    await h.finish(id);
    const status = await h.status(id);
    expect(status.jsonBody).toMatchObject({ runtimeStatus: "Completed", startedBy: { kind: "development", name: "developer@localhost" } });
    expect(JSON.stringify(status.jsonBody)).not.toMatch(DURABLE_MANAGEMENT);
    expect(status.jsonBody).not.toHaveProperty("input");
  });

  it("401 without a token and 403 without the endpoint's role, starting nothing", async () => {
    const m = machine();
    h.simulator.addMachine(m);
    const before = h.engine.listInstances().length;
    const anonymous = await h.start({ machineId: m.machineId, commands: seedCommands }, { authorization: "" });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers["www-authenticate"]).toMatch(/^Bearer/);
    const readOnly = await h.start(
      { machineId: m.machineId, commands: seedCommands },
      { authorization: await bearer({ roles: ["Collector.Read"] }) },
    );
    expect(readOnly).toMatchObject({
      status: 403,
      jsonBody: { error: { code: "Forbidden", message: expect.stringContaining("Collector.Run") } },
    });
    expect(h.engine.listInstances()).toHaveLength(before);
  });
});

describe("webhook → orchestration → evidence in the customer's container", () => {
  it("collects a RunScript and a GetFile from an online device, with a manifest whose hashes equal the source bytes", async () => {
    const m = machine();
    h.simulator.addMachine(m);
    const id = await startFor(m.machineId);
    await expectEvidenceMatchesSource(m.machineId, id);

    const status = await h.status(id);
    expect(status.status).toBe(200);
    expect(status.jsonBody).toMatchObject({
      instanceId: id,
      runtimeStatus: "Completed",
      phase: "completed",
      actionStatus: "Succeeded",
      commands: [
        { index: 0, type: "RunScript", status: "Completed" },
        { index: 1, type: "GetFile", status: "Completed" },
      ],
    });
    expect((status.jsonBody as { evidence: unknown[] }).evidence).toHaveLength(2);
    expect(JSON.stringify(status.jsonBody)).not.toMatch(/sig=|se=/);
  });

  it("collects from a device that comes online after 2 days of virtual time, with bounded polling and history", async () => {
    const m = machine({ onlineAfterMs: 2 * DAY });
    h.simulator.addMachine(m);
    const startedAt = h.clock.now().getTime();
    const id = await startFor(m.machineId);
    await expectEvidenceMatchesSource(m.machineId, id);
    const stats = h.engine.stats(id);
    const polls = stats.activityCalls.getMachineAction ?? 0;
    console.log(
      `device online after 2 days: ${polls} status polls, ${stats.executions} executions, largest history ${stats.maxHistoryEventsPerExecution} events, virtual time ${((h.clock.now().getTime() - startedAt) / HOUR).toFixed(1)} h`,
    );
    expect(polls).toBeLessThan(250);
    expect(stats.executions).toBeGreaterThan(1);
    expect(stats.maxHistoryEventsPerExecution).toBeLessThan(400);
  });

  it("records a failing command and never runs the ones after it", async () => {
    const m = machine({ failCommandIndex: 0, failError: "Script minidump.ps1 failed" });
    h.simulator.addMachine(m);
    const id = await startFor(m.machineId);
    const summary = (await h.engine.waitForCompletion(id, { maxVirtualTimeMs: DAY })).output as {
      outcome: string;
      actionId: string;
      manifest: { blobName: string };
    };
    expect(summary.outcome).toBe("Failed");
    const manifest = await h.readManifest(summary.manifest.blobName);
    expect(manifest.outcomeReason).toContain("command 0 (RunScript) failed");
    expect(manifest.commands.map((c) => [c.status, c.executed, c.evidence])).toEqual([
      ["Failed", true, undefined],
      ["Created", false, undefined],
    ]);
    expect(await h.blobsOf(m.machineId)).toEqual([
      `liveresponse/${m.machineId}/${summary.actionId}/manifest.json`,
      `liveresponse/${m.machineId}/${summary.actionId}/manifest.signature.json`,
    ]);
  });

  it("fetches the download link again when the first one has expired", async () => {
    const m = machine({ expiredLinks: 1 });
    h.simulator.addMachine(m);
    const id = await startFor(m.machineId);
    const { manifest } = await expectEvidenceMatchesSource(m.machineId, id);
    expect(manifest.commands[0].evidence?.linkFetches).toBe(2);
  });

  it("starts one collection for a retried webhook with the same idempotency key", async () => {
    const m = machine();
    h.simulator.addMachine(m);
    const key = `ticket-${m.machineId.slice(0, 8)}`;
    const first = await h.start({ machineId: m.machineId, commands: seedCommands }, { "idempotency-key": key });
    const second = await h.start({ machineId: m.machineId, commands: seedCommands }, { "idempotency-key": key });
    expect([first.status, second.status]).toEqual([202, 202]);
    const id = (first.jsonBody as { id: string }).id;
    expect((second.jsonBody as { id: string }).id).toBe(id);
    await h.finish(id);
    expect(h.simulator.actions().filter((a) => a.machineId === m.machineId)).toHaveLength(1);

    const reused = await h.start({ machineId: m.machineId, commands: seedCommands.slice(1) }, { "idempotency-key": key });
    expect(reused.status).toBe(409);
    // The same key with another comment is another request, not a retry.
    const recommented = await h.start(
      { machineId: m.machineId, commands: seedCommands, comment: "another reason" },
      { "idempotency-key": key },
    );
    expect(recommented).toMatchObject({ status: 409, jsonBody: { error: { code: "IdempotencyKeyReused" } } });
  });

  it("re-running the copy activity is a no-op: same blob, no second download link", async () => {
    const m = machine();
    h.simulator.addMachine(m);
    const id = await startFor(m.machineId);
    const summary = await h.finish(id);
    const linksBefore = h.simulator.stats().calls.getDownloadLink;
    expect(linksBefore).toBeGreaterThan(0);
    const collect = findFunction("collectCommandResult", "activityTrigger")!;
    const rerun = (await collect.handler(
      { instanceId: id, machineId: m.machineId, actionId: summary.actionId, index: 1, command: seedCommands[1] },
      createInvocationContext(collect, silentDevhostLogger),
    )) as { kind: string; evidence: { created: boolean; sha256: string } };
    expect(rerun.kind).toBe("collected");
    expect(rerun.evidence.created).toBe(false);
    expect(rerun.evidence.sha256).toBe(summary.evidence[1].sha256);
    expect(h.simulator.stats().calls.getDownloadLink).toBe(linksBefore);
    expect(await h.blobsOf(m.machineId)).toHaveLength(4);
  });

  it("answers 404 for an unknown collection", async () => {
    expect((await h.status("lr-0000000000000000000000000000000000000000")).status).toBe(404);
  });

  it("cancel ends a waiting collection, cancels the MDE action and records who and why", async () => {
    const m = machine({ onlineAfterMs: null });
    h.simulator.addMachine(m);
    const id = await startFor(m.machineId);
    await h.engine.runUntilIdle({ maxVirtualTimeMs: 30 * MINUTE });
    expect((await h.status(id)).jsonBody).toMatchObject({ phase: "queuedOnDevice", actionStatus: "Pending" });

    // Who asks comes from the token: a self-declared requestedBy is refused by name.
    const selfDeclared = await h.cancel(id, { reason: "wrong device", requestedBy: "ceo@contoso.com" });
    expect(selfDeclared).toMatchObject({ status: 400, jsonBody: { error: { details: [{ field: "requestedBy" }] } } });
    const cancel = await h.cancel(
      id,
      { reason: "wrong device" },
      { authorization: await bearer({ name: "analyst@contoso.com", roles: ["Collector.Cancel"] }) },
    );
    expect(cancel.status).toBe(202);
    const summary = await h.finish(id);
    expect(summary.outcome).toBe("Cancelled");
    const action = h.simulator.actions().find((a) => a.machineId === m.machineId)!;
    expect(action.status).toBe("Cancelled");
    const manifest = await h.readManifest(summary.manifest!.blobName);
    expect(manifest.cancellation).toEqual({
      requestedBy: expect.stringMatching(/^analyst@contoso\.com \([0-9a-f-]{36}\)$/),
      requestedByObjectId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      reason: "wrong device",
      requestedAt: expect.any(String),
    });
    expect(manifest.trigger).toMatchObject({ kind: "webhook", caller: { name: "developer@localhost", kind: "development" } });
    expect((await h.cancel(id)).status).toBe(409);
  });

  it("ends a collection for a device that never comes online as TimedOut, with no orphan blobs", async () => {
    const m = machine({ onlineAfterMs: null });
    h.simulator.addMachine(m);
    const id = await startFor(m.machineId);
    const summary = await h.finish(id, 4 * DAY);
    expect(summary).toMatchObject({ outcome: "TimedOut", evidence: [] });
    expect(await h.blobsOf(m.machineId)).toEqual([
      `liveresponse/${m.machineId}/${summary.actionId}/manifest.json`,
      `liveresponse/${m.machineId}/${summary.actionId}/manifest.signature.json`,
    ]);
  });
});
