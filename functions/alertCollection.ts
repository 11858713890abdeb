import { createHash } from "node:crypto";
import type { InvocationContext } from "@azure/functions";
import { durableFor, type DurableDeps } from "./durableAccess";
import { describeProblems, startPlaybookCollection } from "./startCollection";
import { alertOf } from "./alertFetch";
import { parseEventEnvelope } from "../shared/alerts/event";
import { alertPlaceholderValues } from "../shared/alerts/normalize";
import { matchRule, type AlertRule } from "../shared/alerts/rules";
import { buildCollectionPolicy } from "../shared/timing";
import type { CollectionSettings } from "../shared/config";
import { jsonLogger } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";
import type { PlaybookCatalog } from "../shared/playbooks";
import { DEFAULT_COMMENT } from "../shared/validation";

export interface AlertCollectionDeps extends DurableDeps {
  mde: MdeApi;
  rules: readonly AlertRule[];
  playbooks: PlaybookCatalog;
  collection: CollectionSettings;
  now: () => Date;
}

/** One alert, one device, one collection: Event Grid's at-least-once redelivery maps to the same id. */
export function alertInstanceId(alertId: string, machineId: string): string {
  return `alert-${createHash("sha256").update(`${alertId}\n${machineId.toLowerCase()}`, "utf8").digest("hex").slice(0, 40)}`;
}

/**
 * Event Grid trigger `alertCollection`: one event per invocation (Event Grid or CloudEvents schema).
 * A malformed or unmatched event is logged (one JSON line with the reason) and dropped: throwing
 * would make Event Grid redeliver it until it dead-letters. Only a failure to fetch a referenced
 * alert that may heal (429, 5xx, network, 401/403) throws, so that Event Grid retries it later.
 */
export function createAlertCollection(deps: AlertCollectionDeps) {
  return async function alertCollection(event: unknown, context: InvocationContext): Promise<void> {
    const log = jsonLogger(context, { function: "alertCollection" });
    const envelope = parseEventEnvelope(event);
    if (!envelope.ok) return log.warn("alert event dropped", { reason: envelope.reason });
    const eventId = envelope.event.id;
    const parsed = await alertOf(envelope.event, deps.mde, log);
    if (!parsed) return;
    if (!parsed.ok) return log.warn("alert event dropped", { eventId, reason: parsed.reason });
    const alert = parsed.alert;
    const rule = matchRule(deps.rules, alert);
    if (!rule)
      return log.info("alert matched no rule; ignored", {
        eventId,
        alertId: alert.id,
        source: alert.source,
        severity: alert.severity ?? null,
      });
    if (alert.devices.length === 0)
      return log.warn("alert event dropped", {
        eventId,
        alertId: alert.id,
        rule: rule.name,
        reason: "the alert names no MDE device (mdeDeviceId, machineId or MdatpDeviceId)",
      });

    const durable = durableFor(deps, context);
    const policy = buildCollectionPolicy(deps.collection, deps.now());
    for (const device of alert.devices) {
      const about = { eventId, alertId: alert.id, machineId: device.machineId, rule: rule.name };
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
        },
        policy,
      });
      if (outcome.kind === "refused") log.warn("alert collection refused", { ...about, reason: describeProblems(outcome.problems) });
      else
        log.info(outcome.kind === "started" ? "alert collection started" : "alert collection already started", {
          ...about,
          instanceId: outcome.instanceId,
        });
    }
  };
}
