/**
 * MDE API alerts (`GET /api/alerts/{id}`): one device (`machineId`, `computerDnsName`), files from
 * `evidence[]` entries with `entityType` "File" (`filePath` is the directory). Source:
 * MicrosoftDocs/defender-docs, defender-endpoint/api/alerts.md.
 */
import { addDevice, isRecord, normalizeSeverity, str, type AlertParse, type NormalizedAlert } from "./normalize";

/** True for a payload shaped like an MDE API alert. */
export function isMdeAlert(payload: Record<string, unknown>): boolean {
  return typeof payload.machineId === "string" || typeof payload.alertCreationTime === "string";
}

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
