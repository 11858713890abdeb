import { alertInstanceId, createAlertCollection, type AlertCollectionDeps } from "../../../functions/alertCollection";
import { loadConfig } from "../../../shared/config";
import { CollectorError, MdeApiError } from "../../../shared/errors";
import { cloudEvent, eventGridEvent } from "../../support/fixtures/alerts/envelopes";
import { GRAPH_ALERT, GRAPH_ALERT_DEVICE, GRAPH_ALERT_IN_MDE } from "../../support/fixtures/alerts/graphAlert";
import { GRAPH_ALERT_CREATED } from "../../support/fixtures/alerts/graphNotification";
import { MDE_ALERT, MDE_ALERT_MACHINE } from "../../support/fixtures/alerts/mdeAlert";
import {
  SENTINEL_ALERT,
  SENTINEL_ALERT_MACHINE,
  SENTINEL_PROCESS_ALERT,
  SENTINEL_PROCESS_ALERT_MDE_ID,
} from "../../support/fixtures/alerts/sentinelAlert";
import { fakeMde } from "../../support/fakes";
import { capturingContext, fakeDurableAccess } from "../../support/triggerFakes";
import { ENTRA_TEST_SETTINGS } from "../../support/settings";

const config = loadConfig({
  ...ENTRA_TEST_SETTINGS,
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
    { name: "sentinel-persistence", playbook: "alert-file", sources: ["sentinel"], tactics: ["Persistence"], providerNames: ["MDATP"] },
    { name: "hidden-files", playbook: "alert-file", sources: ["graph"], titlePatterns: ["/hidden file/i"] },
    { name: "execution", playbook: "execution-triage", parameters: { depth: "2" }, minSeverity: "low", categories: ["execution"] },
  ]),
});

/** What MDE holds: the alerts of the fixtures as `GET /api/alerts/{id}` answers them. */
const MDE_ALERTS: Record<string, Record<string, unknown>> = {
  [MDE_ALERT.id]: MDE_ALERT,
  [GRAPH_ALERT.id]: GRAPH_ALERT_IN_MDE,
  [SENTINEL_PROCESS_ALERT_MDE_ID]: { ...MDE_ALERT, id: SENTINEL_PROCESS_ALERT_MDE_ID },
};

const notFound = () => new MdeApiError({ statusCode: 404, code: "NotFound", message: "Alert was not found", target: "c0rr-404" });

/** A getAlert that answers like MDE from {@link MDE_ALERTS} (or `alerts`), 404 for any other id. */
const mdeAlerts = (alerts = MDE_ALERTS) =>
  jest.fn(async (id: string) => {
    const alert = alerts[id];
    if (!alert) throw notFound();
    return structuredClone(alert);
  });

function setup(
  options: { getAlert?: jest.Mock; durable?: ReturnType<typeof fakeDurableAccess>; deps?: Partial<AlertCollectionDeps> } = {},
) {
  const durable = options.durable ?? fakeDurableAccess();
  const getAlert = options.getAlert ?? mdeAlerts();
  const mde = fakeMde({ getAlert });
  const sleep = jest.fn(async (_ms: number) => {});
  const handler = createAlertCollection({
    mde,
    rules: config.alertRules,
    playbooks: config.playbooks,
    collection: config.collection,
    maxDevicesPerAlert: config.limits.maxDevicesPerAlert,
    allowUncPaths: config.allowUncPaths,
    now: () => new Date("2026-03-02T09:00:00Z"),
    durable: () => durable.access,
    fetch: { sleep },
    ...options.deps,
  });
  const deliver = async (event: unknown) => {
    const { context, lines } = capturingContext("alertCollection");
    await handler(event, context);
    return lines;
  };
  return { durable, getAlert, sleep, deliver };
}

