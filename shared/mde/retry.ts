/**
 * When to retry an MDE request inside one activity, as a pure strategy (state in, decision out),
 * following the Azure SDK's retry strategies. The loop that applies it lives in `client.ts`.
 *
 * What is deliberately NOT retried here:
 * - 429: retrying sooner than `Retry-After` prolongs MDE's throttling, and waiting for minutes
 *   belongs to the orchestrator's durable timers, so the error is surfaced with `retryAfterInMs`.
 * - Other 4xx: the request itself is wrong, or the device is busy (`ActiveRequestAlreadyExists`).
 * - Non-idempotent requests (POST runliveresponse) on 5xx or network errors: a 500 or a reset
 *   connection may come after MDE accepted the action, and a blind second POST would start a
 *   second session (or fail with ActiveRequestAlreadyExists). The caller decides, by reading the
 *   device's machine actions.
 * - The caller's abort: only the client's own per-request timeout counts as transient.
 */
import { MdeApiError } from "../errors";

export interface RetryOptions {
  /**
   * Retries after the first attempt (so at most `maxRetries + 1` requests).
   * @default 3
   */
  maxRetries?: number;
  /**
   * Base of the exponential backoff: the delay before the first retry is about this long.
   * @default 800
   */
  retryDelayInMs?: number;
  /**
   * Cap on one backoff delay; a 503 asking to wait longer than this is surfaced instead.
   * @default 10000
   */
  maxRetryDelayInMs?: number;
}

export const DEFAULT_RETRY_OPTIONS: Readonly<Required<RetryOptions>> = {
  maxRetries: 3,
  retryDelayInMs: 800,
  maxRetryDelayInMs: 10_000,
};

/** HTTP statuses that say "try again" without saying the request was wrong. */
export const TRANSIENT_STATUS_CODES: readonly number[] = [408, 500, 502, 503, 504];

/** Error codes the client gives to failures that got no HTTP answer (see client.ts). */
export const NETWORK_ERROR_CODE = "NetworkError";
export const REQUEST_TIMEOUT_CODE = "RequestTimeout";

/** Socket-level error codes (Node `code`, also on undici's `cause`) worth another attempt. */
const TRANSIENT_SOCKET_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

export interface RetryState {
  /** 1-based number of the attempt that just failed. */
  attempt: number;
  /** What that attempt threw. */
  error: unknown;
  /**
   * Whether sending the request twice is harmless. GET and cancel are; POST runliveresponse is not.
   * Required on purpose: there is no safe default.
   */
  idempotent: boolean;
  options?: RetryOptions;
  /**
   * Source of jitter, returning [0, 1).
   * @default Math.random
   */
  random?: () => number;
}

export type RetryDecision = { retry: true; delayInMs: number } | { retry: false };

/**
 * Decides whether to retry a failed MDE request and after how long.
 * Transient failures of idempotent requests back off exponentially with jitter:
 * `min(max, base * 2^(attempt-1))`, then a random point in its upper half.
 * A 503 with a `Retry-After` within the cap waits exactly that long.
 * @param state - the failed attempt, the error, and the options.
 * @returns `{ retry: true, delayInMs }` or `{ retry: false }`.
 */
export function nextRetryDelay(state: RetryState): RetryDecision {
  const options = { ...DEFAULT_RETRY_OPTIONS, ...definedOnly(state.options) };
  if (!state.idempotent || state.attempt > options.maxRetries || !isTransientError(state.error)) {
    return { retry: false };
  }
  const retryAfterInMs = state.error instanceof MdeApiError ? state.error.retryAfterInMs : undefined;
  if (retryAfterInMs !== undefined) {
    // MDE named its own wait: honour it, or leave a long one to the orchestrator's timers.
    return retryAfterInMs <= options.maxRetryDelayInMs ? { retry: true, delayInMs: retryAfterInMs } : { retry: false };
  }
  const random = state.random ?? Math.random;
  const exponential = options.retryDelayInMs * 2 ** (state.attempt - 1);
  const clamped = Math.min(options.maxRetryDelayInMs, exponential);
  // Upper-half jitter (as the Azure SDK does) keeps a floor under the delay while spreading
  // the retries of many concurrent activities.
  return { retry: true, delayInMs: Math.round(clamped / 2 + random() * (clamped / 2)) };
}

/**
 * Whether an error is a transient failure: a 408/5xx answer, a network failure, or the client's
 * own per-request timeout. 429, other 4xx and the caller's abort are not.
 * @param error - what a request attempt threw (an `MdeApiError` or a raw fetch error).
 */
export function isTransientError(error: unknown): boolean {
  if (error instanceof MdeApiError) {
    if (error.statusCode !== undefined) return TRANSIENT_STATUS_CODES.includes(error.statusCode);
    return error.code === NETWORK_ERROR_CODE || error.code === REQUEST_TIMEOUT_CODE;
  }
  // Duck-typed, not instanceof: fetch, timers and DOMException may come from another realm
  // (Node's internals, a test sandbox), where instanceof Error is false.
  if (typeof error !== "object" || error === null) return false;
  const name = (error as { name?: unknown }).name;
  // AbortSignal.timeout() aborts with a TimeoutError; a caller's abort is an AbortError.
  if (name === "TimeoutError") return true;
  if (name === "AbortError") return false;
  // fetch (undici) rejects every network failure with TypeError("fetch failed", { cause }).
  if (name === "TypeError") return true;
  return TRANSIENT_SOCKET_CODES.has(socketCode(error) ?? "");
}

function socketCode(error: object): string | undefined {
  const own = (error as { code?: unknown }).code;
  if (typeof own === "string") return own;
  const cause = (error as { cause?: unknown }).cause;
  const nested = cause && typeof cause === "object" ? (cause as { code?: unknown }).code : undefined;
  return typeof nested === "string" ? nested : undefined;
}

function definedOnly(options: RetryOptions | undefined): RetryOptions {
  return Object.fromEntries(Object.entries(options ?? {}).filter(([, v]) => v !== undefined));
}
