import type { InvocationContext } from "@azure/functions";
import { durableFor, type DurableAccess, type DurableDeps } from "./durableAccess";
import { RecentAlertDevices } from "./alertDuplicates";
import { collectForAlertClaim, type AlertPipelineDeps } from "./alertPipeline";
import type { AlertDropReason } from "../shared/alerts/claim";
import { alertClaimsOf, parseEventEnvelope } from "../shared/alerts/event";
import { MAX_ALERTS_PER_INCIDENT } from "../shared/alerts/sentinelIncident";
import { jsonLogger, type Logger } from "../shared/log";
import { describeFailure } from "../shared/publicMessage";
import { echoName } from "../shared/validation";

export { alertInstanceId } from "./alertDuplicates";

/** `maxDevicesPerAlert` also bounds the duplicate check's Durable lookups (alertDuplicates.ts). */
export interface AlertCollectionDeps extends DurableDeps, AlertPipelineDeps {}

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
  const claims = alertClaimsOf(envelope.event);
  if (!claims.ok) return dropped(claims.reason, claims.detail, { eventId });
  if (claims.notExamined > 0)
    dropped("TooManyAlerts", `the incident has ${claims.notExamined} alerts past the ${MAX_ALERTS_PER_INCIDENT} examined`, { eventId });
  // One claim per alert: a Sentinel incident names several, each checked and fetched on its own.
  for (const { result: claimed } of claims.claims) {
    // Not about an alert at all (a user or group change notification): cheap, expected, no MDE call.
    if (!claimed.ok) dropped(claimed.reason, claimed.detail, { eventId }, claimed.reason === "NotAnAlert" ? "info" : "warn");
    else await collectForAlertClaim(deps, recent, claimed.claim, durableAccess(), log, { eventId });
  }
}
