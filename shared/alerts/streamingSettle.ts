/**
 * The contract between the `alertStreaming` trigger, the `alertSettle` orchestrator and the
 * `collectAlert` activity: names, inputs, bounds and the pure merges of what records say. Nothing
 * here does I/O or reads ambient state: the orchestrator replays it (its id: ./streamingSettleId.ts).
 */
import { MDE_ALERT_ID_PATTERN } from "./claim";

export const ALERT_SETTLE_ORCHESTRATOR = "alertSettle";
export const COLLECT_ALERT_ACTIVITY = "collectAlert";
/** The external event that carries a later batch's records of an alert into its settle window. */
export const ALERT_RECORDS_EVENT = "alertRecords";

/** Longest settle window ALERTS_SETTLE_SECONDS may ask for. */
export const MAX_SETTLE_SECONDS = 900;
/** Later batches' events one settle window takes in; after that it only waits for its timer. */
export const MAX_SETTLE_EVENTS = 20;
/** Device hints one settle window keeps (the activity's duplicate check asks Durable about each). */
export const MAX_SETTLE_DEVICE_HINTS = 20;

/** What the product a record names says: Defender for Endpoint, another product, or nothing known. */
export type ProductVerdict = "mde" | "other";

/** What the records of one batch say about an alert. */
export interface AlertRecords {
  /** MDE machine ids (lowercase) the AlertEvidence records name: hints for the duplicate check, never a target. */
  devices: string[];
  product?: ProductVerdict;
}

/** `alertSettle`'s input. The window is copied in so a changed setting never alters a replay. */
export interface AlertSettleInput extends AlertRecords {
  alertId: string;
  settleSeconds: number;
}

/** `collectAlert`'s input. */
export interface CollectAlertInput {
  alertId: string;
  devices: string[];
}

/** How a settle window ended, when it did not reach the activity. */
export type AlertSettleSkip = { kind: "skipped"; reason: "NotAnMdeAlert" | "MalformedInput" };

/** Defender for Endpoint's word wins: one record saying so is enough to fetch the alert from MDE. */
export function mergeProduct(a: ProductVerdict | undefined, b: ProductVerdict | undefined): ProductVerdict | undefined {
  if (a === "mde" || b === "mde") return "mde";
  return a ?? b;
}

/** Adds `more` to `devices`, distinct, at most {@link MAX_SETTLE_DEVICE_HINTS}. */
export function mergeDevices(devices: readonly string[], more: readonly string[]): string[] {
  return [...new Set([...devices, ...more])].slice(0, MAX_SETTLE_DEVICE_HINTS);
}

/** Both records together: device hints merged, the product by {@link mergeProduct}. */
export function mergeRecords(known: AlertRecords, more: AlertRecords): AlertRecords {
  const product = mergeProduct(known.product, more.product);
  return { devices: mergeDevices(known.devices, more.devices), ...(product ? { product } : {}) };
}

/** Records as an event or an input carries them (JSON from the host): only what fits is kept. */
export function alertRecordsOf(value: unknown): AlertRecords {
  if (!isObject(value)) return { devices: [] };
  const devices = Array.isArray(value.devices)
    ? value.devices.filter((d): d is string => typeof d === "string" && /^[0-9a-f]{40}$/.test(d))
    : [];
  const product = value.product === "mde" || value.product === "other" ? value.product : undefined;
  return { devices: mergeDevices([], devices), ...(product ? { product } : {}) };
}

/** The settle input as the trigger wrote it, or undefined for anything else. */
export function settleInputOf(value: unknown): AlertSettleInput | undefined {
  if (!isObject(value)) return undefined;
  const { alertId, settleSeconds } = value;
  if (typeof alertId !== "string" || !MDE_ALERT_ID_PATTERN.test(alertId)) return undefined;
  if (typeof settleSeconds !== "number" || !Number.isInteger(settleSeconds) || settleSeconds < 0 || settleSeconds > MAX_SETTLE_SECONDS)
    return undefined;
  return { alertId, settleSeconds, ...alertRecordsOf(value) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
