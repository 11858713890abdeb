/**
 * The three ways in, end to end: the real app's webhook (with a playbook), timer and Event Grid
 * functions, invoked through the devhost registry with the real durable client, driving the real
 * orchestration on a virtual clock against the MDE simulator and Azurite, down to the evidence
 * blobs and a manifest that records what triggered each collection.
 */
import { alertInstanceId } from "../../functions/alertCollection";
import { invokeFunction, timerInfo, type DevhostLogEntry } from "../../devhost";
import { planInstanceId } from "../../shared/collectionPlans";
import { eventGridEvent } from "../support/fixtures/alerts/envelopes";
import { GRAPH_ALERT, GRAPH_ALERT_DEVICE, GRAPH_ALERT_IN_MDE } from "../support/fixtures/alerts/graphAlert";
import { MDE_ALERT } from "../support/fixtures/alerts/mdeAlert";
import { machine, MINUTE, startCollectorHarness, type CollectorHarness } from "../support/collectorHarness";
import { bearer } from "../support/identity";

const PLAYBOOKS = [
  {
    name: "memory-dump",
    commands: [
      {
        type: "RunScript",
        params: [
          { key: "ScriptName", value: "minidump.ps1" },
          { key: "Args", value: "{{params.process}}" },
        ],
      },
      { type: "GetFile", params: [{ key: "Path", value: "C:\\windows\\TEMP\\{{params.process}}.dmp.zip" }] },
    ],
  },
  {
    name: "triage",
    comment: "Nightly triage of {{machine.computerDnsName}} ({{plan.name}})",
    commands: [
      {
        type: "RunScript",
        params: [
          { key: "ScriptName", value: "Collect-Triage.ps1" },
          { key: "Args", value: "-Out C:\\ProgramData\\triage.zip" },
        ],
      },
      { type: "GetFile", params: [{ key: "Path", value: "C:\\ProgramData\\triage-{{machine.computerDnsName}}.zip" }] },
    ],
  },
  {
    name: "alert-file",
    comment: "Alert {{alert.id}}: {{alert.title}}",
    commands: [{ type: "GetFile", params: [{ key: "Path", value: "{{alert.filePath}}" }] }],
  },
];
const PLANS = [
  { name: "nightly-tier0", playbook: "triage", filter: "healthStatus eq 'Active' and machineTags/any(tag: tag eq 'tier0-e2e')", top: 10 },
];
const RULES = [{ name: "hidden-files", playbook: "alert-file", minSeverity: "low", categories: ["DefenseEvasion"] }];

let h: CollectorHarness;
const logs: DevhostLogEntry[] = [];
beforeAll(async () => {
  h = await startCollectorHarness({
    settings: {
      PLAYBOOKS: JSON.stringify(PLAYBOOKS),
      COLLECTION_PLANS: JSON.stringify(PLANS),
      COLLECTION_PLANS_SCHEDULE: "0 0 9 * * *",
      COLLECTION_PLANS_SUBMISSIONS_PER_MINUTE: "1",
      ALERT_RULES: JSON.stringify(RULES),
    },
  });
});
afterAll(async () => {
  await h.stop();
});

/** The SHA-256 of the file MDE's alert names (test/support/fixtures/alerts/graphAlert.ts). */
const ALERT_FILE_SHA256 = "8963a19fb992ad9a76576c5638fd68292cffb9aaac29eb8285f9abf6196a7dec";

const invoke = (name: string, triggerValue: unknown, triggerType: string) =>
  invokeFunction(name, triggerValue, { durable: h.api, triggerType, logger: (e) => logs.push(e) });
const actionsOf = (machineId: string) => h.simulator.actions().filter((a) => a.machineId === machineId);

