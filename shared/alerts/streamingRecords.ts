/**
 * The Defender XDR streaming API's Event Hubs messages, read for alert ids.
 *
 * Each message holds `{"records": [{"time", "tenantId", "operationName", "category", "properties"}]}`,
 * `category` being the advanced hunting table with an `AdvancedHunting-` prefix and `properties` the
 * row (https://learn.microsoft.com/defender-xdr/streaming-api-event-hub,
 * https://learn.microsoft.com/defender-endpoint/api/raw-data-export-event-hub). Alerts arrive as
 * `AlertInfo` rows (AlertId, Title, Category, Severity, ServiceSource, DetectionSource,
 * AttackTechniques: https://learn.microsoft.com/defender-xdr/advanced-hunting-alertinfo-table) and
 * `AlertEvidence` rows, one per entity (AlertId, EntityType, EvidenceRole, DeviceId, FileName,
 * FolderPath, SHA256...: https://learn.microsoft.com/defender-xdr/advanced-hunting-alertevidence-table),
 * separately, in any message and any order.
 *
 * A record is only a pointer, like an Event Grid event (shared/alerts/claim.ts): the collector reads
 * from it the alert id, the devices its evidence names (hints for the duplicate check, never a
 * target) and which product raised it. Devices, files, severity and title come from MDE's answer.
 * Nothing here throws: a bad message or record is a problem with its index and reason.
 */
import { MDE_ALERT_ID_PATTERN } from "./claim";
import { addDevice, isRecord, str, type AlertDevice } from "./normalize";
import { mergeProduct, type ProductVerdict } from "./streamingSettle";

export { mergeProduct, type ProductVerdict } from "./streamingSettle";

/** The categories the collector reads; every other category is counted and skipped. */
export const ALERT_INFO_CATEGORY = "AdvancedHunting-AlertInfo";
export const ALERT_EVIDENCE_CATEGORY = "AdvancedHunting-AlertEvidence";

/** Bounds on one batch, so a flood costs bounded work and bounded logs. */
export interface StreamLimits {
  /** Records examined per batch; the rest are counted, not read. */
  maxRecords: number;
  /** Distinct alerts acted on per batch; the rest are counted and the first few named. */
  maxAlerts: number;
  /** Device hints kept per alert. */
  maxDevicesPerAlert: number;
}

export const DEFAULT_STREAM_LIMITS: Readonly<StreamLimits> = {
  maxRecords: 20_000,
  maxAlerts: 100,
  maxDevicesPerAlert: 20,
};

/** Problems listed one by one per batch at most; the rest are only counted. */
export const MAX_LISTED_PROBLEMS = 20;
/** Distinct other categories counted by name per batch; the rest are counted together. */
export const MAX_COUNTED_CATEGORIES = 20;
/** Alert ids over {@link StreamLimits.maxAlerts} named in the batch's log line at most. */
export const MAX_LISTED_ALERTS_OVER_LIMIT = 10;

/** Why a message or record was not read: a constant to query logs by. */
export type StreamDropReason =
  /** A message that is not JSON, or JSON without a `records` array. */
  | "MalformedMessage"
  /** A record that is not an object, or lacks `category` or `properties`. */
  | "MalformedRecord"
  /** An alert record without a usable `AlertId`. */
  | "NoAlertId";

export interface StreamProblem {
  reason: StreamDropReason;
  detail: string;
  /** Index of the message in the batch. */
  message: number;
  /** Index of the record in its message, for a record's problem. */
  record?: number;
}

/** One alert as a batch's records point to it. */
export interface StreamedAlert {
  /** As the first record spelt it. */
  alertId: string;
  /** Devices the AlertEvidence records name (MDE machine ids, lowercase), at most {@link StreamLimits.maxDevicesPerAlert}. */
  devices: string[];
  /** `mde` when any record says Defender for Endpoint; `other` when records name only other products. */
  product?: ProductVerdict;
  /** The other product's name, for the log. */
  otherProduct?: string;
  /** Records of this alert in the batch. */
  records: number;
}

