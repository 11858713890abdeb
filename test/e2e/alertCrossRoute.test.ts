/**
 * One alert, several routes: the Defender XDR stream (Event Hubs), a Sentinel playbook's post to the
 * webhook and the same body on the Event Grid custom topic. Collections are named by MDE alert id
 * and device (functions/alertDuplicates.ts), so whichever route comes first starts the one
 * collection per device and every later route finds it. (Graph polling against Sentinel: alertRoutes.test.ts.)
 */
import { invokeFunction, invokeHttp } from "../../devhost";
import { alertInstanceId } from "../../functions/alertCollection";
import { settleInstanceId } from "../../shared/alerts/streamingSettleId";
import { eventGridEvent } from "../support/fixtures/alerts/envelopes";
import { MDE_ALERT, MDE_ALERT_MACHINE } from "../support/fixtures/alerts/mdeAlert";
import { sentinelAlertTriggerBody } from "../support/fixtures/alerts/sentinelIncident";
import { alertInfoRecord, fileEvidenceRecord, machineEvidenceRecord, streamingMessage } from "../support/fixtures/alerts/streamingRecords";
import { machine, SECOND, startCollectorHarness, type CollectorHarness } from "../support/collectorHarness";
import { bearer } from "../support/identity";

const PLAYBOOKS = [
  {
    name: "alert-file",
    comment: "Alert {{alert.id}}",
    commands: [{ type: "GetFile", params: [{ key: "Path", value: "{{alert.filePath}}" }] }],
  },
];
// No `sources` condition: every route's alert matches the same rule.
const RULES = [{ name: "any-route", playbook: "alert-file", minSeverity: "low" }];
const SETTLE_SECONDS = 30;

/** A second alert of Microsoft's example shape on another device, for the opposite order. */
const OTHER_MACHINE = "f70f9fe6b29cd9511652434919c6530618f06606";
const OTHER_ALERT = { ...MDE_ALERT, id: "da637472900382838869_1364969611", machineId: OTHER_MACHINE, computerDnsName: "other.contoso.com" };

let h: CollectorHarness;
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
  h.simulator.addMachine(machine({ machineId: OTHER_MACHINE, computerDnsName: OTHER_ALERT.computerDnsName }));
  h.simulator.addAlert(MDE_ALERT);
  h.simulator.addAlert(OTHER_ALERT);
});
afterAll(async () => {
  await h.stop();
});

const stream = (messages: unknown[]) => invokeFunction("alertStreaming", messages, { durable: h.api, triggerType: "eventHubTrigger" });
const eventGrid = (data: unknown, id: string) =>
  invokeFunction("alertCollection", eventGridEvent(data, id), { durable: h.api, triggerType: "eventGridTrigger" });
const webhook = async (body: unknown) =>
  invokeHttp("alertWebhook", {
    durable: h.api,
    method: "POST",
    path: "/api/alerts",
    body,
    headers: { authorization: await bearer({ roles: ["Collector.Alert"], kind: "application", name: "sentinel-playbook" }) },
  });
/** Every alert collection of the run (settle windows have their own prefix). */
const alertCollections = () =>
  h.engine
    .listInstances({ instanceIdPrefix: "alert-" })
    .map((i) => i.instanceId)
    .sort();
const submissionsTo = (machineId: string) => h.simulator.actions().filter((a) => a.machineId === machineId).length;

it("streaming first, then the Sentinel webhook and Event Grid: one collection, one live response", async () => {
  await stream([streamingMessage(alertInfoRecord(), fileEvidenceRecord(), machineEvidenceRecord())]);
  const settled = await h.engine.waitForCompletion(settleInstanceId(MDE_ALERT.id));
  expect(settled.output).toEqual({ kind: "collecting", machineIds: [MDE_ALERT_MACHINE] });

  const posted = await webhook(sentinelAlertTriggerBody(MDE_ALERT.id, MDE_ALERT_MACHINE));
  expect(posted.status).toBe(202);
  expect(posted.jsonBody).toMatchObject({ alerts: [{ alertId: MDE_ALERT.id, outcome: "duplicate", machineIds: [MDE_ALERT_MACHINE] }] });
  await eventGrid(sentinelAlertTriggerBody(MDE_ALERT.id, MDE_ALERT_MACHINE), "eg-1");

  expect(alertCollections()).toEqual([alertInstanceId(MDE_ALERT.id, MDE_ALERT_MACHINE)]);
  const summary = await h.finish(alertInstanceId(MDE_ALERT.id, MDE_ALERT_MACHINE));
  expect(summary.outcome).toBe("Completed");
  expect(submissionsTo(MDE_ALERT_MACHINE)).toBe(1);
});

it("the webhook first, then the stream: the settle window finds the collection and starts nothing", async () => {
  const posted = await webhook(sentinelAlertTriggerBody(OTHER_ALERT.id, OTHER_MACHINE));
  expect(posted.jsonBody).toMatchObject({ alerts: [{ alertId: OTHER_ALERT.id, outcome: "started", machineIds: [OTHER_MACHINE] }] });

  await stream([JSON.stringify(streamingMessage(alertInfoRecord({ AlertId: OTHER_ALERT.id })))]);
  const settled = await h.engine.waitForCompletion(settleInstanceId(OTHER_ALERT.id), { maxVirtualTimeMs: 10 * SETTLE_SECONDS * SECOND });
  // With no device in the streamed rows, the duplicate check before the fetch has nothing to look up: MDE's answer
  // names the device, and the start finds the collection the webhook started under the same name.
  expect(settled.output).toEqual({ kind: "collecting", machineIds: [OTHER_MACHINE] });

  expect(alertCollections()).toEqual(
    [alertInstanceId(MDE_ALERT.id, MDE_ALERT_MACHINE), alertInstanceId(OTHER_ALERT.id, OTHER_MACHINE)].sort(),
  );
  await h.finish(alertInstanceId(OTHER_ALERT.id, OTHER_MACHINE));
  expect(submissionsTo(OTHER_MACHINE)).toBe(1);
});
