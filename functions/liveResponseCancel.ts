import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { cancelRequestFor, parseCancelBody } from "../shared/cancelRequest";
import { CANCEL_EVENT } from "../shared/contract";
import { auditRecordOf, type AuditTrail } from "../shared/evidence/auditTrail";
import { jsonLogger } from "../shared/log";
import { describeFailure } from "../shared/publicMessage";
import { authorize, type EndpointAuth } from "./auth";
import { durableFor, type DurableDeps } from "./durableAccess";
import { errorResponse, INSTANCE_ID_PATTERN, readJsonBody, TERMINAL_RUNTIME_STATUSES } from "./http";

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
    const authorization = await authorize(request, deps.auth, "cancel");
    if (!authorization.ok) return authorization.response;
    const instanceId = request.params.instanceId ?? "";
    if (!INSTANCE_ID_PATTERN.test(instanceId)) {
      return errorResponse(400, "InvalidInstanceId", "The instance id is not one this service issues.");
    }
    const body = await readJsonBody(request, MAX_CANCEL_BODY_BYTES, false);
    if (!body.ok) return body.response;
    const parsed = parseCancelBody(body.value);
    if (!parsed.ok)
      return errorResponse(400, "InvalidRequest", "The cancel request is not valid; nothing was cancelled. See details.", parsed.problems);

    const durable = durableFor(deps, context);
    const status = await durable.findStatus(instanceId);
    if (!status) return errorResponse(404, "CollectionNotFound", `No collection with instance id ${instanceId}.`);
    if (TERMINAL_RUNTIME_STATUSES.includes(String(status.runtimeStatus))) {
      return errorResponse(409, "CollectionFinished", `The collection already finished (${status.runtimeStatus}); nothing to cancel.`);
    }
    const cancel = cancelRequestFor(authorization.caller, parsed.value.reason, deps.now());
    if (deps.audit) {
      const record = auditRecordOf({
        action: "cancel",
        instanceId,
        caller: authorization.caller,
        headers: request.headers,
        invocationId: context.invocationId,
        at: deps.now(),
        detail: cancel.reason,
      });
      // Fails closed: a cancellation that cannot be put on record is not made (503, nothing raised).
      try {
        await deps.audit.append(record);
      } catch (e) {
        jsonLogger(context, { instanceId }).error("audit record not written; cancellation refused", {
          callerObjectId: record.caller.objectId,
          detail: describeFailure(e),
        });
        return errorResponse(
          503,
          "AuditUnavailable",
          "The audit trail could not be written; nothing was cancelled. Retry shortly.",
          undefined,
          {
            "Retry-After": "10",
          },
        );
      }
    }
    await durable.client.raiseEvent(instanceId, CANCEL_EVENT, cancel);
    jsonLogger(context, { instanceId }).info("cancellation requested", { requestedByObjectId: cancel.requestedByObjectId });
    return {
      status: 202,
      jsonBody: { instanceId, cancellation: cancel, message: "Cancellation requested; follow the status URL for the outcome." },
    };
  };
}
