/**
 * The Defender XDR streaming route end to end on the virtual clock: Event Hubs batches as the worker
 * delivers them (an array of messages: strings, Buffers, objects) through the real app's
 * `alertStreaming` trigger, the `alertSettle` orchestrator's durable settle window, the
 * `collectAlert` activity with its durable client, the MDE simulator's `GET /api/alerts/{id}` and
 * the collections down to their manifests. Records come from test/support/fixtures/alerts/streamingRecords.ts
 * (Microsoft's published envelope and table columns).
 */
import { invokeFunction, type DevhostLogEntry } from "../../devhost";
import { alertInstanceId } from "../../functions/alertCollection";
import { settleInstanceId } from "../../shared/alerts/streamingSettleId";
import { MDE_ALERT, MDE_ALERT_MACHINE } from "../support/fixtures/alerts/mdeAlert";
import {
  alertInfoRecord,
  deviceEventsRecord,
  fileEvidenceRecord,
  machineEvidenceRecord,
  streamingMessage,
} from "../support/fixtures/alerts/streamingRecords";
import { machine, SECOND, startCollectorHarness, type CollectorHarness } from "../support/collectorHarness";

const PLAYBOOKS = [
  {
    name: "alert-file",
    comment: "Alert {{alert.id}}: {{alert.title}}",
    commands: [{ type: "GetFile", params: [{ key: "Path", value: "{{alert.filePath}}" }] }],
  },
];
const RULES = [
  { name: "streamed-execution", playbook: "alert-file", minSeverity: "low", categories: ["Execution"], sources: ["streaming"] },
];
const SETTLE_SECONDS = 60;

/** A second MDE alert on another device, shaped like Microsoft's example. */
const SECOND_MACHINE = "f70f9fe6b29cd9511652434919c6530618f06606";
const SECOND_ALERT = {
  ...MDE_ALERT,
  id: "da637472900382838869_1364969610",
  machineId: SECOND_MACHINE,
  computerDnsName: "second.contoso.com",
};

let h: CollectorHarness;
const logs: DevhostLogEntry[] = [];
beforeAll(async () => {
  h = await startCollectorHarness({
    settings: {
      PLAYBOOKS: JSON.stringify(PLAYBOOKS),
      ALERT_RULES: JSON.stringify(RULES),
      ALERTS_EVENTHUB__fullyQualifiedNamespace: "contoso-alerts.servicebus.windows.net",
      ALERTS_EVENTHUB_NAME: "defender-streaming",
      ALERTS_SETTLE_SECONDS: String(SETTLE_SECONDS),
    },
  });
  h.simulator.addMachine(machine({ machineId: MDE_ALERT_MACHINE, computerDnsName: MDE_ALERT.computerDnsName }));
  h.simulator.addMachine(machine({ machineId: SECOND_MACHINE, computerDnsName: SECOND_ALERT.computerDnsName }));
  h.simulator.addAlert(MDE_ALERT);
  h.simulator.addAlert(SECOND_ALERT);
});
afterAll(async () => {
  await h.stop();
});

const deliver = (messages: unknown[]) =>
  invokeFunction("alertStreaming", messages, { durable: h.api, triggerType: "eventHubTrigger", logger: (e) => logs.push(e) });
const logLines = () => logs.map((l) => JSON.parse(l.message) as Record<string, unknown>);
const alertCalls = () => h.simulator.stats().calls.getAlert;
const exists = (instanceId: string) => h.engine.getStatus(instanceId) !== undefined;

