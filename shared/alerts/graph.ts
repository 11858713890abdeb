/**
 * Microsoft Graph security alerts (alerts_v2, `#microsoft.graph.security.alert`): devices come
 * from `deviceEvidence.mdeDeviceId`, files from `fileEvidence.fileDetails` (whose `filePath` is the
 * directory). Source: learn.microsoft.com/graph/api/security-alert-get and the evidence resource pages.
 */
import { echoName } from "../validation";
import { claimOf, type ClaimResult } from "./claim";
import { addDevice, isRecord, normalizeSeverity, str, type AlertFile, type AlertParse, type NormalizedAlert } from "./normalize";

const DEVICE = "#microsoft.graph.security.deviceEvidence";
const FILE = "#microsoft.graph.security.fileEvidence";

/** True for a payload shaped like a Graph security alert. */
export function isGraphAlert(payload: Record<string, unknown>): boolean {
  if (str(payload["@odata.type"])?.toLowerCase() === "#microsoft.graph.security.alert") return true;
  return Array.isArray(payload.evidence) && payload.evidence.some((e) => isRecord(e) && typeof e["@odata.type"] === "string");
}

/** Parses a Graph security alert as its publisher sent it. */
export function parseGraphAlert(payload: Record<string, unknown>): AlertParse {
  const id = str(payload.id);
  if (!id) return { ok: false, reason: "Graph alert without an id" };
  const evidence = Array.isArray(payload.evidence) ? payload.evidence.filter(isRecord) : [];
  const alert: NormalizedAlert = {
    source: "graph",
    id,
    severity: normalizeSeverity(payload.severity),
    title: str(payload.title),
    category: str(payload.category),
    detectionSource: str(payload.detectionSource),
    product: str(payload.serviceSource),
    devices: [],
    files: [],
  };
  for (const e of evidence.filter((x) => x["@odata.type"] === DEVICE)) addDevice(alert.devices, e.mdeDeviceId, e.deviceDnsName);
  // Other evidence (files, processes) names the device it was seen on too.
  for (const e of evidence) addDevice(alert.devices, e.mdeDeviceId, undefined);
  for (const e of evidence.filter((x) => x["@odata.type"] === FILE && isRecord(x.fileDetails))) {
    const d = e.fileDetails as Record<string, unknown>;
    const file: AlertFile = { directory: str(d.filePath), name: str(d.fileName), sha256: str(d.sha256)?.toLowerCase() };
    const seenOn = str(e.mdeDeviceId)?.toLowerCase();
    if (seenOn) file.machineId = seenOn;
    if (file.directory || file.name || file.sha256) alert.files.push(file);
  }
  return { ok: true, alert };
}

/** The only `serviceSource` whose alerts MDE's API holds. */
const MDE_SERVICE_SOURCE = "microsoftdefenderforendpoint";

/** What a Graph alert in an event claims: its MDE alert id (`providerAlertId`, else `id`), devices as a hint. */
export function graphAlertClaim(payload: Record<string, unknown>): ClaimResult {
  const parsed = parseGraphAlert(payload);
  if (!parsed.ok) return { ok: false, reason: "MalformedEvent", detail: parsed.reason };
  const service = str(payload.serviceSource);
  if (service && service.toLowerCase() !== MDE_SERVICE_SOURCE) {
    const detail = `a Graph alert from ${echoName(service)}: only Defender for Endpoint alerts can be read from MDE`;
    return { ok: false, reason: "NotAnMdeAlert", detail };
  }
  const id = str(payload.providerAlertId) ?? parsed.alert.id;
  return claimOf("graph", id, { claimedDevices: parsed.alert.devices.map((d) => d.machineId) }, "the Graph alert");
}