describe("alertCollection acts only on the alert as MDE answers it", () => {
  it("fetches a Graph alert by its id, and collects the file MDE names on the device MDE names (Event Grid schema)", async () => {
    const { durable, getAlert, deliver } = setup();
    const lines = await deliver(eventGridEvent(GRAPH_ALERT));
    expect(getAlert).toHaveBeenCalledTimes(1);
    expect(getAlert).toHaveBeenCalledWith(GRAPH_ALERT.providerAlertId, expect.objectContaining({ abortSignal: expect.any(AbortSignal) }));
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
              // The alert's file evidence on this device: the manifest and status compare the collected file with it.
              expectedSha256: ["8963a19fb992ad9a76576c5638fd68292cffb9aaac29eb8285f9abf6196a7dec"],
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

  it("reads a Sentinel row's MDE alert id, and collects on MDE's device with MDE's severity, not the row's host and severity", async () => {
    const { durable, getAlert, deliver } = setup();
    await deliver(eventGridEvent(SENTINEL_ALERT));
    expect(getAlert).toHaveBeenCalledWith(MDE_ALERT.id, expect.anything());
    expect(durable.started.map((s) => [s.instanceId, s.input.request.machineId, s.input.request.trigger])).toEqual([
      [
        alertInstanceId(MDE_ALERT.id, MDE_ALERT_MACHINE),
        MDE_ALERT_MACHINE,
        expect.objectContaining({ alertId: MDE_ALERT.id, source: "sentinel", severity: "low", rule: "execution" }),
      ],
    ]);
    expect(durable.started.map((s) => s.input.request.machineId)).not.toContain(SENTINEL_ALERT_MACHINE);
  });

  it("lets rules match a Sentinel row's Tactics and ProviderName", async () => {
    const { durable, getAlert, deliver } = setup();
    await deliver(eventGridEvent(SENTINEL_PROCESS_ALERT));
    expect(getAlert).toHaveBeenCalledWith(SENTINEL_PROCESS_ALERT_MDE_ID, expect.anything());
    expect(durable.started.map((s) => s.input.request.trigger)).toEqual([
      expect.objectContaining({ source: "sentinel", rule: "sentinel-persistence" }),
    ]);
  });

  it("ignores the devices and file paths a forged event names: one event naming 500 devices and a share starts one collection, on MDE's device and file", async () => {
    const { durable, deliver } = setup();
    const forgedDevices = Array.from({ length: 500 }, (_, i) => ({
      "@odata.type": "#microsoft.graph.security.deviceEvidence",
      mdeDeviceId: i.toString(16).padStart(40, "0"),
    }));
    const forgedFile = {
      "@odata.type": "#microsoft.graph.security.fileEvidence",
      mdeDeviceId: forgedDevices[0]!.mdeDeviceId,
      fileDetails: { filePath: "\\\\attacker.example\\loot", fileName: "payload.exe" },
    };
    await deliver(eventGridEvent({ ...GRAPH_ALERT, evidence: [...forgedDevices, forgedFile] }));
    expect(durable.started.map((s) => [s.input.request.machineId, s.input.request.commands])).toEqual([
      [GRAPH_ALERT_DEVICE, [{ type: "GetFile", params: [{ key: "Path", value: "C:\\Program Files\\temp\\MsSense.exe" }] }]],
    ]);
    // The claimed devices serve only the duplicate check, and only ALERT_MAX_DEVICES of them.
    expect(durable.lookups.length).toBeLessThanOrEqual(config.limits.maxDevicesPerAlert + 1);
  });

  it("drops, with one log line and nothing started, an event naming an alert MDE does not know (404)", async () => {
    const { durable, getAlert, deliver } = setup();
    const lines = await deliver(cloudEvent({ ...MDE_ALERT, id: "da000000000000000000_1" }));
    expect(getAlert).toHaveBeenCalledTimes(1);
    expect(durable.started).toEqual([]);
    expect(lines).toEqual([
      expect.objectContaining({
        level: "warn",
        message: "alert event dropped",
        alertId: "da000000000000000000_1",
        reason: "AlertNotFound",
        detail: expect.stringContaining("c0rr-404"),
      }),
    ]);
  });

  it.each([
    ["a Graph alert of another product", eventGridEvent({ ...GRAPH_ALERT, serviceSource: "microsoftDefenderForIdentity" })],
    [
      "a Sentinel row of another provider",
      eventGridEvent({ ...SENTINEL_ALERT, ProviderName: "ASI Scheduled Alerts", ProductName: "Azure Sentinel", AlertLink: "" }),
    ],
  ])("drops %s, which cannot be tied to an MDE alert, without an MDE call", async (_name, event) => {
    const { durable, getAlert, deliver } = setup();
    const lines = await deliver(event);
    expect(getAlert).not.toHaveBeenCalled();
    expect(durable.started).toEqual([]);
    expect(lines).toEqual([expect.objectContaining({ level: "warn", message: "alert event dropped", reason: "NotAnMdeAlert" })]);
  });

  it("refuses a GetFile path on a network share from MDE's own evidence unless GETFILE_ALLOW_UNC_PATHS, passing the setting to the starter", async () => {
    const onShare = { ...GRAPH_ALERT_IN_MDE, evidence: [{ ...GRAPH_ALERT_IN_MDE.evidence[0]!, filePath: "\\\\fileserver\\share" }] };
    const getAlert = () => mdeAlerts({ [GRAPH_ALERT.id]: onShare });
    const refused = setup({ getAlert: getAlert() });
    const lines = await refused.deliver(eventGridEvent(GRAPH_ALERT));
    expect(refused.durable.started).toEqual([]);
    expect(lines).toEqual([
      expect.objectContaining({ message: "alert collection refused", reason: expect.stringContaining("GETFILE_ALLOW_UNC_PATHS") }),
    ]);
    const allowed = setup({ getAlert: getAlert(), deps: { allowUncPaths: true } });
    await allowed.deliver(eventGridEvent(GRAPH_ALERT));
    expect(allowed.durable.started.map((s) => s.input.request.commands[0]!.params[0]!.value)).toEqual([
      "\\\\fileserver\\share\\MsSense.exe",
    ]);
  });
});

describe("alertCollection: one event never fails its batch", () => {
  it("drops a Graph change notification about anything but an alert with one info line, without an MDE call", async () => {
    const { getAlert, deliver } = setup();
    const userUpdated = {
      ...GRAPH_ALERT_CREATED,
      type: "Microsoft.Graph.UserUpdated",
      subject: "Users/4b1c",
      data: { changeType: "updated", resource: "Users/4b1c", resourceData: { id: "4b1c" } },
    };
    const lines = await deliver(userUpdated);
    expect(getAlert).not.toHaveBeenCalled();
    expect(lines).toEqual([
      {
        level: "info",
        message: "alert event dropped",
        function: "alertCollection",
        eventId: GRAPH_ALERT_CREATED.id,
        reason: "NotAnAlert",
        detail: "a change notification that is not about a security alert (type Microsoft.Graph.UserUpdated)",
      },
    ]);
  });

  it("fetches the alert a Graph AlertCreated notification references, then applies the rules", async () => {
    const { durable, getAlert, deliver } = setup();
    await deliver(GRAPH_ALERT_CREATED);
    expect(getAlert).toHaveBeenCalledWith(GRAPH_ALERT.id, expect.anything());
    expect(durable.started.map((s) => s.instanceId)).toEqual([alertInstanceId(GRAPH_ALERT.id, GRAPH_ALERT_DEVICE)]);
  });

  it.each([401, 403])("logs an error naming Alert.Read.All on a %i, asks once, and does not throw", async (status) => {
    const getAlert = jest.fn(async () => {
      throw new MdeApiError({ statusCode: status, code: "Forbidden", message: "Missing application roles", target: "c0rr-403" });
    });
    const { durable, deliver } = setup({ getAlert });
    const lines = await deliver(GRAPH_ALERT_CREATED);
    expect(getAlert).toHaveBeenCalledTimes(1);
    expect(durable.started).toEqual([]);
    expect(lines).toEqual([
      expect.objectContaining({
        level: "error",
        message: "alert event dropped",
        reason: "AccessDenied",
        attempts: 1,
        detail: expect.stringMatching(/Alert\.Read\.All.*c0rr-403/),
      }),
    ]);
  });

  it("waits out a 429's Retry-After on this event alone, then collects", async () => {
    let calls = 0;
    const getAlert = jest.fn(async (id: string) => {
      if (++calls === 1) throw new MdeApiError({ statusCode: 429, code: "TooManyRequests", message: "slow down", retryAfterInMs: 3000 });
      return structuredClone(MDE_ALERTS[id]!);
    });
    const { durable, sleep, deliver } = setup({ getAlert });
    await deliver(eventGridEvent(GRAPH_ALERT));
    expect(sleep.mock.calls).toEqual([[3000]]);
    expect(durable.started).toHaveLength(1);
  });

  it("retries 5xx and network failures a bounded number of times, then drops the event as SourceUnavailable without throwing", async () => {
    const failures = [
      new MdeApiError({ code: "NetworkError", message: "socket hang up" }),
      new MdeApiError({ statusCode: 503, code: "ServiceUnavailable", message: "busy" }),
      new CollectorError("TokenUnavailable", "identity endpoint down"),
      new MdeApiError({ statusCode: 500, code: "InternalServerError", message: "oops" }),
      new MdeApiError({ statusCode: 502, code: "BadGateway", message: "never reached" }),
    ];
    const getAlert = jest.fn(async () => {
      throw failures.shift();
    });
    const { durable, sleep, deliver } = setup({ getAlert });
    const lines = await deliver(eventGridEvent(GRAPH_ALERT));
    expect(getAlert).toHaveBeenCalledTimes(4);
    expect(sleep.mock.calls).toEqual([[1000], [2000], [4000]]);
    expect(durable.started).toEqual([]);
    expect(lines).toEqual([
      expect.objectContaining({
        level: "warn",
        message: "alert event dropped",
        reason: "SourceUnavailable",
        attempts: 4,
        detail: expect.stringContaining("InternalServerError"),
      }),
    ]);
  });

  it("gives up at once when MDE asks to wait past the event's time budget", async () => {
    const getAlert = jest.fn(async () => {
      throw new MdeApiError({ statusCode: 429, code: "TooManyRequests", message: "slow down", retryAfterInMs: 60_000 });
    });
    const { sleep, deliver } = setup({ getAlert });
    const lines = await deliver(eventGridEvent(GRAPH_ALERT));
    expect(getAlert).toHaveBeenCalledTimes(1);
    expect(sleep).not.toHaveBeenCalled();
    expect(lines).toEqual([
      expect.objectContaining({ reason: "SourceUnavailable", detail: expect.stringContaining("would pass the 20000 ms budget") }),
    ]);
  });

  it("logs a Durable failure to start a collection and returns normally", async () => {
    const durable = fakeDurableAccess({
      startNew: async () => {
        throw new Error("task hub unavailable");
      },
    });
    const { deliver } = setup({ durable });
    await expect(deliver(eventGridEvent(GRAPH_ALERT))).resolves.toEqual([
      expect.objectContaining({
        level: "error",
        message: "alert collection failed to start",
        machineId: GRAPH_ALERT_DEVICE,
        detail: "task hub unavailable",
      }),
    ]);
  });

  it("logs anything unforeseen (here: no durable client binding) as one error line and returns normally", async () => {
    const noBinding = () => {
      throw new CollectorError("DurableClientBindingMissing", "Function alertCollection has no durable client binding");
    };
    const { getAlert, deliver } = setup({ deps: { durable: noBinding } });
    await expect(deliver(eventGridEvent(GRAPH_ALERT))).resolves.toEqual([
      expect.objectContaining({
        level: "error",
        message: "alert event failed",
        reason: "Unexpected",
        detail: expect.stringContaining("DurableClientBindingMissing"),
      }),
    ]);
    expect(getAlert).not.toHaveBeenCalled();
  });

  it.each([
    [
      "an event in neither schema",
      { hello: "world" },
      "MalformedEvent",
      "not an Event Grid event (id, eventType) or a CloudEvent (id, type, specversion)",
    ],
    [
      "an unknown payload",
      eventGridEvent({ foo: 1 }),
      "MalformedEvent",
      "event data is not a Graph security alert, an MDE alert or a Sentinel SecurityAlert row",
    ],
    [
      "Sentinel Entities that are not JSON",
      cloudEvent({ ...SENTINEL_ALERT, Entities: "{not json" }),
      "MalformedEvent",
      "SecurityAlert Entities is not valid JSON",
    ],
    ["data that is a string but not JSON", cloudEvent("<xml/>"), "MalformedEvent", "event data is a string that is not JSON"],
    [
      "an alert without a usable id",
      eventGridEvent({ ...MDE_ALERT, id: "../../machines" }),
      "NotAnMdeAlert",
      "the MDE alert carries no usable MDE alert id",
    ],
  ])("drops %s with one structured log line, without an MDE call or a throw", async (_name, event, reason, detail) => {
    const { durable, getAlert, deliver } = setup();
    const lines = await deliver(event);
    expect(getAlert).not.toHaveBeenCalled();
    expect(durable.started).toEqual([]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "warn", message: "alert event dropped", function: "alertCollection", reason, detail });
  });

  it("drops an alert whose MDE answer names no device", async () => {
    const { durable, deliver } = setup({ getAlert: mdeAlerts({ [MDE_ALERT.id]: { ...MDE_ALERT, machineId: null } }) });
    const lines = await deliver(eventGridEvent(MDE_ALERT));
    expect(durable.started).toEqual([]);
    expect(lines).toEqual([expect.objectContaining({ message: "alert event dropped", reason: "NoDevice" })]);
  });

  it("logs and ignores an alert no rule matches, judged on MDE's category, not the event's", async () => {
    const { durable, deliver } = setup({ getAlert: mdeAlerts({ [MDE_ALERT.id]: { ...MDE_ALERT, category: "Exfiltration" } }) });
    const lines = await deliver(eventGridEvent(MDE_ALERT));
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

  it("refuses, with a log line, a playbook that needs a file MDE's alert lacks", async () => {
    const withoutFile = { ...GRAPH_ALERT_IN_MDE, evidence: [GRAPH_ALERT_IN_MDE.evidence[1]!] };
    const { durable, deliver } = setup({ getAlert: mdeAlerts({ [GRAPH_ALERT.id]: withoutFile }) });
    const lines = await deliver(eventGridEvent(GRAPH_ALERT));
    expect(durable.started).toEqual([]);
    expect(lines[0]).toMatchObject({
      level: "warn",
      message: "alert collection refused",
      rule: "hidden-files",
      reason: "commands[0].params[0].value: {{alert.filePath}} has no value for this collection",
    });
  });
});

describe("alertCollection: duplicates are found before MDE is asked", () => {
  it("makes no second MDE call when Event Grid redelivers the event", async () => {
    const { durable, getAlert, deliver } = setup();
    await deliver(eventGridEvent(GRAPH_ALERT));
    const lines = await deliver(eventGridEvent(GRAPH_ALERT));
    expect(getAlert).toHaveBeenCalledTimes(1);
    expect(durable.started).toHaveLength(1);
    expect(lines).toEqual([
      expect.objectContaining({
        level: "info",
        message: "alert already collected; event skipped",
        alertId: GRAPH_ALERT.id,
        instanceId: alertInstanceId(GRAPH_ALERT.id, GRAPH_ALERT_DEVICE),
      }),
    ]);
  });

  it("makes no second MDE call for a redelivered Graph notification (which names no device) on the same worker", async () => {
    const { durable, getAlert, deliver } = setup();
    await deliver(GRAPH_ALERT_CREATED);
    const lines = await deliver(GRAPH_ALERT_CREATED);
    expect(getAlert).toHaveBeenCalledTimes(1);
    expect(durable.started).toHaveLength(1);
    expect(lines).toEqual([expect.objectContaining({ message: "alert already collected; event skipped" })]);
  });

  it("finds a collection another worker started for the same alert through another route (Sentinel after MDE)", async () => {
    const durable = fakeDurableAccess();
    const first = setup({ durable });
    await first.deliver(eventGridEvent(MDE_ALERT));
    const second = setup({ durable });
    const row = { ...SENTINEL_ALERT, Entities: SENTINEL_ALERT.Entities.replace(SENTINEL_ALERT_MACHINE, MDE_ALERT_MACHINE) };
    await second.deliver(eventGridEvent(row));
    expect(second.getAlert).not.toHaveBeenCalled();
    expect(durable.started).toHaveLength(1);
  });

  it("fetches when the claimed device has no collection yet, and still starts nothing twice", async () => {
    const durable = fakeDurableAccess();
    const first = setup({ durable });
    await first.deliver(eventGridEvent(SENTINEL_ALERT));
    // Another worker, an event naming a device MDE's alert is not on: the check cannot see it, the start can.
    const second = setup({ durable });
    const lines = await second.deliver(eventGridEvent(SENTINEL_ALERT));
    expect(second.getAlert).toHaveBeenCalledTimes(1);
    expect(durable.started).toHaveLength(1);
    expect(lines).toEqual([expect.objectContaining({ message: "alert collection already started" })]);
  });
});
