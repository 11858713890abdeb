import { app, type InvocationContext, type Timer } from "@azure/functions";
import * as df from "durable-functions";
import { durableFor, type DurableAccess, type DurableDeps } from "./durableAccess";
import { RecentAlertDevices } from "./alertDuplicates";
import { collectForAlertClaim, type AlertOutcome, type AlertPipelineDeps } from "./alertPipeline";
import type { AlertDropReason } from "../shared/alerts/claim";
import type { GraphAlertsApi } from "../shared/alerts/graphClient";
import { graphAlertClaim } from "../shared/alerts/graph";
import { pollAlertsOnce, type PolledAlertResult, type PollRunSummary } from "../shared/alerts/graphPoll";
import type { AlertPollingSettings } from "../shared/alerts/graphSettings";
import type { AlertPollingServices } from "../shared/alerts/graphServices";
import type { PollCursorStore } from "../shared/alerts/pollCursor";
import { jsonLogger, type Logger } from "../shared/log";
import { describeFailure } from "../shared/publicMessage";
import { echoName } from "../shared/validation";

export interface AlertPollingDeps extends DurableDeps, AlertPipelineDeps {
  graph: GraphAlertsApi;
  cursor: PollCursorStore;
  polling: Pick<AlertPollingSettings, "lookbackInMs" | "pageSize" | "maxPages">;
  /** Monotonic milliseconds for the run budget (tests). @default performance.now */
  clock?: () => number;
}

/**
 * Drops that will not change on another try: the alert is handled (skipped) and the cursor may pass
 * it. `SourceUnavailable` (MDE throttled or down past the fetch budget) and `AccessDenied` (the app
 * lacks Alert.Read.All: once granted, the alert must still be collected) keep it for the next run.
 */
const PERMANENT_DROPS: ReadonlySet<AlertDropReason> = new Set<AlertDropReason>([
  "MalformedEvent",
  "NotAnAlert",
  "NotAnMdeAlert",
  "AlertNotFound",
  "UnexpectedAlert",
  "NoDevice",
]);

/** Whether a pipeline outcome lets the cursor pass the alert. */
export function isFinalOutcome(outcome: AlertOutcome): boolean {
  return outcome.kind !== "dropped" || PERMANENT_DROPS.has(outcome.reason);
}

/**
 * Timer trigger `alertPolling` (registered only with ALERTS_POLL_SCHEDULE): reads Graph
 * `security/alerts_v2` by lastUpdateDateTime window (shared/alerts/graphPoll.ts), and sends every
 * Defender for Endpoint alert through the one alert pipeline (functions/alertPipeline.ts) as a claim
 * of its `providerAlertId`: the alert is then read from MDE and acted on as MDE answers it. Other
 * products' alerts are skipped. One JSON log line per run with what it did.
 */
export function createAlertPolling(deps: AlertPollingDeps) {
  const recent = new RecentAlertDevices();
  return async function alertPolling(_timer: Timer, context: InvocationContext): Promise<void> {
    const log = jsonLogger(context, { function: "alertPolling" });
    let durable: DurableAccess | undefined;
    const durableAccess = () => (durable ??= durableFor(deps, context));
    try {
      const summary = await pollAlertsOnce({
        graph: deps.graph,
        cursor: deps.cursor,
        now: deps.now,
        settings: deps.polling,
        log,
        clock: deps.clock,
        handle: (alert) => handlePolledAlert(deps, recent, alert, durableAccess, log),
      });
      logSummary(log, summary);
    } catch (e) {
      // The cursor could not be read or written: nothing moved, the next run starts from the same place.
      log.error("alerts_v2 poll failed", { reason: "Unexpected", detail: describeFailure(e) });
    }
  };
}

async function handlePolledAlert(
  deps: AlertPollingDeps,
  recent: RecentAlertDevices,
  alert: Record<string, unknown>,
  durable: () => DurableAccess,
  log: Logger,
): Promise<PolledAlertResult> {
  const graphId = echoName(String(alert.id));
  const claimed = graphAlertClaim(alert);
  if (!claimed.ok) {
    // Another product's alert (or one without an id MDE could know): expected, cheap, no MDE call.
    log.info("polled alert skipped", { graphAlertId: graphId, reason: claimed.reason, detail: claimed.detail });
    return "handled";
  }
  const outcome = await collectForAlertClaim(deps, recent, claimed.claim, durable(), log, { route: "graphPolling", eventId: graphId });
  return isFinalOutcome(outcome) ? "handled" : "retry";
}

function logSummary(log: Logger, summary: PollRunSummary): void {
  const properties = { ...summary } as Record<string, string | number>;
  if (summary.outcome === "conflict") log.warn("alerts_v2 poll yielded to another run", properties);
  else log.info("alerts_v2 poll finished", properties);
}

/**
 * Registers the `alertPolling` timer when ALERTS_POLL_SCHEDULE is set; without it nothing is
 * registered and the app needs no Graph permission. The schedule is the validated setting, as for
 * the collection plans' timer (app.ts).
 */
export function registerAlertPolling(services: AlertPollingServices | undefined, deps: AlertPipelineDeps): void {
  if (!services) return;
  app.timer("alertPolling", {
    schedule: services.settings.schedule,
    extraInputs: [df.input.durableClient()],
    handler: createAlertPolling({ ...deps, graph: services.graph, cursor: services.cursor, polling: services.settings }),
  });
}
