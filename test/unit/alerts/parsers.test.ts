import { alertReference, parseAlertPayload, parseEventEnvelope, type AlertEvent } from "../../../shared/alerts/event";
import { alertPlaceholderValues, fullPath, type NormalizedAlert } from "../../../shared/alerts/normalize";
import { cloudEvent, eventGridEvent } from "../../fixtures/alerts/envelopes";
import { GRAPH_ALERT, GRAPH_ALERT_DEVICE } from "../../fixtures/alerts/graphAlert";
import { GRAPH_ALERT_CREATED } from "../../fixtures/alerts/graphNotification";
import { MDE_ALERT, MDE_ALERT_MACHINE } from "../../fixtures/alerts/mdeAlert";
import { SENTINEL_ALERT, SENTINEL_ALERT_MACHINE } from "../../fixtures/alerts/sentinelAlert";

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
      files: [{ directory: "C:\\Program Files\\temp", name: "MsSense.exe", sha256: "8963a19fb992ad9a76576c5638fd68292cffb9aaac29eb8285f9abf6196a7dec", machineId: "73e7e2de709dff64ef64b1d0c30e67fab63279db" }],
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
      files: [{ directory: "c:\\temp", name: "suspicious.dll", sha256: "dc0ade0c95d6db98882bc8fa6707e64353cd6f7767ff48d6a81a6c2aef21c608" }],
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
      devices: [{ machineId: SENTINEL_ALERT_MACHINE, computerDnsName: "temp123.middleeast.corp.microsoft.com" }],
      files: [{ directory: "c:\\temp", name: "suspicious.dll", sha256: "dc0ade0c95d6db98882bc8fa6707e64353cd6f7767ff48d6a81a6c2aef21c608" }],
    });
  });

  it("lists every device of a Graph alert once", () => {
    const second = { ...GRAPH_ALERT.evidence[0], mdeDeviceId: "F70F9FE6B29CD9511652434919C6530618F06606", deviceDnsName: "desktop-test" };
    const alert = parsed({ ...GRAPH_ALERT, evidence: [...GRAPH_ALERT.evidence, second] });
    expect(alert.devices.map((d) => d.machineId)).toEqual([GRAPH_ALERT_DEVICE, "f70f9fe6b29cd9511652434919c6530618f06606"]);
  });

  it("gives each device of a multi-device Graph alert the file seen on that device", () => {
    const other = "f70f9fe6b29cd9511652434919c6530618f06606";
    const files = GRAPH_ALERT.evidence.filter((e) => e["@odata.type"] === "#microsoft.graph.security.fileEvidence");
    const otherFile = { ...files[0], mdeDeviceId: other, fileDetails: { ...(files[0] as { fileDetails: object }).fileDetails, filePath: "D:\\drop", fileName: "other.exe" } };
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
});

describe("event envelopes", () => {
  it("reads the Event Grid schema and the CloudEvents schema", () => {
    expect(envelope(eventGridEvent(MDE_ALERT))).toMatchObject({ schema: "eventGrid", type: "Contoso.Security.AlertCreated", data: MDE_ALERT });
    expect(envelope(cloudEvent(SENTINEL_ALERT))).toMatchObject({ schema: "cloudEvents", id: "A234-1234-1234", data: SENTINEL_ALERT });
  });

  it("parses data sent as a JSON string", () => {
    expect(envelope(cloudEvent(JSON.stringify(MDE_ALERT))).data).toEqual(MDE_ALERT);
  });

  it("refuses something that is neither schema", () => {
    expect(parseEventEnvelope({ data: {} })).toEqual({ ok: false, reason: expect.stringContaining("not an Event Grid event") });
    expect(parseEventEnvelope(null)).toEqual({ ok: false, reason: "the event is not a JSON object" });
  });

  it("recognizes the Graph AlertCreated notification as a reference to the alert", () => {
    expect(alertReference(envelope(GRAPH_ALERT_CREATED))).toEqual({ id: "da637578995287051192_756343937" });
    expect(alertReference(envelope(eventGridEvent(GRAPH_ALERT)))).toBeUndefined();
    const bad = { ...GRAPH_ALERT_CREATED, subject: "Alert/../x", data: { changeType: "created", resourceData: {} } };
    expect(alertReference(envelope(bad))).toEqual({ invalid: expect.stringContaining("without a usable alert id") });
  });
});
