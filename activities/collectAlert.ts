import type { InvocationContext } from "@azure/functions";
import { RecentAlertDevices } from "../functions/alertDuplicates";
import { collectForAlertClaim, type AlertOutcome, type AlertPipelineDeps } from "../functions/alertPipeline";
import { durableFor, type DurableDeps } from "../functions/durableAccess";
import { claimOf } from "../shared/alerts/claim";
import { mergeDevices, type AlertSettleSkip } from "../shared/alerts/streamingSettle";
import { settleInstanceId } from "../shared/alerts/streamingSettleId";
import { jsonLogger } from "../shared/log";
import { isRecord } from "../shared/validation";
import { withPublicFaults } from "./activityFault";

/** What the activity needs: the alert pipeline's dependencies and the durable client binding (to start collections). */
export interface CollectAlertDeps extends DurableDeps, AlertPipelineDeps {}

/**
 * `collectAlert`: the end of a streamed alert's settle window (orchestrators/alertSettle.ts). Runs
 * the one alert pipeline with the alert id and the devices the records named as hints: the
 * duplicate check, the alert as MDE answers it, the rules, one collection per device.
 *
 * Idempotent: collections are named by alert and device (functions/alertDuplicates.ts), so a retry
 * finds the ones a first attempt started and starts only what is missing. Registered with a durable
 * client input, which the Durable extension binds for any function kind.
 */
export function createCollectAlert(deps: CollectAlertDeps) {
  const recent = new RecentAlertDevices();
  return withPublicFaults(async function collectAlert(input: unknown, context: InvocationContext): Promise<AlertOutcome | AlertSettleSkip> {
    const log = jsonLogger(context, { function: "collectAlert" });
    const alertId = isRecord(input) && typeof input.alertId === "string" ? input.alertId : undefined;
    const devices = isRecord(input) && Array.isArray(input.devices) ? input.devices.filter((d): d is string => typeof d === "string") : [];
    const claimed = claimOf("streaming", alertId, { claimedDevices: mergeDevices([], devices) }, "the streamed alert");
    if (!claimed.ok) {
      log.warn("alert event dropped", { route: "streaming", reason: claimed.reason, detail: claimed.detail });
      return { kind: "skipped", reason: "MalformedInput" };
    }
    const eventId = settleInstanceId(claimed.claim.mdeAlertId);
    return collectForAlertClaim(deps, recent, claimed.claim, durableFor(deps, context), log, { route: "streaming", eventId });
  });
}
