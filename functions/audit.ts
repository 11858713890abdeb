import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { VerifiedCaller } from "../shared/auth/caller";
import { auditRecordOf, type AuditAction, type AuditTrail } from "../shared/evidence/auditTrail";
import { jsonLogger } from "../shared/log";
import { describeFailure } from "../shared/publicMessage";
import { errorResponse } from "./http";

/** What one endpoint puts on record about one collection. */
export interface AuditEntry {
  action: AuditAction;
  instanceId: string;
  caller: VerifiedCaller;
  at: Date;
  detail?: string;
}

/**
 * Appends the caller's action to the audit trail (when the app has one). A failure is logged with
 * who did what, so the gap is on record in the app's logs; `failClosed` also turns it into the 503
 * to answer: a start or cancel that cannot be put on record is not made.
 * @returns undefined to go on, or the response to answer
 */
export async function recordAudit(
  audit: AuditTrail | undefined,
  request: HttpRequest,
  context: InvocationContext,
  entry: AuditEntry,
  options: { failClosed: boolean },
): Promise<HttpResponseInit | undefined> {
  if (!audit) return undefined;
  const record = auditRecordOf({ ...entry, headers: request.headers, invocationId: context.invocationId });
  try {
    await audit.append(record);
    return undefined;
  } catch (e) {
    const log = jsonLogger(context, { instanceId: entry.instanceId });
    log.error("audit record not written", { action: entry.action, callerObjectId: record.caller.objectId, detail: describeFailure(e) });
    if (!options.failClosed) return undefined;
    const message = `The audit trail could not be written; the ${entry.action} was not made. Retry shortly.`;
    return errorResponse(503, "AuditUnavailable", message, undefined, { "Retry-After": "10" });
  }
}
