import { app, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { createCollectAlert } from "../activities/collectAlert";
import { alertSettle } from "../orchestrators/alertSettle";
import type { AlertStreamingSettings } from "../shared/alerts/streamingSettings";
import type { AlertPipelineDeps } from "./alertPipeline";
import { durableFor, type DurableAccess, type DurableDeps } from "./durableAccess";
import { IN_FLIGHT_RUNTIME_STATUSES } from "./instanceStatus";
import { DEFAULT_STREAM_LIMITS, readStreamBatch, type StreamedAlert, type StreamLimits } from "../shared/alerts/streamingRecords";
import {
  ALERT_RECORDS_EVENT,
  ALERT_SETTLE_ORCHESTRATOR,
  COLLECT_ALERT_ACTIVITY,
  type AlertRecords,
  type AlertSettleInput,
} from "../shared/alerts/streamingSettle";
import { settleInstanceId } from "../shared/alerts/streamingSettleId";
import { jsonLogger, type Logger } from "../shared/log";
import { describeFailure } from "../shared/publicMessage";
import { isRecord } from "../shared/validation";

export interface AlertStreamingDeps extends DurableDeps {
  /** ALERTS_SETTLE_SECONDS, copied into each settle window's input. */
  settleSeconds: number;
  /** @default DEFAULT_STREAM_LIMITS */
  limits?: Partial<StreamLimits>;
}

/**
 * Registers the streaming route: the settle orchestrator and its activity always (a window open when
 * the hub setting is removed still ends), the Event Hubs trigger only when ALERTS_EVENTHUB is configured,
 * so a deployment without a hub starts cleanly.
 */
export function registerAlertStreaming(settings: AlertStreamingSettings, pipeline: AlertPipelineDeps): void {
  const durableClient = df.input.durableClient();
  df.app.orchestration(ALERT_SETTLE_ORCHESTRATOR, alertSettle);
  // The activity starts collections, so it takes a durable client input like a trigger.
  df.app.activity(COLLECT_ALERT_ACTIVITY, { extraInputs: [durableClient], handler: createCollectAlert(pipeline) });
  const hub = settings.eventHub;
  if (!hub) return;
  // Names come from the validated settings (like the timer's schedule) rather than %...% binding
  // expressions, so a bad value stops the app at startup with the setting's name.
  app.eventHub("alertStreaming", {
    connection: hub.connection,
    eventHubName: hub.eventHubName,
    consumerGroup: hub.consumerGroup,
    cardinality: "many",
    extraInputs: [durableClient],
    handler: createAlertStreaming({ settleSeconds: settings.settleSeconds }),
  });
}

/** What the trigger did with one alert of a batch: a constant to count and test by. */
export type StreamedAlertOutcome = "opened" | "forwarded" | "settled" | "notAnMdeAlert" | "failed";

/**
 * Event Hubs trigger `alertStreaming` (cardinality many): the Defender XDR streaming API's messages
 * (shared/alerts/streamingRecords.ts). AlertInfo and AlertEvidence records are grouped by alert id;
 * every other category is counted in the batch's one summary line and skipped. Each alert gets one
 * settle window (orchestrators/alertSettle.ts), opened by its first records and fed by later ones,
 * whose end runs the one alert pipeline: MDE's answer decides devices and files.
 *
 * Never throws: the Event Hubs trigger moves its checkpoint past a batch whatever the function did,
 * so a throw would only lose the batch's other alerts. A bad message or record is logged with its
 * reason and index (`"message":"alert stream record dropped"`), a failed alert with its id.
 */
export function createAlertStreaming(deps: AlertStreamingDeps) {
  const limits: StreamLimits = { ...DEFAULT_STREAM_LIMITS, ...deps.limits };
  return async function alertStreaming(messages: unknown, context: InvocationContext): Promise<void> {
    const log = jsonLogger(context, { function: "alertStreaming" });
    try {
      await handleBatch(deps, limits, messages, () => durableFor(deps, context), log);
    } catch (e) {
      log.error("alert stream batch failed", { reason: "Unexpected", detail: describeFailure(e) });
    }
  };
}

async function handleBatch(
  deps: AlertStreamingDeps,
  limits: StreamLimits,
  messages: unknown,
  durableAccess: () => DurableAccess,
  log: Logger,
): Promise<void> {
  const batch = readStreamBatch(messages, limits);
  for (const p of batch.problems) {
    log.warn("alert stream record dropped", { reason: p.reason, detail: p.detail, messageIndex: p.message, recordIndex: p.record });
  }
  log.info("alert stream batch read", {
    messages: batch.messages,
    records: batch.records,
    alerts: batch.alerts.length,
    problems: batch.problemCount,
    problemsNotListed: batch.problemCount - batch.problems.length,
    otherCategories: Object.values(batch.otherCategories).reduce((a, b) => a + b, 0),
    otherCategoryCounts: JSON.stringify(batch.otherCategories),
  });
  if (batch.recordsNotRead > 0) {
    log.warn("alert stream records skipped", {
      reason: "TooManyRecords",
      detail: `the batch holds more than ${limits.maxRecords} records; lower the trigger's maxEventBatchSize (host.json)`,
      skippedCount: batch.recordsNotRead,
    });
  }
  if (batch.alertsOverLimit.count > 0) {
    log.warn("alert stream alerts skipped", {
      reason: "TooManyAlerts",
      detail: `the batch names more than ${limits.maxAlerts} alerts; lower the trigger's maxEventBatchSize (host.json)`,
      skippedCount: batch.alertsOverLimit.count,
      skippedAlertIds: batch.alertsOverLimit.first.join(","),
    });
  }
  if (batch.alerts.length === 0) return;
  const durable = durableAccess();
  for (const alert of batch.alerts) await settle(deps, durable, alert, log);
}

/**
 * Opens the alert's settle window, or forwards the records to the one already open. A window that
 * ended is not opened again (the alert was handled), unless it failed or MDE could not be reached.
 */
export async function settle(
  deps: AlertStreamingDeps,
  durable: DurableAccess,
  alert: StreamedAlert,
  log: Logger,
): Promise<StreamedAlertOutcome> {
  const instanceId = settleInstanceId(alert.alertId);
  const about = { route: "streaming", alertId: alert.alertId, instanceId, records: alert.records };
  const records: AlertRecords = { devices: alert.devices, ...(alert.product ? { product: alert.product } : {}) };
  try {
    const status = await durable.findStatus(instanceId);
    if (status && isInFlight(status.runtimeStatus)) return await forward(durable, instanceId, records, log, about);
    if (status && status.runtimeStatus === "Completed" && !mdeWasUnavailable(status.output)) {
      log.info("alert already settled; records skipped", about);
      return "settled";
    }
    if (alert.product === "other") {
      log.info("alert event dropped", {
        ...about,
        reason: "NotAnMdeAlert",
        detail: `the records name another product (${alert.otherProduct ?? "not Defender for Endpoint"})`,
      });
      return "notAnMdeAlert";
    }
    const input: AlertSettleInput = { alertId: alert.alertId, settleSeconds: deps.settleSeconds, ...records };
    try {
      await durable.client.startNew(ALERT_SETTLE_ORCHESTRATOR, { instanceId, input });
    } catch (e) {
      // Another partition's batch opened the window between the check and the start.
      const now = await durable.findStatus(instanceId);
      if (now && isInFlight(now.runtimeStatus)) return await forward(durable, instanceId, records, log, about);
      throw e;
    }
    log.info("alert settle window opened", { ...about, settleSeconds: deps.settleSeconds, deviceHints: records.devices.length });
    return "opened";
  } catch (e) {
    log.error("alert settle window failed to open", { ...about, detail: describeFailure(e) });
    return "failed";
  }
}

async function forward(
  durable: DurableAccess,
  instanceId: string,
  records: AlertRecords,
  log: Logger,
  about: Record<string, string | number>,
): Promise<StreamedAlertOutcome> {
  await durable.client.raiseEvent(instanceId, ALERT_RECORDS_EVENT, records);
  log.info("alert records forwarded to its settle window", { ...about, deviceHints: records.devices.length });
  return "forwarded";
}

function isInFlight(status: unknown): boolean {
  return (IN_FLIGHT_RUNTIME_STATUSES as readonly unknown[]).includes(status);
}

/** A window whose fetch found MDE throttled or down past its retries: later records may try again. */
function mdeWasUnavailable(output: unknown): boolean {
  return isRecord(output) && output.kind === "dropped" && output.reason === "SourceUnavailable";
}