describe("three ways in, one orchestration", () => {
  it("webhook with a playbook: renders its parameters, collects, and the manifest names the caller and playbook", async () => {
    const m = machine();
    h.simulator.addMachine(m);
    const res = await h.start(
      { machineId: m.machineId, playbook: { name: "memory-dump", parameters: { process: "OfficeClickToRun" } } },
      { authorization: await bearer({ name: "analyst@contoso.com" }) },
    );
    expect(res.status).toBe(202);
    const summary = await h.finish((res.jsonBody as { id: string }).id);
    expect(summary).toMatchObject({ outcome: "Completed", complete: true });
    expect(await h.blobsOf(m.machineId)).toEqual([
      `liveresponse/${m.machineId}/${summary.actionId}/0-RunScript-minidump.ps1`,
      `liveresponse/${m.machineId}/${summary.actionId}/1-GetFile-OfficeClickToRun.dmp.zip`,
      `liveresponse/${m.machineId}/${summary.actionId}/manifest.json`,
      `liveresponse/${m.machineId}/${summary.actionId}/manifest.signature.json`,
    ]);
    const manifest = await h.readManifest(summary.manifest!.blobName);
    expect(manifest.trigger).toMatchObject({
      kind: "webhook",
      caller: { kind: "development", name: "analyst@contoso.com", roles: expect.arrayContaining(["Collector.Run"]) },
      playbook: "memory-dump",
    });
    expect(manifest.request.commands[1]).toEqual({
      type: "GetFile",
      params: [{ key: "Path", value: "C:\\windows\\TEMP\\OfficeClickToRun.dmp.zip" }],
    });
  });

  it("timer: runs the plan on the machines its filter selects, staggered, once per occurrence", async () => {
    const dc = machine({ computerDnsName: "dc01.contoso.com", machineTags: ["tier0-e2e"] });
    const pki = machine({ computerDnsName: "pki01.contoso.com", machineTags: ["TIER0-E2E"] });
    const off = machine({ computerDnsName: "old01.contoso.com", machineTags: ["tier0-e2e"], healthStatus: "Inactive" });
    for (const m of [dc, pki, off]) h.simulator.addMachine(m);
    const firedAt = h.clock.now();
    const scheduledFor = new Date(Date.UTC(firedAt.getUTCFullYear(), firedAt.getUTCMonth(), firedAt.getUTCDate(), 9)).toISOString();

    await invoke("scheduledCollection", timerInfo({ now: firedAt }), "timerTrigger");
    await invoke("scheduledCollection", timerInfo({ now: firedAt }), "timerTrigger"); // a duplicate firing
    const ids = [dc, pki].map((m) => planInstanceId("nightly-tier0", m.machineId, scheduledFor));
    expect(
      h.engine
        .listInstances({ instanceIdPrefix: "plan-" })
        .map((i) => i.instanceId)
        .sort(),
    ).toEqual([...ids].sort());

    for (const [i, m] of [dc, pki].entries()) {
      const summary = await h.finish(ids[i]!);
      expect(summary).toMatchObject({ outcome: "Completed", complete: true, machineId: m.machineId });
      const manifest = await h.readManifest(summary.manifest!.blobName);
      expect(manifest.trigger).toEqual({ kind: "schedule", plan: "nightly-tier0", scheduledFor, playbook: "triage" });
      expect(manifest.request.comment).toBe(`Nightly triage of ${m.computerDnsName} (nightly-tier0)`);
      expect(await h.blobsOf(m.machineId)).toContain(
        `liveresponse/${m.machineId}/${summary.actionId}/1-GetFile-triage-${m.computerDnsName}.zip`,
      );
      expect(actionsOf(m.machineId)).toHaveLength(1);
    }
    expect(actionsOf(off.machineId)).toHaveLength(0);
    // One submission per minute: the second collection waited on its durable timer.
    const created = [dc, pki].map((m) => Date.parse(actionsOf(m.machineId)[0]!.creationDateTimeUtc as string));
    expect(created[1]! - created[0]!).toBeGreaterThanOrEqual(MINUTE);
  });

  it("Event Grid: an alert is fetched from MDE and starts its rule's playbook once despite redelivery, with one MDE call; the manifest records the alert", async () => {
    h.simulator.addMachine(machine({ machineId: GRAPH_ALERT_DEVICE, computerDnsName: "tempDns" }));
    h.simulator.addAlert(GRAPH_ALERT_IN_MDE);
    const alertCallsBefore = h.simulator.stats().calls.getAlert;
    await invoke("alertCollection", eventGridEvent(GRAPH_ALERT), "eventGridTrigger");
    await invoke("alertCollection", eventGridEvent(GRAPH_ALERT), "eventGridTrigger"); // at-least-once redelivery
    expect(h.simulator.stats().calls.getAlert - alertCallsBefore).toBe(1);
    const summary = await h.finish(alertInstanceId(GRAPH_ALERT.id, GRAPH_ALERT_DEVICE));
    expect(summary).toMatchObject({ outcome: "Completed", complete: true });
    expect(actionsOf(GRAPH_ALERT_DEVICE)).toHaveLength(1);
    // The evidence: one file, the one MDE's alert names (manifest blobs aside).
    expect((await h.blobsOf(GRAPH_ALERT_DEVICE)).filter((b) => !b.endsWith(".json"))).toEqual([
      `liveresponse/${GRAPH_ALERT_DEVICE}/${summary.actionId}/0-GetFile-MsSense.exe`,
    ]);
    const manifest = await h.readManifest(summary.manifest!.blobName);
    expect(manifest.trigger).toEqual({
      kind: "alert",
      alertId: "da637578995287051192_756343937",
      source: "graph",
      severity: "low",
      title: "Suspicious execution of hidden file",
      playbook: "alert-file",
      rule: "hidden-files",
      expectedSha256: [ALERT_FILE_SHA256],
    });
    expect(manifest.request.commands).toEqual([
      { type: "GetFile", params: [{ key: "Path", value: "C:\\Program Files\\temp\\MsSense.exe" }] },
    ]);
    // The simulator's file is not the alert's: the comparison says so, in the manifest and the summary.
    const collected = summary.evidence[0]!;
    expect(manifest.alertFileHashes).toEqual({
      expected: [ALERT_FILE_SHA256],
      results: [{ index: 0, sha256: expect.not.stringMatching(ALERT_FILE_SHA256), compared: "decompressed", match: false }],
      matched: false,
    });
    expect(manifest.alertFileHashes!.results[0]!.sha256).toBe(
      manifest.commands[0]!.evidence!.decompressed && "sha256" in manifest.commands[0]!.evidence!.decompressed
        ? manifest.commands[0]!.evidence!.decompressed.sha256
        : collected.sha256,
    );
    expect(summary.alertFileHashes).toEqual(manifest.alertFileHashes);
  });

  it("Event Grid: a forged event's device and file path are ignored; the collection runs on the device and file MDE names", async () => {
    const real = machine();
    const victim = machine();
    for (const m of [real, victim]) h.simulator.addMachine(m);
    const alert = {
      ...MDE_ALERT,
      id: "da638000000000000000_42",
      category: "DefenseEvasion",
      machineId: real.machineId,
      computerDnsName: real.computerDnsName,
    };
    h.simulator.addAlert(alert);
    const forged = {
      ...alert,
      machineId: victim.machineId,
      evidence: [{ entityType: "File", filePath: "\\\\attacker.example\\loot", fileName: "payload.exe" }],
    };
    await invoke("alertCollection", eventGridEvent(forged), "eventGridTrigger");
    const summary = await h.finish(alertInstanceId(alert.id, real.machineId));
    expect(summary).toMatchObject({ outcome: "Completed", machineId: real.machineId });
    const manifest = await h.readManifest(summary.manifest!.blobName);
    expect(manifest.request.commands).toEqual([{ type: "GetFile", params: [{ key: "Path", value: "c:\\temp\\suspicious.dll" }] }]);
    expect(actionsOf(victim.machineId)).toHaveLength(0);
  });

  it("Event Grid: an event naming an alert MDE does not know is dropped with one JSON log line and nothing starts", async () => {
    const before = h.engine.listInstances().length;
    logs.length = 0;
    await expect(
      invoke("alertCollection", eventGridEvent({ ...MDE_ALERT, id: "da000000000000000000_0" }), "eventGridTrigger"),
    ).resolves.toBeUndefined();
    expect(h.engine.listInstances()).toHaveLength(before);
    expect(logs.map((l) => JSON.parse(l.message))).toEqual([
      expect.objectContaining({
        level: "warn",
        message: "alert event dropped",
        alertId: "da000000000000000000_0",
        reason: "AlertNotFound",
        attempts: 1,
      }),
    ]);
  });

  it("Event Grid: a malformed event is dropped with one JSON log line and nothing starts", async () => {
    const before = h.engine.listInstances().length;
    logs.length = 0;
    await expect(invoke("alertCollection", { id: "e-1", subject: "x", data: {} }, "eventGridTrigger")).resolves.toBeUndefined();
    expect(h.engine.listInstances()).toHaveLength(before);
    expect(logs.map((l) => JSON.parse(l.message))).toEqual([
      {
        level: "warn",
        message: "alert event dropped",
        function: "alertCollection",
        reason: "MalformedEvent",
        detail: "not an Event Grid event (id, eventType) or a CloudEvent (id, type, specversion)",
      },
    ]);
  });
});
