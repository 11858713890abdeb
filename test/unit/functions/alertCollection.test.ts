import { alertInstanceId, createAlertCollection } from "../../../functions/alertCollection";
import { loadConfig } from "../../../shared/config";
import { MdeApiError } from "../../../shared/errors";
import { cloudEvent, eventGridEvent } from "../../fixtures/alerts/envelopes";
import { GRAPH_ALERT, GRAPH_ALERT_DEVICE } from "../../fixtures/alerts/graphAlert";
import { GRAPH_ALERT_CREATED } from "../../fixtures/alerts/graphNotification";
import { MDE_ALERT, MDE_ALERT_MACHINE } from "../../fixtures/alerts/mdeAlert";
import { SENTINEL_ALERT, SENTINEL_ALERT_MACHINE } from "../../fixtures/alerts/sentinelAlert";
import { fakeMde } from "../activities/fakes";
import { capturingContext, fakeDurableAccess } from "./triggerFakes";
import { ENTRA_TEST_SETTINGS } from "../../support/settings";

const config = loadConfig({ ...ENTRA_TEST_SETTINGS,
  EVIDENCE_STORAGE_ACCOUNT_URL: "https://e.blob.core.windows.net",
  PLAYBOOKS: JSON.stringify([
    {
      name: "alert-file",
      comment: "Alert {{alert.id}} on {{machine.computerDnsName}}",
      commands: [{ type: "GetFile", params: [{ key: "Path", value: "{{alert.filePath}}" }] }],
    },
    {
      name: "execution-triage",
      commands: [
        {
          type: "RunScript",
          params: [
            { key: "ScriptName", value: "Collect-Triage.ps1" },
            { key: "Args", value: "-Alert {{alert.id}} -Depth {{params.depth}}" },
          ],
        },
        { type: "GetFile", params: [{ key: "Path", value: "{{alert.fileDirectory}}\\{{alert.fileName}}" }] },
      ],
    },
  ]),
  ALERT_RULES: JSON.stringify([
    { name: "hidden-files", playbook: "alert-file", sources: ["graph"], titlePatterns: ["/hidden file/i"] },
    { name: "execution", playbook: "execution-triage", parameters: { depth: "2" }, minSeverity: "low", categories: ["execution"] },
  ]),
});

function setup(getAlert?: jest.Mock) {
  const durable = fakeDurableAccess();
  const mde = fakeMde(getAlert ? { getAlert } : {});
  const handler = createAlertCollection({
    mde,
    rules: config.alertRules,
    playbooks: config.playbooks,
    collection: config.collection,
    now: () => new Date("2026-03-02T09:00:00Z"),
    durable: () => durable.access,
  });
  const deliver = async (event: unknown) => {
    const { context, lines } = capturingContext("alertCollection");
    await handler(event, context);
    return lines;
  };
  return { durable, mde, deliver };
}

