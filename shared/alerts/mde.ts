/**
 * MDE API alerts (`GET /api/alerts/{id}`): one device (`machineId`, `computerDnsName`), files from
 * `evidence[]` entries with `entityType` "File" (`filePath` is the directory). Source:
 * MicrosoftDocs/defender-docs, defender-endpoint/api/alerts.md.
 */
import { claimOf, type ClaimResult } from "./claim";
import { addDevice, isRecord, normalizeSeverity, str, type AlertParse, type NormalizedAlert } from "./normalize";

/** True for a payload shaped like an MDE API alert. */
export function isMdeAlert(payload: Record<string, unknown>): boolean {
  return typeof payload.machineId === "string" || typeof payload.alertCreationTime === "string";
}

/** Parses an MDE API alert: what `GET /api/alerts/{id}` answers, and the only alert the collector acts on. */
export function parseMdeAlert(payload: Record<string, unknown>): AlertParse {
  const id = str(payload.id);
  if (!id) return { ok: false, reason: "MDE alert without an id" };
  const alert: NormalizedAlert = {
    source: "mde",
    id,
    severity: normalizeSeverity(payload.severity),
    title: str(payload.title),
    category: str(payload.category),
    detectionSource: str(payload.detectionSource),
    product: "microsoftDefenderForEndpoint",
    devices: [],
    files: [],
  };
  addDevice(alert.devices, payload.machineId, payload.computerDnsName);
  const evidence = Array.isArray(payload.evidence) ? payload.evidence.filter(isRecord) : [];
  for (const e of evidence.filter((x) => str(x.entityType)?.toLowerCase() === "file")) {
    alert.files.push({ directory: str(e.filePath), name: str(e.fileName), sha256: str(e.sha256)?.toLowerCase() });
  }
  return { ok: true, alert };
}

/** What an MDE alert in an event claims: its `id`, and its device as a hint. */
export function mdeAlertClaim(payload: Record<string, unknown>): ClaimResult {
  const parsed = parseMdeAlert(payload);
  if (!parsed.ok) return { ok: false, reason: "MalformedEvent", detail: parsed.reason };
  return claimOf("mde", parsed.alert.id, { claimedDevices: parsed.alert.devices.map((d) => d.machineId) }, "the MDE alert");
}
