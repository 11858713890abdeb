import { alertToActOn } from "../../../../shared/alerts/claim";
import { alertClaimOf, parseAlertPayload, parseEventEnvelope, type AlertEvent } from "../../../../shared/alerts/event";
import { alertPlaceholderValues, capDevices, fullPath, type NormalizedAlert } from "../../../../shared/alerts/normalize";
import { cloudEvent, eventGridEvent } from "../../../support/fixtures/alerts/envelopes";
import { GRAPH_ALERT, GRAPH_ALERT_DEVICE, GRAPH_ALERT_IN_MDE } from "../../../support/fixtures/alerts/graphAlert";
import { GRAPH_ALERT_CREATED } from "../../../support/fixtures/alerts/graphNotification";
import { MDE_ALERT, MDE_ALERT_MACHINE } from "../../../support/fixtures/alerts/mdeAlert";
import {
  SENTINEL_ALERT,
  SENTINEL_ALERT_MACHINE,
  SENTINEL_PROCESS_ALERT,
  SENTINEL_PROCESS_ALERT_MDE_ID,
} from "../../../support/fixtures/alerts/sentinelAlert";

function parsed(payload: unknown): NormalizedAlert {
  const r = parseAlertPayload(payload);
  if (!r.ok) throw new Error(r.reason);
  return r.alert;
}

function envelope(event: unknown): AlertEvent {
  const r = parseEventEnvelope(event);
  if (!r.ok) throw new Error(r.reason);
  return r.event;
}

