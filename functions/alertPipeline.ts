import type { DurableAccess } from "./durableAccess";
import { fetchAlertFromMde, type AlertFetchOptions } from "./alertFetch";
import { findExistingCollection, type RecentAlertDevices } from "./alertDuplicates";
import { startAlertCollections, type AlertStartDeps } from "./alertStart";
import { alertToActOn, type AlertClaim, type AlertDropReason } from "../shared/alerts/claim";
import { matchRule, type AlertRule } from "../shared/alerts/rules";
import type { Logger } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";
import { describeFailure } from "../shared/publicMessage";

/** What every alert route needs to act on a claim: MDE to confirm it, the rules, and how to start. */
export interface AlertPipelineDeps extends AlertStartDeps {
  mde: MdeApi;
  rules: readonly AlertRule[];
  /** Bounds of each alert fetch (tests pass a sleep that does not wait). @default DEFAULT_ALERT_FETCH */
  fetch?: AlertFetchOptions;
}

/** How one claim ended: a constant to count and test by. */
export type AlertOutcome =
  | { kind: "duplicate"; machineId: string; instanceId: string }
  | { kind: "dropped"; reason: AlertDropReason }
  | { kind: "noRule" }
  | { kind: "collecting"; machineIds: string[] };

/**
 * The one path from "a route says alert X exists" to collections, whatever route it came by (Event
 * Grid, Event Hubs streaming, Graph alerts_v2 polling, a Sentinel playbook's post):
 * the duplicate check (collections are named by MDE alert id and device, so the same alert by two
 * routes starts one collection per device), then the alert as MDE answers it, the rules, the starts.
 * The claim contributes only the alert id and, for Sentinel, descriptors the rules may match
 * (shared/alerts/claim.ts). Never throws for an expected outcome; each is one structured log line
 * (`"message":"alert event dropped"` with a constant `reason` for drops).
 * @param about properties every log line of this claim carries (`eventId`, `route`...)
 */
export async function collectForAlertClaim(
  deps: AlertPipelineDeps,
  recent: RecentAlertDevices,
  claim: AlertClaim,
  durable: DurableAccess,
  log: Logger,
  about: Record<string, string>,
): Promise<AlertOutcome> {
  const alertId = claim.mdeAlertId;
  const duplicate = await findExistingCollection(durable, claim, recent, deps.maxDevicesPerAlert);
  if (duplicate.found) {
    log.info("alert already collected; event skipped", {
      ...about,
      alertId,
      machineId: duplicate.machineId,
      instanceId: duplicate.instanceId,
    });
    return { kind: "duplicate", machineId: duplicate.machineId, instanceId: duplicate.instanceId };
  }
  if (duplicate.failure)
    log.warn("alert duplicate check failed; fetching the alert", { ...about, alertId, detail: describeFailure(duplicate.failure) });

  const fetched = await fetchAlertFromMde(deps.mde, alertId, deps.fetch);
  if (!fetched.ok) {
    log[fetched.level]("alert event dropped", {
      ...about,
      alertId,
      attempts: fetched.attempts,
      reason: fetched.reason,
      detail: fetched.detail,
    });
    return { kind: "dropped", reason: fetched.reason };
  }
  const alert = alertToActOn(fetched.alert, claim);

  const rule = matchRule(deps.rules, alert);
  if (!rule) {
    log.info("alert matched no rule; ignored", { ...about, alertId, source: alert.source, severity: alert.severity ?? null });
    return { kind: "noRule" };
  }
  if (alert.devices.length === 0) {
    log.warn("alert event dropped", {
      ...about,
      alertId,
      rule: rule.name,
      reason: "NoDevice",
      detail: "MDE's alert names no device (machineId)",
    });
    return { kind: "dropped", reason: "NoDevice" };
  }
  const machineIds = await startAlertCollections(deps, durable, alert, rule, about.eventId ?? alertId, log);
  recent.remember(alertId, machineIds);
  return { kind: "collecting", machineIds };
}
