import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { CANCEL_EVENT, type CancelRequest } from "../shared/contract";
import { jsonLogger } from "../shared/log";
import { durableFor, type DurableDeps } from "./durableAccess";
import { callerOf, errorResponse, INSTANCE_ID_PATTERN, readJsonBody, TERMINAL_RUNTIME_STATUSES } from "./http";

const MAX_REASON_LENGTH = 500;

/**
 * POST /api/liveresponse/{instanceId}/cancel with `{ "reason": "...", "requestedBy": "..." }`: the
 * collection cancels its MDE action, keeps whatever already completed, and records who and why in the manifest.
 */
export function createLiveResponseCancel(deps: DurableDeps & { now: () => Date }) {
  return async function liveResponseCancel(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const instanceId = request.params.instanceId ?? "";
    if (!INSTANCE_ID_PATTERN.test(instanceId)) {
      return errorResponse(400, "InvalidInstanceId", "The instance id is not one this service issues.");
    }
    const body = await readJsonBody(request, 4096, false);
    if (!body.ok) return body.response;
    const { reason, requestedBy } = (typeof body.value === "object" && body.value !== null ? body.value : {}) as Record<string, unknown>;
    if (reason !== undefined && (typeof reason !== "string" || reason.length > MAX_REASON_LENGTH)) {
      return errorResponse(400, "InvalidRequest", "reason must be a string", [
        { field: "reason", message: `a string of at most ${MAX_REASON_LENGTH} characters` },
      ]);
    }
    if (requestedBy !== undefined && (typeof requestedBy !== "string" || requestedBy.length > 200)) {
      return errorResponse(400, "InvalidRequest", "requestedBy must be a string", [
        { field: "requestedBy", message: "a string of at most 200 characters" },
      ]);
    }

    const durable = durableFor(deps, context);
    const status = await durable.findStatus(instanceId);
    if (!status) return errorResponse(404, "CollectionNotFound", `No collection with instance id ${instanceId}.`);
    if (TERMINAL_RUNTIME_STATUSES.includes(String(status.runtimeStatus))) {
      return errorResponse(409, "CollectionFinished", `The collection already finished (${status.runtimeStatus}); nothing to cancel.`);
    }
    const cancel: CancelRequest = {
      // An authenticated principal outranks a self-declared name.
      requestedBy: callerOf(request) ?? (requestedBy as string | undefined) ?? "anonymous API caller",
      reason: (reason as string | undefined) ?? "no reason given",
      requestedAt: deps.now().toISOString(),
    };
    await durable.client.raiseEvent(instanceId, CANCEL_EVENT, cancel);
    jsonLogger(context, { instanceId }).info("cancellation requested", { requestedBy: cancel.requestedBy });
    return {
      status: 202,
      jsonBody: { instanceId, cancellation: cancel, message: "Cancellation requested; follow the status URL for the outcome." },
    };
  };
}