describe("alert payloads from Microsoft's published examples", () => {
  it("normalizes the Graph alerts_v2 example: device from deviceEvidence, file from fileEvidence.fileDetails", () => {
    expect(parsed(GRAPH_ALERT)).toEqual({
      source: "graph",
      id: "da637578995287051192_756343937",
      severity: "low",
      title: "Suspicious execution of hidden file",
      category: "DefenseEvasion",
      detectionSource: "antivirus",
      product: "microsoftDefenderForEndpoint",
      devices: [{ machineId: GRAPH_ALERT_DEVICE, computerDnsName: "tempDns" }],
      files: [
        {
          directory: "C:\\Program Files\\temp",
          name: "MsSense.exe",
          sha256: "8963a19fb992ad9a76576c5638fd68292cffb9aaac29eb8285f9abf6196a7dec",
          machineId: "73e7e2de709dff64ef64b1d0c30e67fab63279db",
        },
      ],
    });
  });

  it("normalizes the MDE API example: machineId, and only File evidence as files", () => {
    expect(parsed(MDE_ALERT)).toEqual({
      source: "mde",
      id: "da637472900382838869_1364969609",
      severity: "low",
      title: "Low-reputation arbitrary code executed by signed executable",
      category: "Execution",
      detectionSource: "WindowsDefenderAtp",
      product: "microsoftDefenderForEndpoint",
      devices: [{ machineId: MDE_ALERT_MACHINE, computerDnsName: "temp123.middleeast.corp.microsoft.com" }],
      files: [
        { directory: "c:\\temp", name: "suspicious.dll", sha256: "dc0ade0c95d6db98882bc8fa6707e64353cd6f7767ff48d6a81a6c2aef21c608" },
      ],
    });
  });

  it("normalizes a Sentinel SecurityAlert row: Entities is a JSON string, hashes are $ref'd", () => {
    expect(parsed(SENTINEL_ALERT)).toEqual({
      source: "sentinel",
      id: "5c9a7f2e-1b3d-4e6f-8a9b-0c1d2e3f4a5b",
      severity: "medium",
      title: "Low-reputation arbitrary code executed by signed executable",
      category: "Execution",
      detectionSource: "WindowsDefenderAtp",
      product: "Microsoft Defender Advanced Threat Protection",
      tactics: ["Execution"],
      alertType: "WindowsDefenderAtp",
      providerName: "MDATP",
      devices: [{ machineId: SENTINEL_ALERT_MACHINE, computerDnsName: "temp123.middleeast.corp.microsoft.com" }],
      files: [
        { directory: "c:\\temp", name: "suspicious.dll", sha256: "dc0ade0c95d6db98882bc8fa6707e64353cd6f7767ff48d6a81a6c2aef21c608" },
      ],
    });
  });

  it("gives a Sentinel row's Tactics, AlertType and ProviderName to the rules, one entry per tactic", () => {
    expect(parsed(SENTINEL_PROCESS_ALERT)).toMatchObject({
      tactics: ["Execution", "Persistence"],
      alertType: "WindowsDefenderAtp",
      providerName: "MDATP",
    });
    expect(parsed({ ...SENTINEL_ALERT, Tactics: "", AlertType: undefined, ProviderName: undefined })).not.toHaveProperty("tactics");
  });

  it("takes a Sentinel row's file evidence for {{alert.filePath}}, not the image of its first (parent) process", () => {
    const alert = parsed(SENTINEL_PROCESS_ALERT);
    expect(alert.files).toEqual([
      { directory: "C:\\Users\\Public", name: "invoice.ps1", sha256: "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0" },
    ]);
    expect(alertPlaceholderValues(alert, alert.devices[0]!)["alert.filePath"]).toBe("C:\\Users\\Public\\invoice.ps1");
  });

  it("lists every device of a Graph alert once", () => {
    const second = { ...GRAPH_ALERT.evidence[0], mdeDeviceId: "F70F9FE6B29CD9511652434919C6530618F06606", deviceDnsName: "desktop-test" };
    const alert = parsed({ ...GRAPH_ALERT, evidence: [...GRAPH_ALERT.evidence, second] });
    expect(alert.devices.map((d) => d.machineId)).toEqual([GRAPH_ALERT_DEVICE, "f70f9fe6b29cd9511652434919c6530618f06606"]);
  });

  it("gives each device of a multi-device Graph alert the file seen on that device", () => {
    const other = "f70f9fe6b29cd9511652434919c6530618f06606";
    const files = GRAPH_ALERT.evidence.filter((e) => e["@odata.type"] === "#microsoft.graph.security.fileEvidence");
    const otherFile = {
      ...files[0],
      mdeDeviceId: other,
      fileDetails: { ...(files[0] as { fileDetails: object }).fileDetails, filePath: "D:\\drop", fileName: "other.exe" },
    };
    const device = { ...GRAPH_ALERT.evidence[0], mdeDeviceId: other, deviceDnsName: "desktop-test" };
    // The other device's file comes first, so taking the first file would give the wrong path.
    const alert = parsed({ ...GRAPH_ALERT, evidence: [otherFile, ...GRAPH_ALERT.evidence, device] });
    const paths = Object.fromEntries(alert.devices.map((d) => [d.machineId, alertPlaceholderValues(alert, d)["alert.filePath"]]));
    expect(paths).toEqual({ [GRAPH_ALERT_DEVICE]: "C:\\Program Files\\temp\\MsSense.exe", [other]: "D:\\drop\\other.exe" });
  });

  it("fills the playbook placeholders, joining directory and file name", () => {
    const alert = parsed(GRAPH_ALERT);
    expect(alertPlaceholderValues(alert, alert.devices[0]!)).toMatchObject({
      "alert.filePath": "C:\\Program Files\\temp\\MsSense.exe",
      "alert.fileName": "MsSense.exe",
      "machine.id": GRAPH_ALERT_DEVICE,
      "machine.computerDnsName": "tempDns",
    });
    expect(fullPath({ directory: "/tmp/", name: "x.sh" })).toBe("/tmp/x.sh");
  });

  it.each([
    ["not an object", "alert", /not a JSON object/],
    ["no known shape", { hello: "world" }, /not a Graph security alert/],
    ["a Graph alert without id", { ...GRAPH_ALERT, id: undefined }, /without an id/],
    ["Sentinel Entities that are not JSON", { ...SENTINEL_ALERT, Entities: "[{" }, /Entities is not valid JSON/],
  ])("refuses %s with a reason", (_name, payload, reason) => {
    const r = parseAlertPayload(payload);
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(reason) });
  });

  it("caps the devices an alert may collect from, keeping the first ones", () => {
    const devices = ["a", "b", "c"].map((c) => ({ machineId: c.repeat(40) }));
    expect(capDevices(devices, 2)).toEqual({ selected: devices.slice(0, 2), skipped: devices.slice(2) });
    expect(capDevices(devices, 5)).toEqual({ selected: devices, skipped: [] });
  });
});

