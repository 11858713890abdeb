/**
 * One streamed alert's settle window: the Defender XDR streaming API sends an alert's AlertInfo and
 * AlertEvidence rows separately, in any message and order, and MDE's alert API may not yet carry all
 * its evidence when the first row arrives. So the collector waits a durable timer (ALERTS_SETTLE_SECONDS,
 * copied into the input) from the first row, takes in the rows later batches forward as events
 * (device hints, the product), then runs `collectAlert` once: the one alert pipeline
 * (functions/alertPipeline.ts), which fetches the alert from MDE and starts one collection per device.
 *
 * The instance id derives from the alert id (shared/alerts/streamingSettle.ts), so rows in other
 * messages, batches or redeliveries reach this window instead of opening another.
 * Deterministic: time only from `context.df.currentUtcDateTime`.
 */
import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import {
  ALERT_RECORDS_EVENT,
  alertRecordsOf,
  COLLECT_ALERT_ACTIVITY,
  MAX_SETTLE_EVENTS,
  mergeRecords,
  settleInputOf,
  type AlertRecords,
  type AlertSettleSkip,
  type CollectAlertInput,
} from "../shared/alerts/streamingSettle";
import { ACTIVITY_RETRY } from "../shared/timing";

/** The activity fetches from MDE with its own bounded retries; this covers a worker lost mid-run. */
const activityRetry = new df.RetryOptions(ACTIVITY_RETRY.firstRetryIntervalInMs, ACTIVITY_RETRY.maxNumberOfAttempts);
activityRetry.backoffCoefficient = ACTIVITY_RETRY.backoffCoefficient;
activityRetry.maxRetryIntervalInMilliseconds = ACTIVITY_RETRY.maxRetryIntervalInMs;

export const alertSettle: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = settleInputOf(context.df.getInput());
  if (!input) return { kind: "skipped", reason: "MalformedInput" } satisfies AlertSettleSkip;
  let records: AlertRecords = { devices: input.devices, ...(input.product ? { product: input.product } : {}) };

  if (input.settleSeconds > 0) {
    const fireAt = new Date(context.df.currentUtcDateTime.getTime() + input.settleSeconds * 1000);
    // Each event ends one wait; the next wait has a fresh timer for the same moment, so the window
    // never grows, however many batches carry the alert.
    for (let events = 0; ; events++) {
      const timer = context.df.createTimer(fireAt);
      if (events >= MAX_SETTLE_EVENTS) {
        yield timer;
        break;
      }
      const more = context.df.waitForExternalEvent(ALERT_RECORDS_EVENT);
      const winner: unknown = yield context.df.Task.any([timer, more]);
      if (winner !== more) break;
      timer.cancel();
      records = mergeRecords(records, alertRecordsOf(more.result));
    }
  }

  // A row naming only another product (Office 365, Identity...) says MDE holds no such alert.
  if (records.product === "other") return { kind: "skipped", reason: "NotAnMdeAlert" } satisfies AlertSettleSkip;
  const activityInput: CollectAlertInput = { alertId: input.alertId, devices: records.devices };
  return yield context.df.callActivityWithRetry(COLLECT_ALERT_ACTIVITY, activityRetry, activityInput);
};
