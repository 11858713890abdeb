/**
 * One alert shape for the rules and the playbooks, whatever published it: a Microsoft Graph
 * security alert (alerts_v2), an MDE API alert or a Microsoft Sentinel SecurityAlert row.
 * Parsers return errors as values: a malformed alert is logged and dropped, never thrown.
 * The collector acts only on the alert as MDE answers it (shared/alerts/claim.ts says why).
 */
import { MACHINE_ID_PATTERN } from "../mde/models";
import type { PlaceholderValues } from "../playbooks";

/** The route an alert came by: rule condition `sources`. `streaming` is the Defender XDR streaming API (Event Hubs). */
export type AlertSource = "graph" | "mde" | "sentinel" | "streaming";

/** Ordered: a rule's minimum severity matches this level and every later one. */
export const SEVERITIES = ["informational", "low", "medium", "high"] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface AlertDevice {
  /** MDE machine id, lowercased. */
  machineId: string;
  computerDnsName?: string;
}

export interface AlertFile {
  directory?: string;
  name?: string;
  sha256?: string;
  /** The device the file was seen on, when the evidence says (Graph `fileEvidence.mdeDeviceId`). */
  machineId?: string;
}

export interface NormalizedAlert {
  source: AlertSource;
  id: string;
  /** Undefined for "unknown"/"UnSpecified" or a value outside {@link SEVERITIES}: no minimum-severity rule matches it. */
  severity?: Severity;
  title?: string;
  category?: string;
  detectionSource?: string;
  /** Graph serviceSource, or Sentinel ProductName. */
  product?: string;
  /** Sentinel `Tactics` (a comma-separated column), one entry per tactic. MDE's alert has no such field. */
  tactics?: string[];
  /** Sentinel `AlertType`. */
  alertType?: string;
  /** Sentinel `ProviderName` (`MDATP` for Defender for Endpoint). */
  providerName?: string;
  /** Distinct devices, in evidence order: one collection each. */
  devices: AlertDevice[];
  files: AlertFile[];
}

export type AlertParse = { ok: true; alert: NormalizedAlert } | { ok: false; reason: string };

export { isRecord } from "../validation";
export const str = (v: unknown): string | undefined => (typeof v === "string" && v.trim() !== "" ? v : undefined);

/** Maps Graph (`low`), MDE (`Low`, `UnSpecified`) and Sentinel (`Low`) severities to one scale. */
export function normalizeSeverity(value: unknown): Severity | undefined {
  const s = typeof value === "string" ? value.toLowerCase() : "";
  return (SEVERITIES as readonly string[]).includes(s) ? (s as Severity) : undefined;
}

/** Adds a device once (an alert names the same device in several evidence entries); ignores ids that are not MDE machine ids. */
export function addDevice(devices: AlertDevice[], machineId: unknown, computerDnsName: unknown): void {
  const id = str(machineId)?.toLowerCase();
  if (!id || !MACHINE_ID_PATTERN.test(id)) return;
  const existing = devices.find((d) => d.machineId === id);
  const dns = str(computerDnsName);
  if (!existing) devices.push(dns ? { machineId: id, computerDnsName: dns } : { machineId: id });
  else if (!existing.computerDnsName && dns) existing.computerDnsName = dns;
}

/** A file's full path: its directory joined with its name, with the directory's own separator. */
export function fullPath(file: AlertFile): string | undefined {
  if (!file.directory || !file.name) return undefined;
  const separator = file.directory.includes("\\") || /^[A-Za-z]:$/.test(file.directory) ? "\\" : "/";
  return `${file.directory.replace(/[\\/]+$/, "")}${separator}${file.name}`;
}

/** The playbook placeholder values an alert fills for one of its devices. */
export function alertPlaceholderValues(alert: NormalizedAlert, device: AlertDevice): PlaceholderValues {
  // On a multi-device alert, each device collects the file seen on it, not another device's path.
  const file =
    alert.files.find((f) => f.machineId === device.machineId) ?? alert.files.find((f) => f.machineId === undefined) ?? alert.files[0];
  return {
    "alert.id": alert.id,
    "alert.title": alert.title,
    "alert.severity": alert.severity,
    "alert.category": alert.category,
    "alert.filePath": file ? fullPath(file) : undefined,
    "alert.fileDirectory": file?.directory,
    "alert.fileName": file?.name,
    "alert.fileSha256": file?.sha256,
    "machine.id": device.machineId,
    "machine.computerDnsName": device.computerDnsName,
  };
}

/** The devices an alert may start collections on, and the rest, which are only logged. */
export function capDevices(devices: readonly AlertDevice[], max: number): { selected: AlertDevice[]; skipped: AlertDevice[] } {
  return { selected: devices.slice(0, max), skipped: devices.slice(max) };
}
