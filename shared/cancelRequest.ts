/**
 * The cancel request, checked at both ends: the cancel endpoint builds it from the verified caller
 * and the body's `reason`, and the orchestrator accepts the `CancelCollection` event only when it
 * has exactly this shape. An event raised by other means (the Durable management API, a forged
 * payload) cannot put an object, a megabyte or a bidi override into the status and the manifest.
 * Pure: the orchestrator imports it.
 */
import { describeCaller, type VerifiedCaller } from "./auth/caller";
import type { CancelRequest } from "./contract";
import { hasUnsafeCharacters, replaceUnsafeCharacters, UNSAFE_CHARACTERS_MESSAGE } from "./unsafeCharacters";
import { echoName, isRecord, type FieldProblem, type Validated } from "./validation";

export const CANCEL_LIMITS = {
  /** The reason a caller gives, in characters. */
  maxReasonLength: 500,
  /** `requestedBy` in UTF-16 units: the caller's name and object id, as {@link describeCaller} writes them. */
  maxRequestedByLength: 300,
  /** At most this many unknown fields are named in one 400. */
  maxEchoedFields: 5,
} as const;

/** Entra object ids are GUIDs; anything else cannot be one (the development identity mints GUIDs too). */
export const OBJECT_ID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** What `Date.toISOString()` writes (the endpoint's clock), with up to 7 fraction digits as .NET writes them. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,7})?Z$/;
const EVENT_FIELDS = ["requestedBy", "requestedByObjectId", "reason", "requestedAt"] as const;
/** What the cancel endpoint raised before callers were authenticated. */
const LEGACY_EVENT_FIELDS = ["requestedBy", "reason", "requestedAt"] as const;
const BODY_FIELDS = new Set(["reason"]);

/** Why a cancel reason is refused, or undefined when it is acceptable. */
export function cancelReasonProblem(reason: unknown): string | undefined {
  if (typeof reason !== "string" || reason.trim() === "" || reason.length > CANCEL_LIMITS.maxReasonLength) {
    return `a non-empty string of at most ${CANCEL_LIMITS.maxReasonLength} characters`;
  }
  return hasUnsafeCharacters(reason) ? UNSAFE_CHARACTERS_MESSAGE : undefined;
}

/**
 * The cancel endpoint's body: `{}` or `{ "reason": "..." }`, nothing else. Who asks comes from the
 * token, never from the body, so any other field (a `requestedBy` included) is refused by name.
 */
export function parseCancelBody(body: unknown): Validated<{ reason?: string }> {
  if (!isRecord(body)) return { ok: false, problems: [{ field: "(body)", message: "must be a JSON object" }] };
  const problems: FieldProblem[] = [];
  const unknown = Object.keys(body).filter((k) => !BODY_FIELDS.has(k));
  for (const key of unknown.slice(0, CANCEL_LIMITS.maxEchoedFields)) {
    problems.push({ field: echoName(key), message: "unknown field; the cancel body takes only reason (who asks comes from the token)" });
  }
  if (unknown.length > CANCEL_LIMITS.maxEchoedFields) {
    problems.push({ field: "(body)", message: `${unknown.length - CANCEL_LIMITS.maxEchoedFields} more unknown fields` });
  }
  const reasonProblem = body.reason === undefined ? undefined : cancelReasonProblem(body.reason);
  if (reasonProblem) problems.push({ field: "reason", message: reasonProblem });
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: body.reason === undefined ? {} : { reason: body.reason as string } };
}

/**
 * The event the cancel endpoint raises for this caller. The caller's name comes from a validated
 * token but is still made one bounded line, so {@link parseCancelRequest} never drops a real cancel.
 */
export function cancelRequestFor(caller: VerifiedCaller, reason: string | undefined, requestedAt: Date): CancelRequest {
  return {
    requestedBy: oneLine(describeCaller(caller), CANCEL_LIMITS.maxRequestedByLength) || caller.objectId,
    requestedByObjectId: caller.objectId,
    reason: reason ?? "no reason given",
    requestedAt: requestedAt.toISOString(),
  };
}

/**
 * The `CancelCollection` event's data as a {@link CancelRequest}, or undefined when it is not one;
 * the orchestrator ignores (and logs) anything else. Accepted:
 * - what {@link cancelRequestFor} builds: exactly `requestedBy`, `requestedByObjectId`, `reason`
 *   and `requestedAt`, each a string within its bounds, one line;
 * - the shape the endpoint raised before callers were authenticated (`requestedBy`, `reason`,
 *   `requestedAt`, three strings): a collection in flight across the upgrade may hold one in its
 *   history, and replaying it must decide as it did then (a cancel). Its text is made one bounded
 *   line, so it cannot carry line breaks or bidi overrides into the manifest.
 */
export function parseCancelRequest(data: unknown): CancelRequest | undefined {
  if (!isRecord(data)) return undefined;
  const keys = Object.keys(data);
  const hasExactly = (fields: readonly string[]) => keys.length === fields.length && fields.every((f) => keys.includes(f));
  const { requestedBy, requestedByObjectId, reason, requestedAt } = data;
  if (typeof requestedAt !== "string" || !ISO_INSTANT.test(requestedAt) || Number.isNaN(Date.parse(requestedAt))) return undefined;
  if (typeof requestedBy !== "string" || typeof reason !== "string") return undefined;
  if (hasExactly(LEGACY_EVENT_FIELDS)) {
    return {
      requestedBy: oneLine(requestedBy, CANCEL_LIMITS.maxRequestedByLength) || "unknown",
      reason: oneLine(reason, CANCEL_LIMITS.maxReasonLength) || "no reason given",
      requestedAt,
    };
  }
  if (!hasExactly(EVENT_FIELDS)) return undefined;
  const nameOk = requestedBy.trim() !== "" && requestedBy.length <= CANCEL_LIMITS.maxRequestedByLength && !hasUnsafeCharacters(requestedBy);
  if (!nameOk || typeof requestedByObjectId !== "string" || !OBJECT_ID_PATTERN.test(requestedByObjectId)) return undefined;
  if (cancelReasonProblem(reason) !== undefined) return undefined;
  return { requestedBy, requestedByObjectId, reason, requestedAt };
}

/** The text as one line of at most `max` UTF-16 units (unsafe characters become spaces; a surrogate pair is never split). */
function oneLine(text: string, max: number): string {
  let line = replaceUnsafeCharacters(text, " ").slice(0, max);
  if (/[\ud800-\udbff]$/.test(line)) line = line.slice(0, -1);
  return line.trim();
}
