import { MdeApiError } from "../shared/errors";
import type { Rejected, Throttled } from "../shared/contract";

/**
 * Turns an MDE error that retrying cannot fix (or that only a durable wait can) into a value;
 * returns undefined for transient faults, which the activity rethrows so the Durable runtime retries.
 */
export function expectedMdeFailure(e: unknown): Throttled | Rejected | undefined {
  if (!(e instanceof MdeApiError)) return undefined;
  if (e.statusCode === 429) return { kind: "throttled", retryAfterInMs: e.retryAfterInMs };
  if (e.statusCode !== undefined && [400, 401, 403, 404, 409].includes(e.statusCode)) {
    return { kind: "rejected", statusCode: e.statusCode, code: e.code, message: e.message, target: e.target };
  }
  return undefined;
}