describe("event envelopes", () => {
  it("reads the Event Grid schema and the CloudEvents schema", () => {
    expect(envelope(eventGridEvent(MDE_ALERT))).toMatchObject({
      schema: "eventGrid",
      type: "Contoso.Security.AlertCreated",
      data: MDE_ALERT,
    });
    expect(envelope(cloudEvent(SENTINEL_ALERT))).toMatchObject({ schema: "cloudEvents", id: "A234-1234-1234", data: SENTINEL_ALERT });
  });

  it("parses data sent as a JSON string", () => {
    expect(envelope(cloudEvent(JSON.stringify(MDE_ALERT))).data).toEqual(MDE_ALERT);
  });

  it("refuses something that is neither schema", () => {
    expect(parseEventEnvelope({ data: {} })).toEqual({ ok: false, reason: expect.stringContaining("not an Event Grid event") });
    expect(parseEventEnvelope(null)).toEqual({ ok: false, reason: "the event is not a JSON object" });
  });

  it("reads the parsed data of a string-encoded event like any other", () => {
    expect(alertClaimOf(envelope(cloudEvent(JSON.stringify(MDE_ALERT))))).toMatchObject({ ok: true, claim: { mdeAlertId: MDE_ALERT.id } });
  });
});

/** The claim of an event, or its drop reason. */
const claimOf = (event: unknown) => alertClaimOf(envelope(event));

