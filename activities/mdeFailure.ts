import { MdeApiError } from "../shared/errors";
import type { Rejected, Throttled } from "../shared/contract";
import { publicMessage } from "../shared/publicMessage";

/** MDE errors retrying cannot fix: a bad request, no token or permission, an unknown id, a conflict. */
const REFUSALS = [400, 401, 403, 404, 409];

/**
 * Turns an MDE error that retrying cannot fix (or that only a durable wait can) into a value;
 * returns undefined for transient faults, which the activity rethrows so the Durable runtime retries.
 */
export function expectedMdeFailure(e: unknown): Throttled | Rejected | undefined {
  if (!(e instanceof MdeApiError)) return undefined;
  if (e.statusCode === 429) return { kind: "throttled", retryAfterInMs: e.retryAfterInMs };
  if (e.statusCode !== undefined && REFUSALS.includes(e.statusCode)) return rejectedBy(e);
  return undefined;
}

/** MDE's refusal as a value: its status, code and correlation id, and its message as one bounded line. */
export function rejectedBy(e: MdeApiError): Rejected {
  return {
    kind: "rejected",
    statusCode: e.statusCode,
    code: publicMessage(e.code, 100),
    message: publicMessage(e.message),
    target: e.target === undefined ? undefined : publicMessage(e.target, 100),
  };
}
