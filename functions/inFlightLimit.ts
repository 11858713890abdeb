import type { HttpResponseInit } from "@azure/functions";
import type { AppConfig } from "../shared/config";
import { COLLECT_EVIDENCE_ORCHESTRATOR, type CollectEvidenceInput } from "../shared/contract";
import { errorResponse } from "./http";
import type { InstanceInFlight } from "./instanceStatus";

/** Seconds a refused caller waits: collections take minutes, polling faster only spends queries. */
export const IN_FLIGHT_RETRY_AFTER_SECONDS = 60;

export type InFlightLimits = Pick<AppConfig["limits"], "maxInFlight" | "maxInFlightPerCaller">;

/** Which limit one more collection would pass, with the setting that sets it. */
export type InFlightCheck = { ok: true } | { ok: false; setting: string; limit: number; who: "all callers" | "this caller" };

/**
 * Whether one more collection for this caller fits under the limits: every instance in flight
 * counts against the total (webhook, schedule and alert alike), the caller's own webhook starts
 * (by the object id recorded in their input) against theirs. Stops reading as soon as a limit is
 * reached, so the cost is bounded by the limits, not by the task hub.
 */
export async function checkInFlight(
  instances: AsyncIterable<InstanceInFlight>,
  callerObjectId: string,
  limits: InFlightLimits,
): Promise<InFlightCheck> {
  let total = 0;
  let mine = 0;
  for await (const instance of instances) {
    // Only collections hold a device's session; an alert's settle window (alertSettle) is not one.
    if (instance.name !== undefined && instance.name !== COLLECT_EVIDENCE_ORCHESTRATOR) continue;
    total += 1;
    if (total >= limits.maxInFlight)
      return { ok: false, setting: "COLLECTIONS_MAX_IN_FLIGHT", limit: limits.maxInFlight, who: "all callers" };
    if (startedBy(instance.input) === callerObjectId) {
      mine += 1;
      if (mine >= limits.maxInFlightPerCaller) {
        return { ok: false, setting: "COLLECTIONS_MAX_IN_FLIGHT_PER_CALLER", limit: limits.maxInFlightPerCaller, who: "this caller" };
      }
    }
  }
  return { ok: true };
}

/** 429 naming the limit and when to retry. */
export function tooManyCollections(check: Extract<InFlightCheck, { ok: false }>): HttpResponseInit {
  return errorResponse(
    429,
    "TooManyCollections",
    `${check.limit} collections are already in flight for ${check.who} (the limit, ${check.setting}); nothing was started. ` +
      "Retry when some have finished.",
    undefined,
    { "Retry-After": String(IN_FLIGHT_RETRY_AFTER_SECONDS) },
  );
}

/** The object id of the webhook caller recorded in an instance's input, if any. */
function startedBy(input: unknown): string | undefined {
  const trigger = (input as Partial<CollectEvidenceInput> | null | undefined)?.request?.trigger;
  if (trigger?.kind !== "webhook" || typeof trigger.caller !== "object" || trigger.caller === null) return undefined;
  return typeof trigger.caller.objectId === "string" ? trigger.caller.objectId : undefined;
}
