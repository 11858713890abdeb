import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { CollectEvidenceInput, CollectionStatus, CollectionTrigger } from "../shared/contract";
import type { AuditTrail } from "../shared/evidence/auditTrail";
import { recordAudit } from "./audit";
import { publicMessage } from "../shared/publicMessage";
import { authorizeForInstance, type EndpointAuth } from "./auth";
import { durableFor, type DurableDeps } from "./durableAccess";
import { collectionNotFound } from "./http";

/** Phase shown when the orchestration itself ended abnormally (crash, terminate) rather than through the collector's own outcome. */
const PHASE_OF_RUNTIME: Record<string, string> = {
  Pending: "submitting",
  Failed: "failed",
  Terminated: "terminated",
  Canceled: "cancelled",
};

export interface LiveResponseStatusDeps extends DurableDeps {
  auth: EndpointAuth;
  /** Where each read of a collection is recorded (app.ts always gives one; unit tests of other concerns may not). */
  audit?: AuditTrail;
  now?: () => Date;
}

/**
 * GET /api/liveresponse/{instanceId} (app role granting `read`): the collection's phase, the MDE
 * action and its commands, every collected result's blob URL, size and SHA-256, what started it
 * and who. Built field by field: the orchestration's input is never echoed, and nothing links to
 * the Durable extension's own API.
 */
export function createLiveResponseStatus(deps: LiveResponseStatusDeps) {
  return async function liveResponseStatus(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const authorization = await authorizeForInstance(request, deps.auth, "read");
    if (!authorization.ok) return authorization.response;
    const { instanceId } = authorization;
    const status = await durableFor(deps, context).findStatus(instanceId);
    if (!status) return collectionNotFound(instanceId);
    // Fails open, loudly: a read changes nothing, and refusing it during a storage outage would
    // blind the SOC to a collection in progress; the error line puts the gap on record.
    const at = (deps.now ?? (() => new Date()))();
    await recordAudit(
      deps.audit,
      request,
      context,
      { action: "read", instanceId, caller: authorization.caller, at },
      { failClosed: false },
    );

    const custom = (
      typeof status.customStatus === "object" && status.customStatus !== null ? status.customStatus : {}
    ) as Partial<CollectionStatus>;
    const runtimeStatus = String(status.runtimeStatus);
    const trigger = (status.input as Partial<CollectEvidenceInput> | undefined)?.request?.trigger;
    const body: Record<string, unknown> = {
      ...custom,
      instanceId,
      runtimeStatus,
      createdTime: status.createdTime,
      lastUpdatedTime: status.lastUpdatedTime,
      phase:
        (runtimeStatus !== "Completed" && runtimeStatus !== "Running" && PHASE_OF_RUNTIME[runtimeStatus]) || custom.phase || "submitting",
      ...startOf(trigger),
    };
    if (runtimeStatus === "Completed") body.result = status.output;
    // A crashed orchestration's output is the runtime's error text: one public line, no stack or paths.
    if (runtimeStatus === "Failed")
      body.error = publicMessage(typeof status.output === "string" ? status.output : JSON.stringify(status.output ?? null));
    return { status: 200, jsonBody: body };
  };
}

/** What started the collection and, for the webhook, who: the verified caller recorded at the start. */
function startOf(trigger: CollectionTrigger | undefined): Record<string, unknown> {
  if (typeof trigger !== "object" || trigger === null) return {};
  if (trigger.kind !== "webhook") return { trigger };
  const { caller, ...rest } = trigger;
  // Collections started before authentication recorded a self-declared name: not shown as who started it.
  return { trigger: rest, ...(typeof caller === "object" && caller !== null ? { startedBy: caller } : {}) };
}
