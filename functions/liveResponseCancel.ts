import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { cancelRequestFor, parseCancelBody } from "../shared/cancelRequest";
import { CANCEL_EVENT } from "../shared/contract";
import type { AuditTrail } from "../shared/evidence/auditTrail";
import { recordAudit } from "./audit";
import { jsonLogger } from "../shared/log";
import { authorizeForInstance, type EndpointAuth } from "./auth";
import { durableFor, type DurableDeps } from "./durableAccess";
import { collectionNotFound, errorResponse, readJsonBody, TERMINAL_RUNTIME_STATUSES } from "./http";

/** `{ "reason": "..." }` is a few hundred bytes at most. */
const MAX_CANCEL_BODY_BYTES = 4096;

export interface LiveResponseCancelDeps extends DurableDeps {
  auth: EndpointAuth;
  now: () => Date;
  /** Where each cancellation is recorded before it is raised (app.ts always gives one). */
  audit?: AuditTrail;
}

/**
 * POST /api/liveresponse/{instanceId}/cancel (app role granting `cancel`) with `{}` or
 * `{ "reason": "..." }`: the collection cancels its MDE action, keeps whatever already completed,
 * and records who (the verified caller) and why in the manifest.
 */
export function createLiveResponseCancel(deps: LiveResponseCancelDeps) {
  return async function liveResponseCancel(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const authorization = await authorizeForInstance(request, deps.auth, "cancel");
    if (!authorization.ok) return authorization.response;
    const { instanceId } = authorization;
    const body = await readJsonBody(request, MAX_CANCEL_BODY_BYTES, false);
    if (!body.ok) return body.response;
    const parsed = parseCancelBody(body.value);
    if (!parsed.ok)
      return errorResponse(400, "InvalidRequest", "The cancel request is not valid; nothing was cancelled. See details.", parsed.problems);

    const durable = durableFor(deps, context);
    const status = await durable.findStatus(instanceId);
    if (!status) return collectionNotFound(instanceId);
    if (TERMINAL_RUNTIME_STATUSES.includes(String(status.runtimeStatus))) {
      return errorResponse(409, "CollectionFinished", `The collection already finished (${status.runtimeStatus}); nothing to cancel.`);
    }
    const cancel = cancelRequestFor(authorization.caller, parsed.value.reason, deps.now());
    // Fails closed: a cancellation that cannot be put on record is not made (503, nothing raised).
    const entry = { action: "cancel", instanceId, caller: authorization.caller, at: deps.now(), detail: cancel.reason } as const;
    const refused = await recordAudit(deps.audit, request, context, entry, { failClosed: true });
    if (refused) return refused;
    await durable.client.raiseEvent(instanceId, CANCEL_EVENT, cancel);
    jsonLogger(context, { instanceId }).info("cancellation requested", { requestedByObjectId: cancel.requestedByObjectId });
    return {
      status: 202,
      jsonBody: { instanceId, cancellation: cancel, message: "Cancellation requested; follow the status URL for the outcome." },
    };
  };
}
