import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { CollectionStatus } from "../shared/contract";
import { durableFor, type DurableDeps } from "./durableAccess";
import { errorResponse, INSTANCE_ID_PATTERN } from "./http";

/** Phase shown when the orchestration itself ended abnormally (crash, terminate) rather than through the collector's own outcome. */
const PHASE_OF_RUNTIME: Record<string, string> = {
  Pending: "submitting",
  Failed: "failed",
  Terminated: "terminated",
  Canceled: "cancelled",
};

/**
 * GET /api/liveresponse/{instanceId}: the collection's phase, the MDE action and its commands, and
 * every collected result's blob URL, size and SHA-256.
 */
export function createLiveResponseStatus(deps: DurableDeps = {}) {
  return async function liveResponseStatus(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const instanceId = request.params.instanceId ?? "";
    if (!INSTANCE_ID_PATTERN.test(instanceId)) {
      return errorResponse(400, "InvalidInstanceId", "The instance id is not one this service issues.");
    }
    const status = await durableFor(deps, context).findStatus(instanceId);
    if (!status) return errorResponse(404, "CollectionNotFound", `No collection with instance id ${instanceId}.`);

    const custom = (status.customStatus ?? {}) as Partial<CollectionStatus>;
    const runtimeStatus = String(status.runtimeStatus);
    const body: Record<string, unknown> = {
      instanceId,
      runtimeStatus,
      createdTime: status.createdTime,
      lastUpdatedTime: status.lastUpdatedTime,
      ...custom,
      phase:
        (runtimeStatus !== "Completed" && runtimeStatus !== "Running" && PHASE_OF_RUNTIME[runtimeStatus]) || custom.phase || "submitting",
    };
    if (runtimeStatus === "Completed") body.result = status.output;
    if (runtimeStatus === "Failed") body.error = status.output;
    return { status: 200, jsonBody: body };
  };
}
