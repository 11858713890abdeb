import type { DurableAccess } from "./durableAccess";
import { alertInstanceId } from "./alertDuplicates";
import { describeProblems, startPlaybookCollection } from "./startCollection";
import { alertPlaceholderValues, capDevices, type AlertDevice, type NormalizedAlert } from "../shared/alerts/normalize";
import type { AlertRule } from "../shared/alerts/rules";
import type { CollectionSettings } from "../shared/config";
import type { CollectionPolicy } from "../shared/contract";
import type { Logger } from "../shared/log";
import type { PlaybookCatalog } from "../shared/playbooks";
import { describeFailure } from "../shared/publicMessage";
import { buildCollectionPolicy } from "../shared/timing";
import { DEFAULT_COMMENT } from "../shared/validation";

/** What starting an alert's collections needs from the trigger's dependencies. */
export interface AlertStartDeps {
  playbooks: PlaybookCatalog;
  collection: CollectionSettings;
  /** Devices one alert may start collections on: `config.limits.maxDevicesPerAlert` (ALERT_MAX_DEVICES). */
  maxDevicesPerAlert: number;
  /** GetFile paths on network shares and device namespaces: `config.allowUncPaths` (GETFILE_ALLOW_UNC_PATHS). */
  allowUncPaths: boolean;
  now: () => Date;
}

/** Machine ids one "skipped" log line lists at most; the count covers the rest. */
export const MAX_LISTED_SKIPPED_DEVICES = 10;

/**
 * Starts the rule's playbook on each of the alert's devices, at most `maxDevicesPerAlert` (the rest
 * are logged as skipped in one line). Never throws: a device whose start fails is logged and the
 * others go on.
 * @returns the devices that have a collection for this alert afterwards (started now or before)
 */
export async function startAlertCollections(
  deps: AlertStartDeps,
  durable: DurableAccess,
  alert: NormalizedAlert,
  rule: AlertRule,
  eventId: string,
  log: Logger,
): Promise<string[]> {
  const { selected, skipped } = capDevices(alert.devices, deps.maxDevicesPerAlert);
  if (skipped.length > 0) {
    log.warn("alert devices skipped", {
      eventId,
      alertId: alert.id,
      rule: rule.name,
      reason: "TooManyDevices",
      detail: `the alert names ${alert.devices.length} devices; ALERT_MAX_DEVICES is ${deps.maxDevicesPerAlert}`,
      skippedCount: skipped.length,
      skippedMachineIds: skipped
        .slice(0, MAX_LISTED_SKIPPED_DEVICES)
        .map((d) => d.machineId)
        .join(","),
    });
  }
  const policy = buildCollectionPolicy(deps.collection, deps.now());
  const collecting: string[] = [];
  for (const device of selected) {
    if (await startOne(deps, durable, alert, rule, device, policy, eventId, log)) collecting.push(device.machineId);
  }
  return collecting;
}

/** Starts (or finds) one device's collection; true when one exists for it afterwards. */
async function startOne(
  deps: AlertStartDeps,
  durable: DurableAccess,
  alert: NormalizedAlert,
  rule: AlertRule,
  device: AlertDevice,
  policy: CollectionPolicy,
  eventId: string,
  log: Logger,
): Promise<boolean> {
  const about = { eventId, alertId: alert.id, machineId: device.machineId, rule: rule.name };
  try {
    const outcome = await startPlaybookCollection({
      durable,
      instanceId: alertInstanceId(alert.id, device.machineId),
      machineId: device.machineId,
      run: {
        playbook: deps.playbooks.get(rule.playbook)!,
        values: alertPlaceholderValues(alert, device),
        parameters: rule.parameters,
        defaultComment: `${DEFAULT_COMMENT} (alert ${alert.id})`,
      },
      trigger: {
        kind: "alert",
        alertId: alert.id,
        source: alert.source,
        severity: alert.severity,
        title: alert.title,
        playbook: rule.playbook,
        rule: rule.name,
        ...expectedHashesOf(alert, device),
      },
      policy,
      allowUncPaths: deps.allowUncPaths,
    });
    if (outcome.kind === "refused") {
      log.warn("alert collection refused", { ...about, reason: describeProblems(outcome.problems) });
      return false;
    }
    const message = outcome.kind === "started" ? "alert collection started" : "alert collection already started";
    log.info(message, { ...about, instanceId: outcome.instanceId });
    return true;
  } catch (e) {
    // Durable did not take the start: logged for this device; the event's other devices go on.
    log.error("alert collection failed to start", { ...about, detail: describeFailure(e) });
    return false;
  }
}

/** Hashes one collection compares its files with, at most: an alert naming more is not a file to confirm. */
export const MAX_EXPECTED_HASHES = 20;

/**
 * The SHA-256 of the alert's files seen on this device (or on no device in particular), lowercase
 * and distinct, for the manifest's and the status's comparison with the collected files.
 */
export function expectedHashesOf(alert: NormalizedAlert, device: AlertDevice): { expectedSha256?: string[] } {
  const hashes = new Set<string>();
  for (const file of alert.files) {
    if (file.machineId !== undefined && file.machineId.toLowerCase() !== device.machineId) continue;
    const sha256 = file.sha256?.trim().toLowerCase();
    if (sha256 && /^[0-9a-f]{64}$/.test(sha256)) hashes.add(sha256);
  }
  return hashes.size === 0 ? {} : { expectedSha256: [...hashes].slice(0, MAX_EXPECTED_HASHES) };
}