export interface StreamBatch {
  messages: number;
  /** Records examined. */
  records: number;
  /** Records past {@link StreamLimits.maxRecords}, not examined. */
  recordsNotRead: number;
  /** Alerts in order of first sighting, at most {@link StreamLimits.maxAlerts}. */
  alerts: StreamedAlert[];
  /** Alerts past the bound: how many, and the first few ids. */
  alertsOverLimit: { count: number; first: string[] };
  /** The first {@link MAX_LISTED_PROBLEMS} problems; `problemCount` counts them all. */
  problems: StreamProblem[];
  problemCount: number;
  /** Records of every other category, by category (the rest under `(other)`). */
  otherCategories: Record<string, number>;
}

/**
 * Reads a batch as the Event Hubs trigger delivers it with cardinality `many`: an array of
 * messages, each a string, a Buffer (binary data) or an object (the worker parses JSON text).
 * A single message (cardinality `one`) is read as a batch of one.
 */
export function readStreamBatch(batch: unknown, limits: StreamLimits = DEFAULT_STREAM_LIMITS): StreamBatch {
  const messages = Array.isArray(batch) ? batch : [batch];
  const out: StreamBatch = {
    messages: messages.length,
    records: 0,
    recordsNotRead: 0,
    alerts: [],
    alertsOverLimit: { count: 0, first: [] },
    problems: [],
    problemCount: 0,
    otherCategories: {},
  };
  const byId = new Map<string, StreamedAlert & { hints: AlertDevice[] }>();
  const overLimit = new Set<string>();
  const problem = (p: StreamProblem) => {
    out.problemCount++;
    if (out.problems.length < MAX_LISTED_PROBLEMS) out.problems.push(p);
  };

  messages.forEach((message, m) => {
    const records = recordsOf(message);
    if (!records.ok) return problem({ reason: "MalformedMessage", detail: records.detail, message: m });
    records.records.forEach((record, r) => {
      if (out.records >= limits.maxRecords) {
        out.recordsNotRead++;
        return;
      }
      out.records++;
      const read = readRecord(record);
      if (read.kind === "problem") return problem({ reason: read.reason, detail: read.detail, message: m, record: r });
      if (read.kind === "otherCategory") {
        const known = read.category in out.otherCategories || Object.keys(out.otherCategories).length < MAX_COUNTED_CATEGORIES;
        const key = known ? read.category : "(other)";
        out.otherCategories[key] = (out.otherCategories[key] ?? 0) + 1;
        return;
      }
      const key = read.alertId.toLowerCase();
      let alert = byId.get(key);
      if (!alert) {
        if (byId.size >= limits.maxAlerts) {
          if (!overLimit.has(key)) {
            overLimit.add(key);
            if (out.alertsOverLimit.first.length < MAX_LISTED_ALERTS_OVER_LIMIT) out.alertsOverLimit.first.push(read.alertId);
          }
          return;
        }
        alert = { alertId: read.alertId, devices: [], records: 0, hints: [] };
        byId.set(key, alert);
      }
      alert.records++;
      if (read.deviceId !== undefined && alert.hints.length < limits.maxDevicesPerAlert) addDevice(alert.hints, read.deviceId, undefined);
      if (read.product) {
        const merged = mergeProduct(alert.product, read.product.verdict);
        if (merged === "other" && !alert.otherProduct) alert.otherProduct = read.product.name;
        alert.product = merged;
      }
    });
  });
  out.alertsOverLimit.count = overLimit.size;
  out.alerts = [...byId.values()].map(({ alertId, hints, product, otherProduct, records }) => ({
    alertId,
    devices: hints.map((d) => d.machineId),
    ...(product ? { product } : {}),
    // A name seen before a Defender for Endpoint record overruled it is no longer the verdict's.
    ...(product === "other" && otherProduct ? { otherProduct } : {}),
    records,
  }));
  return out;
}