describe("what an event claims: the MDE alert id, per payload kind", () => {
  it("MDE alert: its id; its device only as a hint", () => {
    expect(claimOf(eventGridEvent(MDE_ALERT))).toEqual({
      ok: true,
      claim: { source: "mde", mdeAlertId: MDE_ALERT.id, claimedDevices: [MDE_ALERT_MACHINE] },
    });
  });

  it("Graph alerts_v2: providerAlertId (the id in Defender for Endpoint), else id", () => {
    expect(claimOf(eventGridEvent(GRAPH_ALERT))).toEqual({
      ok: true,
      claim: { source: "graph", mdeAlertId: GRAPH_ALERT.providerAlertId, claimedDevices: [GRAPH_ALERT_DEVICE] },
    });
    expect(claimOf(eventGridEvent({ ...GRAPH_ALERT, id: "graph-only-id", providerAlertId: "da1_2" }))).toMatchObject({
      ok: true,
      claim: { mdeAlertId: "da1_2" },
    });
    expect(claimOf(eventGridEvent({ ...GRAPH_ALERT, providerAlertId: undefined }))).toMatchObject({
      ok: true,
      claim: { mdeAlertId: GRAPH_ALERT.id },
    });
  });

  it("Graph alerts_v2 of another product: not in MDE, dropped before any call", () => {
    expect(claimOf(eventGridEvent({ ...GRAPH_ALERT, serviceSource: "microsoftDefenderForOffice365" }))).toEqual({
      ok: false,
      reason: "NotAnMdeAlert",
      detail: "a Graph alert from microsoftDefenderForOffice365: only Defender for Endpoint alerts can be read from MDE",
    });
  });

  it("Sentinel: the Defender portal AlertLink's id first (it has the da prefix VendorOriginalId may lack), then VendorOriginalId or ProviderAlertId of an MDATP row", () => {
    expect(claimOf(eventGridEvent(SENTINEL_PROCESS_ALERT))).toEqual({
      ok: true,
      claim: {
        source: "sentinel",
        mdeAlertId: SENTINEL_PROCESS_ALERT_MDE_ID,
        claimedDevices: ["4f22ab5dc4be96566ee3c9adb3b77280dc08bfdb"],
        tactics: ["Execution", "Persistence"],
        alertType: "WindowsDefenderAtp",
        providerName: "MDATP",
      },
    });
    expect(claimOf(eventGridEvent(SENTINEL_ALERT))).toMatchObject({
      ok: true,
      claim: { mdeAlertId: MDE_ALERT.id, claimedDevices: [SENTINEL_ALERT_MACHINE] },
    });
    expect(claimOf(eventGridEvent({ ...SENTINEL_ALERT, AlertLink: "" }))).toMatchObject({
      ok: true,
      claim: { mdeAlertId: SENTINEL_ALERT.VendorOriginalId },
    });
    // The Sentinel Logic Apps alert: ProviderAlertId, and ProductName without ProviderName.
    const logicApp = {
      ...SENTINEL_ALERT,
      AlertLink: undefined,
      VendorOriginalId: undefined,
      ProviderName: undefined,
      ProviderAlertId: "da9_9",
    };
    expect(claimOf(eventGridEvent(logicApp))).toMatchObject({ ok: true, claim: { mdeAlertId: "da9_9" } });
    // SystemAlertId is Sentinel's own id: it never reaches MDE.
    expect(JSON.stringify(claimOf(eventGridEvent(SENTINEL_ALERT)))).not.toContain(SENTINEL_ALERT.SystemAlertId);
  });

  const ASC = { ProviderName: "Azure Security Center", ProductName: "Azure Security Center" };
  it.each([
    [
      "a row of another provider without a Defender link",
      { ...SENTINEL_ALERT, ...ASC, AlertLink: "https://portal.azure.com/#blade/x/alertId/1" },
    ],
    ["a link to another host", { ...SENTINEL_ALERT, ...ASC, AlertLink: "https://security.microsoft.com.evil.example/alerts/da1_1" }],
  ])("Sentinel: %s names no MDE alert", (_name, row) => {
    expect(claimOf(eventGridEvent(row))).toMatchObject({
      ok: false,
      reason: "NotAnMdeAlert",
      detail: expect.stringContaining("names no MDE alert"),
    });
  });

  it("Graph AlertCreated notification: the referenced id", () => {
    expect(claimOf(GRAPH_ALERT_CREATED)).toEqual({
      ok: true,
      claim: { source: "graph", mdeAlertId: "da637578995287051192_756343937", claimedDevices: [] },
    });
    const bad = { ...GRAPH_ALERT_CREATED, subject: "Alert/../x", data: { changeType: "created", resourceData: {} } };
    expect(claimOf(bad)).toEqual({ ok: false, reason: "NotAnMdeAlert", detail: expect.stringContaining("no usable MDE alert id") });
  });

  it("a Graph change notification about anything else (a user, a group) is not an alert", () => {
    const userUpdated = {
      ...GRAPH_ALERT_CREATED,
      type: "Microsoft.Graph.UserUpdated",
      subject: "Users/4b1c",
      data: { ...GRAPH_ALERT_CREATED.data, resource: "Users/4b1c", resourceData: { id: "4b1c" } },
    };
    expect(claimOf(userUpdated)).toEqual({
      ok: false,
      reason: "NotAnAlert",
      detail: "a change notification that is not about a security alert (type Microsoft.Graph.UserUpdated)",
    });
    const forwarded = eventGridEvent({ changeType: "updated", resource: "groups/1", resourceData: { id: "1" } });
    expect(claimOf(forwarded)).toMatchObject({ ok: false, reason: "NotAnAlert" });
    const forwardedAlert = eventGridEvent({ changeType: "created", resource: "security/alerts/da1_2", resourceData: {} });
    expect(claimOf(forwardedAlert)).toMatchObject({ ok: true, claim: { mdeAlertId: "da1_2" } });
  });

  it("acts on MDE's devices, files and severity, with the publisher's kind and Sentinel's descriptors for the rules", () => {
    const fromMde = parsed(GRAPH_ALERT_IN_MDE);
    const claim = {
      source: "sentinel" as const,
      mdeAlertId: GRAPH_ALERT.id,
      claimedDevices: ["f".repeat(40)],
      tactics: ["Execution"],
      providerName: "MDATP",
    };
    expect(alertToActOn(fromMde, claim)).toEqual({ ...fromMde, source: "sentinel", tactics: ["Execution"], providerName: "MDATP" });
  });
});