describe("Defender XDR streaming through Event Hubs", () => {
  it("correlates AlertInfo and AlertEvidence from separate messages, out of order, and starts one collection per alert and device after the settle window", async () => {
    logs.length = 0;
    const before = alertCalls();
    await deliver([
      // Evidence first, as a string; the second alert's AlertInfo as bytes; the first alert's AlertInfo last, as an object.
      JSON.stringify(streamingMessage(fileEvidenceRecord(), deviceEventsRecord())),
      Buffer.from(JSON.stringify(streamingMessage(alertInfoRecord({ AlertId: SECOND_ALERT.id })))),
      streamingMessage(alertInfoRecord(), machineEvidenceRecord()),
    ]);
    expect(logLines()).toContainEqual(
      expect.objectContaining({ message: "alert stream batch read", messages: 3, records: 5, alerts: 2, otherCategories: 1 }),
    );
    // One window per alert; nothing asked of MDE, nothing started, until it ends.
    for (const id of [MDE_ALERT.id, SECOND_ALERT.id])
      expect(h.engine.getStatus(settleInstanceId(id))?.runtimeStatus).toMatch(/Pending|Running/);
    expect(alertCalls()).toBe(before);

    // A later batch within the window carries more of the first alert: forwarded, no second window.
    await deliver([streamingMessage(machineEvidenceRecord())]);
    expect(logLines()).toContainEqual(
      expect.objectContaining({ message: "alert records forwarded to its settle window", alertId: MDE_ALERT.id }),
    );
    await h.engine.runUntilIdle({ maxVirtualTimeMs: (SETTLE_SECONDS - 1) * SECOND });
    expect(alertCalls()).toBe(before);
    expect(exists(alertInstanceId(MDE_ALERT.id, MDE_ALERT_MACHINE))).toBe(false);

    const settled = [];
    for (const id of [MDE_ALERT.id, SECOND_ALERT.id]) settled.push(await h.engine.waitForCompletion(settleInstanceId(id)));
    expect(settled.map((s) => s.output)).toEqual([
      { kind: "collecting", machineIds: [MDE_ALERT_MACHINE] },
      { kind: "collecting", machineIds: [SECOND_MACHINE] },
    ]);
    expect(alertCalls() - before).toBe(2);
    expect(
      h.engine
        .listInstances({ instanceIdPrefix: "alert-" })
        .map((i) => i.instanceId)
        .sort(),
    ).toEqual([alertInstanceId(MDE_ALERT.id, MDE_ALERT_MACHINE), alertInstanceId(SECOND_ALERT.id, SECOND_MACHINE)].sort());

    const summary = await h.finish(alertInstanceId(MDE_ALERT.id, MDE_ALERT_MACHINE));
    expect(summary).toMatchObject({ outcome: "Completed", machineId: MDE_ALERT_MACHINE });
    const manifest = await h.readManifest(summary.manifest!.blobName);
    expect(manifest.trigger).toEqual({
      kind: "alert",
      alertId: MDE_ALERT.id,
      source: "streaming",
      severity: "low",
      title: MDE_ALERT.title,
      playbook: "alert-file",
      rule: "streamed-execution",
      expectedSha256: ["dc0ade0c95d6db98882bc8fa6707e64353cd6f7767ff48d6a81a6c2aef21c608"],
    });
    expect(manifest.request.commands).toEqual([{ type: "GetFile", params: [{ key: "Path", value: "c:\\temp\\suspicious.dll" }] }]);
    await h.finish(alertInstanceId(SECOND_ALERT.id, SECOND_MACHINE));
  });

  it("starts nothing new for an alert a later batch repeats, and asks MDE nothing", async () => {
    logs.length = 0;
    const instances = h.engine.listInstances().length;
    const before = alertCalls();
    await deliver([streamingMessage(alertInfoRecord(), fileEvidenceRecord()), JSON.stringify(streamingMessage(machineEvidenceRecord()))]);
    await h.engine.runUntilIdle({ maxVirtualTimeMs: 5 * SETTLE_SECONDS * SECOND });
    expect(h.engine.listInstances()).toHaveLength(instances);
    expect(alertCalls()).toBe(before);
    expect(logLines()).toContainEqual(
      expect.objectContaining({ message: "alert already settled; records skipped", alertId: MDE_ALERT.id }),
    );
  });

  it("still starts the good alerts of a batch with bad messages and records, each bad one logged with its reason and index", async () => {
    const third = machine();
    h.simulator.addMachine(third);
    const thirdAlert = {
      ...MDE_ALERT,
      id: "da637472900382838869_1364969611",
      machineId: third.machineId,
      computerDnsName: third.computerDnsName,
    };
    h.simulator.addAlert(thirdAlert);
    logs.length = 0;
    await expect(
      deliver([
        "this is not JSON",
        { notRecords: true },
        streamingMessage(
          alertInfoRecord({ AlertId: undefined }),
          deviceEventsRecord(),
          "a record that is not an object",
          machineEvidenceRecord({ AlertId: thirdAlert.id, DeviceId: third.machineId }),
        ),
      ]),
    ).resolves.toBeUndefined();
    const dropped = logLines().filter((l) => l.message === "alert stream record dropped");
    expect(dropped).toEqual([
      expect.objectContaining({ level: "warn", reason: "MalformedMessage", messageIndex: 0, detail: "the message is not JSON" }),
      expect.objectContaining({ reason: "MalformedMessage", messageIndex: 1, detail: "the message has no records array" }),
      expect.objectContaining({ reason: "NoAlertId", messageIndex: 2, recordIndex: 0 }),
      expect.objectContaining({ reason: "MalformedRecord", messageIndex: 2, recordIndex: 2 }),
    ]);
    expect(logLines()).toContainEqual(
      expect.objectContaining({
        message: "alert stream batch read",
        alerts: 1,
        problems: 4,
        otherCategories: 1,
        otherCategoryCounts: '{"AdvancedHunting-DeviceEvents":1}',
      }),
    );
    const settled = await h.engine.waitForCompletion(settleInstanceId(thirdAlert.id));
    expect(settled.output).toEqual({ kind: "collecting", machineIds: [third.machineId] });
    expect(await h.finish(alertInstanceId(thirdAlert.id, third.machineId))).toMatchObject({ outcome: "Completed" });
  });

  it("opens no window for an alert whose records name only another product", async () => {
    logs.length = 0;
    const instances = h.engine.listInstances().length;
    await deliver([
      streamingMessage(alertInfoRecord({ AlertId: "fa637472900382838869_1", ServiceSource: "Microsoft Defender for Office 365" })),
    ]);
    expect(h.engine.listInstances()).toHaveLength(instances);
    expect(logLines()).toContainEqual(expect.objectContaining({ message: "alert event dropped", reason: "NotAnMdeAlert" }));
  });
});