/**
 * `ServiceSource` (AlertInfo and AlertEvidence) as a verdict. Defender for Endpoint by its names
 * (the advanced hunting display name, Graph's enum value, older names); another product only when
 * the name is one Microsoft gives to a product whose alerts MDE does not hold (Office 365, Identity,
 * Cloud Apps, Defender for Cloud, Entra ID Protection, Data Loss Prevention, Insider Risk, App
 * Governance, Sentinel). Anything else, "Microsoft Defender XDR" included (its custom detections
 * can be device alerts), says nothing: MDE's answer decides.
 */
export function productVerdict(serviceSource: string | undefined): ProductVerdict | undefined {
  if (!serviceSource) return undefined;
  const s = serviceSource.toLowerCase().replace(/[^a-z0-9]/g, "");
  if (["microsoftdefenderforendpoint", "defenderforendpoint", "microsoftdefenderatp", "windowsdefenderatp", "mdatp"].includes(s))
    return "mde";
  const others = [
    "office365",
    "defenderforidentity",
    "azureatp",
    "cloudapps",
    "cloudappsecurity",
    "defenderforcloud",
    "azuresecuritycenter",
    "identityprotection",
    "dataloss",
    "insiderrisk",
    "appgovernance",
    "sentinel",
  ];
  return others.some((o) => s.includes(o)) ? "other" : undefined;
}

type RecordsOf = { ok: true; records: unknown[] } | { ok: false; detail: string };

function recordsOf(message: unknown): RecordsOf {
  let body: unknown = message;
  if (Buffer.isBuffer(message) || message instanceof Uint8Array) body = Buffer.from(message).toString("utf8");
  if (typeof body === "string") {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      return { ok: false, detail: "the message is not JSON" };
    }
  }
  if (!isRecord(body)) return { ok: false, detail: "the message is not a JSON object" };
  if (!Array.isArray(body.records)) return { ok: false, detail: "the message has no records array" };
  return { ok: true, records: body.records };
}

type RecordRead =
  | { kind: "problem"; reason: StreamDropReason; detail: string }
  | { kind: "otherCategory"; category: string }
  | { kind: "alert"; alertId: string; deviceId?: string; product?: { verdict: ProductVerdict; name: string } };

function readRecord(record: unknown): RecordRead {
  if (!isRecord(record)) return { kind: "problem", reason: "MalformedRecord", detail: "the record is not a JSON object" };
  const category = str(record.category);
  if (!category) return { kind: "problem", reason: "MalformedRecord", detail: "the record has no category" };
  const lower = category.toLowerCase();
  const isInfo = lower === ALERT_INFO_CATEGORY.toLowerCase();
  if (!isInfo && lower !== ALERT_EVIDENCE_CATEGORY.toLowerCase()) return { kind: "otherCategory", category: boundedCategory(category) };
  const row = record.properties;
  if (!isRecord(row))
    return { kind: "problem", reason: "MalformedRecord", detail: `the ${isInfo ? "AlertInfo" : "AlertEvidence"} record has no properties` };
  const alertId = str(row.AlertId)?.trim();
  if (!alertId || !MDE_ALERT_ID_PATTERN.test(alertId))
    return {
      kind: "problem",
      reason: "NoAlertId",
      detail: `the ${isInfo ? "AlertInfo" : "AlertEvidence"} record carries no usable AlertId`,
    };
  const serviceSource = str(row.ServiceSource);
  const verdict = productVerdict(serviceSource);
  return {
    kind: "alert",
    alertId,
    ...(isInfo ? {} : { deviceId: str(row.DeviceId) }),
    ...(verdict ? { product: { verdict, name: boundedCategory(serviceSource!) } } : {}),
  };
}

/** A category or product name as a log key: printable ASCII, at most 64 characters. */
function boundedCategory(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, "?").slice(0, 64);
}