describe("alertCollection", () => {
  it("starts the first matching rule's playbook for a Graph alert (Event Grid schema), with the alert's file path", async () => {
    const { durable, deliver } = setup();
    const lines = await deliver(eventGridEvent(GRAPH_ALERT));
    expect(durable.started).toEqual([
      {
        instanceId: alertInstanceId(GRAPH_ALERT.id, GRAPH_ALERT_DEVICE),
        input: expect.objectContaining({
          request: {
            machineId: GRAPH_ALERT_DEVICE,
            commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\Program Files\\temp\\MsSense.exe" }] }],
            comment: "Alert da637578995287051192_756343937 on tempDns",
            trigger: {
              kind: "alert",
              alertId: GRAPH_ALERT.id,
              source: "graph",
              severity: "low",
              title: "Suspicious execution of hidden file",
              playbook: "alert-file",
              rule: "hidden-files",
            },
          },
        }),
      },
    ]);
    expect(lines).toEqual([
      expect.objectContaining({
        level: "info",
        message: "alert collection started",
        alertId: GRAPH_ALERT.id,
        machineId: GRAPH_ALERT_DEVICE,
        rule: "hidden-files",
      }),
    ]);
  });

  it("starts the execution playbook with its parameters for an MDE alert (CloudEvents schema)", async () => {
    const { durable, deliver } = setup();
    await deliver(cloudEvent(MDE_ALERT));
    expect(durable.started).toHaveLength(1);
    expect(durable.started[0]!.input.request).toMatchObject({
      machineId: MDE_ALERT_MACHINE,
      commands: [
        {
          type: "RunScript",
          params: [
            { key: "ScriptName", value: "Collect-Triage.ps1" },
            { key: "Args", value: `-Alert ${MDE_ALERT.id} -Depth 2` },
          ],
        },
        { type: "GetFile", params: [{ key: "Path", value: "c:\\temp\\suspicious.dll" }] },
      ],
      trigger: { kind: "alert", source: "mde", rule: "execution", playbook: "execution-triage" },
    });
  });

  it("reads the host from a Sentinel SecurityAlert row's Entities string", async () => {
    const { durable, deliver } = setup();
    await deliver(eventGridEvent(SENTINEL_ALERT));
    expect(durable.started.map((s) => [s.instanceId, s.input.request.machineId, s.input.request.trigger])).toEqual([
      [
        alertInstanceId(SENTINEL_ALERT.SystemAlertId, SENTINEL_ALERT_MACHINE),
        SENTINEL_ALERT_MACHINE,
        expect.objectContaining({ alertId: SENTINEL_ALERT.SystemAlertId, source: "sentinel", severity: "medium" }),
      ],
    ]);
  });

  it("starts nothing twice when Event Grid redelivers the event", async () => {
    const { durable, deliver } = setup();
    await deliver(eventGridEvent(GRAPH_ALERT));
    const lines = await deliver(eventGridEvent(GRAPH_ALERT));
    expect(durable.started).toHaveLength(1);
    expect(lines).toEqual([
      expect.objectContaining({
        message: "alert collection already started",
        instanceId: alertInstanceId(GRAPH_ALERT.id, GRAPH_ALERT_DEVICE),
      }),
    ]);
  });

  it("starts one collection per device of the alert", async () => {
    const { durable, deliver } = setup();
    const other = { ...GRAPH_ALERT.evidence[0], mdeDeviceId: "f70f9fe6b29cd9511652434919c6530618f06606", deviceDnsName: "desktop-test" };
    await deliver(eventGridEvent({ ...GRAPH_ALERT, evidence: [...GRAPH_ALERT.evidence, other] }));
    expect(durable.started.map((s) => s.input.request.machineId)).toEqual([GRAPH_ALERT_DEVICE, "f70f9fe6b29cd9511652434919c6530618f06606"]);
  });

  it("fetches the alert a Graph change notification only references, then applies the rules", async () => {
    const getAlert = jest.fn(async () => ({ ...MDE_ALERT, id: GRAPH_ALERT.id }));
    const { durable, deliver } = setup(getAlert);
    await deliver(GRAPH_ALERT_CREATED);
    expect(getAlert).toHaveBeenCalledWith(GRAPH_ALERT.id);
    expect(durable.started[0]!.instanceId).toBe(alertInstanceId(GRAPH_ALERT.id, MDE_ALERT_MACHINE));
  });

  it("drops a reference to an alert MDE does not know, and throws on a transient fetch failure so Event Grid retries", async () => {
    const missing = setup(
      jest.fn(async () => {
        throw new MdeApiError({ statusCode: 404, code: "NotFound", message: "no" });
      }),
    );
    const lines = await missing.deliver(GRAPH_ALERT_CREATED);
    expect(lines).toEqual([
      expect.objectContaining({ level: "warn", message: "alert event dropped", reason: "MDE refused to return the alert: 404 NotFound" }),
    ]);
    const flaky = setup(
      jest.fn(async () => {
        throw new MdeApiError({ statusCode: 503, code: "HttpError503", message: "busy" });
      }),
    );
    await expect(flaky.deliver(GRAPH_ALERT_CREATED)).rejects.toThrow(MdeApiError);
  });

  it.each([
    ["an event in neither schema", { hello: "world" }, "not an Event Grid event (id, eventType) or a CloudEvent (id, type, specversion)"],
    [
      "an unknown payload",
      eventGridEvent({ foo: 1 }),
      "event data is not a Graph security alert, an MDE alert or a Sentinel SecurityAlert row",
    ],
    [
      "Sentinel Entities that are not JSON",
      cloudEvent({ ...SENTINEL_ALERT, Entities: "{not json" }),
      "SecurityAlert Entities is not valid JSON",
    ],
    ["data that is a string but not JSON", cloudEvent("<xml/>"), "event data is a string that is not JSON"],
    [
      "an alert without a device",
      eventGridEvent({ ...GRAPH_ALERT, evidence: [] }),
      "the alert names no MDE device (mdeDeviceId, machineId or MdatpDeviceId)",
    ],
  ])("drops %s with one structured log line, without throwing", async (_name, event, reason) => {
    const { durable, deliver } = setup();
    const lines = await deliver(event);
    expect(durable.started).toEqual([]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "warn", message: "alert event dropped", function: "alertCollection", reason });
  });

  it("logs and ignores an alert no rule matches", async () => {
    const { durable, deliver } = setup();
    const lines = await deliver(eventGridEvent({ ...MDE_ALERT, category: "Exfiltration" }));
    expect(durable.started).toEqual([]);
    expect(lines).toEqual([
      {
        level: "info",
        message: "alert matched no rule; ignored",
        function: "alertCollection",
        eventId: expect.any(String),
        alertId: MDE_ALERT.id,
        source: "mde",
        severity: "low",
      },
    ]);
  });

  it("refuses, with a log line, a playbook that needs a file the alert lacks", async () => {
    const { durable, deliver } = setup();
    const withoutFile = { ...GRAPH_ALERT, evidence: [GRAPH_ALERT.evidence[0]] };
    const lines = await deliver(eventGridEvent(withoutFile));
    expect(durable.started).toEqual([]);
    expect(lines[0]).toMatchObject({
      level: "warn",
      message: "alert collection refused",
      rule: "hidden-files",
      reason: "commands[0].params[0].value: {{alert.filePath}} has no value for this collection",
    });
  });
});
