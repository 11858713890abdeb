import type { InvocationContext } from "@azure/functions";
import { durableFor, type DurableAccess, type DurableDeps } from "./durableAccess";
import { fetchAlertFromMde, type AlertFetchOptions } from "./alertFetch";
import { findExistingCollection, RecentAlertDevices } from "./alertDuplicates";
import { startAlertCollections, type AlertStartDeps } from "./alertStart";
import { alertToActOn, type AlertDropReason } from "../shared/alerts/claim";
import { alertClaimOf, parseEventEnvelope } from "../shared/alerts/event";
import { matchRule, type AlertRule } from "../shared/alerts/rules";
import { jsonLogger, type Logger } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";
import { describeFailure } from "../shared/publicMessage";
import { echoName } from "../shared/validation";

export { alertInstanceId } from "./alertDuplicates";

/** `maxDevicesPerAlert` also bounds the duplicate check's Durable lookups (alertDuplicates.ts). */
export interface AlertCollectionDeps extends DurableDeps, AlertStartDeps {
  mde: MdeApi;
  rules: readonly AlertRule[];
  /** Bounds of each event's alert fetch (tests pass a sleep that does not wait). @default DEFAULT_ALERT_FETCH */
  fetch?: AlertFetchOptions;
}

/**
 * Event Grid trigger `alertCollection`: one event per invocation (Event Grid or CloudEvents schema).
 *
 * The event is only a pointer: its MDE alert id is read (shared/alerts/claim.ts), the duplicate check
 * runs, then the alert is fetched from MDE and the rules, devices and files come from MDE's answer.
 * Nothing about one event throws out of the handler: Event Grid would redeliver it, and with the
 * batch it came in, until it dead-letters. Every outcome is one JSON log line with a constant
 * `reason` (`"message":"alert event dropped"`); what may heal was already retried, boundedly, by
 * the fetch.
 */
export function createAlertCollection(deps: AlertCollectionDeps) {
  const recent = new RecentAlertDevices();
  return async function alertCollection(event: unknown, context: InvocationContext): Promise<void> {
    const log = jsonLogger(context, { function: "alertCollection" });
    try {
      await handleEvent(deps, recent, event, () => durableFor(deps, context), log);
    } catch (e) {
      log.error("alert event failed", { reason: "Unexpected", detail: describeFailure(e) });
    }
  };
}

async function handleEvent(
  deps: AlertCollectionDeps,
  recent: RecentAlertDevices,
  event: unknown,
  durableAccess: () => DurableAccess,
  log: Logger,
): Promise<void> {
  const dropped = (
    reason: AlertDropReason,
    detail: string,
    more: Record<string, string | number> = {},
    level: "info" | "warn" | "error" = "warn",
  ) => log[level]("alert event dropped", { ...more, reason, detail });
  const envelope = parseEventEnvelope(event);
  if (!envelope.ok) return dropped("MalformedEvent", envelope.reason);
  const eventId = echoName(envelope.event.id);
  const claimed = alertClaimOf(envelope.event);
  // Not about an alert at all (a user or group change notification): cheap, expected, no MDE call.
  if (!claimed.ok) return dropped(claimed.reason, claimed.detail, { eventId }, claimed.reason === "NotAnAlert" ? "info" : "warn");
  const { claim } = claimed;
  const alertId = claim.mdeAlertId;

  const durable = durableAccess();
  const duplicate = await findExistingCollection(durable, claim, recent, deps.maxDevicesPerAlert);
  if (duplicate.found) {
    return log.info("alert already collected; event skipped", {
      eventId,
      alertId,
      machineId: duplicate.machineId,
      instanceId: duplicate.instanceId,
    });
  }
  if (duplicate.failure)
    log.warn("alert duplicate check failed; fetching the alert", { eventId, alertId, detail: describeFailure(duplicate.failure) });

  const fetched = await fetchAlertFromMde(deps.mde, alertId, deps.fetch);
  if (!fetched.ok) return dropped(fetched.reason, fetched.detail, { eventId, alertId, attempts: fetched.attempts }, fetched.level);
  const alert = alertToActOn(fetched.alert, claim);

  const rule = matchRule(deps.rules, alert);
  if (!rule)
    return log.info("alert matched no rule; ignored", { eventId, alertId, source: alert.source, severity: alert.severity ?? null });
  if (alert.devices.length === 0)
    return dropped("NoDevice", "MDE's alert names no device (machineId)", { eventId, alertId, rule: rule.name });

  const collecting = await startAlertCollections(deps, durable, alert, rule, eventId, log);
  recent.remember(alertId, collecting);
}
