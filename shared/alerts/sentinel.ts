/**
 * Microsoft Sentinel `SecurityAlert` rows (as a Sentinel automation or Logic App publishes them):
 * `Entities` is a JSON **string** of entities linked by `$id`/`$ref`; host entities carry
 * `MdatpDeviceId`, file entities `Directory`/`Name` and `FileHashes`, process entities their
 * `ImageFile` and `ParentProcess`. Source: the SecurityAlert table reference
 * (learn.microsoft.com/azure/azure-monitor/reference/tables/securityalert) and the Sentinel entities
 * reference (learn.microsoft.com/azure/sentinel/entities-reference).
 */
import { echoName } from "../validation";
import { claimOf, type ClaimResult } from "./claim";
import { addDevice, isRecord, normalizeSeverity, str, type AlertParse, type NormalizedAlert } from "./normalize";

type Entity = Record<string, unknown>;

/** True for a payload shaped like a SecurityAlert row. */
export function isSentinelAlert(payload: Record<string, unknown>): boolean {
  return typeof payload.SystemAlertId === "string";
}

/**
 * Parses a SecurityAlert row as its publisher sent it. Files are the alert's file entities, not the
 * image files of its processes: a process's `ImageFile` (and its parent's) is what ran, often
 * `cmd.exe` or `powershell.exe`, not the file the alert is about.
 */
export function parseSentinelAlert(payload: Record<string, unknown>): AlertParse {
  const id = str(payload.SystemAlertId);
  if (!id) return { ok: false, reason: "SecurityAlert row without a SystemAlertId" };
  const entities = parseEntities(payload.Entities);
  if (typeof entities === "string") return { ok: false, reason: entities };
  const extended = parseObject(payload.ExtendedProperties);
  const tactics = tacticsOf(payload.Tactics);
  const alertType = str(payload.AlertType);
  const providerName = str(payload.ProviderName);
  const alert: NormalizedAlert = {
    source: "sentinel",
    id,
    severity: normalizeSeverity(payload.AlertSeverity ?? payload.Severity),
    // The Logic Apps alert trigger names them AlertDisplayName and Severity (learn.microsoft.com/connectors/azuresentinel/).
    title: str(payload.AlertName) ?? str(payload.DisplayName) ?? str(payload.AlertDisplayName),
    category: str(extended?.Category),
    detectionSource: str(extended?.DetectionSource),
    product: str(payload.ProductName),
    ...(tactics.length > 0 ? { tactics } : {}),
    ...(alertType ? { alertType } : {}),
    ...(providerName ? { providerName } : {}),
    devices: [],
    files: [],
  };
  const byId = new Map<string, Entity>();
  const all: Entity[] = [];
  collect(entities, byId, all);
  const resolve = (e: unknown): Entity | undefined =>
    isRecord(e) && typeof e.$ref === "string" ? byId.get(e.$ref) : isRecord(e) ? e : undefined;
  const ofType = (type: string) => all.filter((e) => str(e.Type)?.toLowerCase() === type);
  for (const host of ofType("host")) addDevice(alert.devices, host.MdatpDeviceId, host.FQDN ?? host.HostName);
  const processImages = new Set(
    ofType("process")
      .map((p) => resolve(p.ImageFile))
      .filter((f): f is Entity => f !== undefined),
  );
  for (const file of ofType("file").filter((f) => !processImages.has(f))) {
    const hashes = Array.isArray(file.FileHashes) ? file.FileHashes.map(resolve) : [];
    const sha256 = hashes.find((h) => str(h?.Algorithm)?.toUpperCase() === "SHA256")?.Value;
    alert.files.push({ directory: str(file.Directory), name: str(file.Name), sha256: str(sha256)?.toLowerCase() });
  }
  return { ok: true, alert };
}

/** `ProviderName` of rows Defender for Endpoint raised. */
const MDE_PROVIDER = "mdatp";
/** `ProductName` of those rows (the Sentinel Logic Apps alert carries ProductName, not ProviderName). */
const MDE_PRODUCTS = ["microsoft defender advanced threat protection", "microsoft defender for endpoint"];
/** The Defender portal's alert pages (commercial and US Government): `/alerts/<id>`, older `/alert/<id>`. */
const PORTAL_HOSTS = [
  "security.microsoft.com",
  "securitycenter.microsoft.com",
  "securitycenter.windows.com",
  "security.microsoft.us",
  "securitycenter.microsoft.us",
];

/**
 * What a SecurityAlert row claims: the MDE alert id (the portal link's id, else VendorOriginalId or
 * ProviderAlertId of a Defender for Endpoint row, by ProviderName MDATP or its ProductName; see
 * claim.ts), its hosts as a hint, and the Tactics, AlertType and ProviderName the rules may match.
 */
export function sentinelAlertClaim(payload: Record<string, unknown>): ClaimResult {
  const parsed = parseSentinelAlert(payload);
  if (!parsed.ok) return { ok: false, reason: "MalformedEvent", detail: parsed.reason };
  const { alert } = parsed;
  const fromMde = alert.providerName?.toLowerCase() === MDE_PROVIDER || isMdeProduct(alert.product);
  const id = portalAlertId(payload.AlertLink) ?? (fromMde ? (str(payload.VendorOriginalId) ?? str(payload.ProviderAlertId)) : undefined);
  if (!id) {
    const provider = alert.providerName ? echoName(alert.providerName) : "none";
    const product = alert.product ? echoName(alert.product) : "none";
    const detail =
      "a SecurityAlert row that names no MDE alert: no Defender portal AlertLink, and not from Defender for Endpoint " +
      `(ProviderName ${provider}, ProductName ${product})`;
    return { ok: false, reason: "NotAnMdeAlert", detail };
  }
  const { tactics, alertType, providerName } = alert;
  return claimOf(
    "sentinel",
    id,
    {
      claimedDevices: alert.devices.map((d) => d.machineId),
      ...(tactics ? { tactics } : {}),
      ...(alertType ? { alertType } : {}),
      ...(providerName ? { providerName } : {}),
    },
    "the SecurityAlert row",
  );
}

/** Whether a Sentinel `ProductName`/`productName` is Defender for Endpoint's. */
export function isMdeProduct(product: string | undefined): boolean {
  return MDE_PRODUCTS.includes(product?.trim().toLowerCase() ?? "");
}

/** The alert id of a Defender portal alert link, or undefined for anything else. */
export function portalAlertId(link: unknown): string | undefined {
  const text = str(link);
  if (!text) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" || !PORTAL_HOSTS.includes(url.hostname.toLowerCase())) return undefined;
  const m = /^\/alerts?\/([^/]+)\/?$/i.exec(url.pathname);
  return m?.[1];
}

/** `Tactics` is a comma-separated string in the table ("Execution, Persistence"); a publisher may send an array. */
export function tacticsOf(value: unknown): string[] {
  const parts = Array.isArray(value) ? value : typeof value === "string" ? value.split(",") : [];
  return parts.map((t) => (typeof t === "string" ? t.trim() : "")).filter((t) => t !== "");
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
