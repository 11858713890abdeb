/**
 * Microsoft Sentinel `SecurityAlert` rows (as a Sentinel automation or Logic App publishes them):
 * `Entities` is a JSON **string** of entities linked by `$id`/`$ref`; host entities carry
 * `MdatpDeviceId`, file entities `Directory`/`Name` and `FileHashes`. Source: the SecurityAlert
 * table reference and the Sentinel entities reference (learn.microsoft.com/azure/sentinel/entities-reference).
 */
import { addDevice, isRecord, normalizeSeverity, str, type AlertParse, type NormalizedAlert } from "./normalize";

type Entity = Record<string, unknown>;

/** True for a payload shaped like a SecurityAlert row. */
export function isSentinelAlert(payload: Record<string, unknown>): boolean {
  return typeof payload.SystemAlertId === "string";
}

export function parseSentinelAlert(payload: Record<string, unknown>): AlertParse {
  const id = str(payload.SystemAlertId);
  if (!id) return { ok: false, reason: "SecurityAlert row without a SystemAlertId" };
  const entities = parseEntities(payload.Entities);
  if (typeof entities === "string") return { ok: false, reason: entities };
  const extended = parseObject(payload.ExtendedProperties);
  const alert: NormalizedAlert = {
    source: "sentinel",
    id,
    severity: normalizeSeverity(payload.AlertSeverity),
    title: str(payload.AlertName) ?? str(payload.DisplayName),
    category: str(extended?.Category),
    detectionSource: str(extended?.DetectionSource),
    product: str(payload.ProductName),
    devices: [],
    files: [],
  };
  const byId = new Map<string, Entity>();
  const all: Entity[] = [];
  collect(entities, byId, all);
  const resolve = (e: unknown): Entity | undefined => (isRecord(e) && typeof e.$ref === "string" ? byId.get(e.$ref) : isRecord(e) ? e : undefined);
  const ofType = (type: string) => all.filter((e) => str(e.Type)?.toLowerCase() === type);
  for (const host of ofType("host")) addDevice(alert.devices, host.MdatpDeviceId, host.FQDN ?? host.HostName);
  for (const file of ofType("file")) {
    const hashes = Array.isArray(file.FileHashes) ? file.FileHashes.map(resolve) : [];
    const sha256 = hashes.find((h) => str(h?.Algorithm)?.toUpperCase() === "SHA256")?.Value;
    alert.files.push({ directory: str(file.Directory), name: str(file.Name), sha256: str(sha256)?.toLowerCase() });
  }
  return { ok: true, alert };
}

function parseEntities(value: unknown): unknown[] | string {
  if (value === undefined || value === null || value === "") return [];
  let parsed = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      return "SecurityAlert Entities is not valid JSON";
    }
  }
  return Array.isArray(parsed) ? parsed : "SecurityAlert Entities is not a JSON array";
}

function parseObject(value: unknown): Record<string, unknown> | undefined {
  if (isRecord(value)) return value;
  if (typeof value !== "string") return undefined;
  try {
    const parsed = JSON.parse(value) as unknown;
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Every entity object, nested ones included (Sentinel serializes a host inside a process, etc.), indexed by `$id`. */
function collect(value: unknown, byId: Map<string, Entity>, all: Entity[], depth = 0): void {
  if (depth > 8) return;
  if (Array.isArray(value)) return value.forEach((v) => collect(v, byId, all, depth + 1));
  if (!isRecord(value)) return;
  if (typeof value.$id === "string") byId.set(value.$id, value);
  if (typeof value.Type === "string") all.push(value);
  for (const v of Object.values(value)) if (typeof v === "object" && v !== null) collect(v, byId, all, depth + 1);
}
