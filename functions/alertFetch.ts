import type { AlertDropReason } from "../shared/alerts/claim";
import { parseMdeAlert } from "../shared/alerts/mde";
import type { NormalizedAlert } from "../shared/alerts/normalize";
import { CollectorError, MdeApiError } from "../shared/errors";
import type { MdeApi } from "../shared/mde/api";
import { NETWORK_ERROR_CODE, REQUEST_TIMEOUT_CODE, TRANSIENT_STATUS_CODES } from "../shared/mde/retry";
import { describeFailure } from "../shared/publicMessage";

/** Bounds of one event's alert fetch: the trigger answers Event Grid for each event on its own. */
export interface AlertFetchOptions {
  /**
   * Time one event may spend fetching its alert, retries and waits included. Event Grid waits 30
   * seconds for an answer before it counts a delivery as failed and redelivers
   * (https://learn.microsoft.com/azure/event-grid/delivery-and-retry).
   * @default 20000
   */
  budgetInMs?: number;
  /** Requests at most (the MDE client's own retries of a 5xx count as one). @default 4 */
  maxAttempts?: number;
  /** Wait before the second attempt when MDE names none (no Retry-After); doubles each time. @default 1000 */
  retryDelayInMs?: number;
  /** @default a timer */
  sleep?: (ms: number) => Promise<void>;
  /** Monotonic milliseconds, for the budget. @default performance.now */
  clock?: () => number;
}

export const DEFAULT_ALERT_FETCH: Readonly<Required<Pick<AlertFetchOptions, "budgetInMs" | "maxAttempts" | "retryDelayInMs">>> = {
  budgetInMs: 20_000,
  maxAttempts: 4,
  retryDelayInMs: 1_000,
};

/** The alert as MDE answered it, or why the event is dropped (never thrown: one event never fails its batch). */
export type AlertFetchResult =
  | { ok: true; alert: NormalizedAlert; attempts: number }
  | { ok: false; reason: AlertDropReason; detail: string; attempts: number; level: "warn" | "error" };

/**
 * `GET /api/alerts/{id}?$expand=evidence` for one event. MDE is the only source the collector acts
 * on (shared/alerts/claim.ts). What may heal is retried here, on this event alone and within
 * {@link AlertFetchOptions.budgetInMs}: 429 after its Retry-After, 5xx, network failures and timeouts
 * after a doubling wait. What will not heal ends at once: 404 or 400 (no such alert), 401 or 403
 * (the app lacks Alert.Read.All: a configuration problem, logged as an error).
 */
export async function fetchAlertFromMde(mde: MdeApi, alertId: string, options: AlertFetchOptions = {}): Promise<AlertFetchResult> {
  const { budgetInMs, maxAttempts, retryDelayInMs } = { ...DEFAULT_ALERT_FETCH, ...definedOnly(options) };
  const clock = options.clock ?? (() => performance.now());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const startedAt = clock();
  for (let attempt = 1; ; attempt++) {
    const remaining = budgetInMs - (clock() - startedAt);
    let body: Record<string, unknown>;
    try {
      body = await mde.getAlert(alertId, { abortSignal: AbortSignal.timeout(Math.max(1, Math.round(remaining))) });
    } catch (e) {
      const next = afterFailure(e);
      if ("final" in next) return { ok: false, attempts: attempt, ...next.final };
      const delayInMs = next.retryAfterInMs ?? retryDelayInMs * 2 ** (attempt - 1);
      const spent = clock() - startedAt;
      if (attempt >= maxAttempts || spent + delayInMs >= budgetInMs) {
        const why =
          attempt >= maxAttempts ? `${attempt} attempts` : `the next wait (${delayInMs} ms) would pass the ${budgetInMs} ms budget`;
        return {
          ok: false,
          attempts: attempt,
          level: "warn",
          reason: "SourceUnavailable",
          detail: `MDE did not return the alert after ${why}: ${describeFailure(e)}`,
        };
      }
      await sleep(delayInMs);
      continue;
    }
    return parseAnswer(body, alertId, attempt);
  }
}

/** A 401/403 on an alert read is configuration, not a transient fault: say what to grant. */
const MISSING_PERMISSION = "grant the app the WindowsDefenderATP application permission Alert.Read.All";

type Final = { reason: AlertDropReason; detail: string; level: "warn" | "error" };

/** What a failed attempt means: the end (with why), or another attempt (after MDE's Retry-After, if it gave one). */
function afterFailure(e: unknown): { final: Final } | { retryAfterInMs?: number } {
  if (e instanceof MdeApiError && e.statusCode !== undefined) {
    const status = e.statusCode;
    if (status === 404 || status === 400)
      return { final: { reason: "AlertNotFound", level: "warn", detail: `MDE has no such alert: ${describeFailure(e)}` } };
    if (status === 401 || status === 403) {
      return {
        final: {
          reason: "AccessDenied",
          level: "error",
          detail: `MDE refused to return the alert; ${MISSING_PERMISSION}: ${describeFailure(e)}`,
        },
      };
    }
    if (status === 429) return { retryAfterInMs: e.retryAfterInMs };
    if (TRANSIENT_STATUS_CODES.includes(status) || status >= 500) return { retryAfterInMs: e.retryAfterInMs };
    return { final: { reason: "SourceUnavailable", level: "warn", detail: `MDE refused to return the alert: ${describeFailure(e)}` } };
  }
  if (e instanceof MdeApiError && (e.code === NETWORK_ERROR_CODE || e.code === REQUEST_TIMEOUT_CODE)) return {};
  // A token that could not be had (the identity endpoint hiccuped) may come on the next attempt.
  if (e instanceof CollectorError && e.code === "TokenUnavailable") return {};
  // The budget's own timeout aborted the request: nothing is left to wait with.
  const name = (e as { name?: unknown } | null)?.name;
  const detail =
    name === "TimeoutError" || name === "AbortError"
      ? "MDE did not answer within the fetch budget"
      : `the alert could not be read: ${describeFailure(e)}`;
  return { final: { reason: "SourceUnavailable", level: "warn", detail } };
}

function parseAnswer(body: Record<string, unknown>, alertId: string, attempts: number): AlertFetchResult {
  const parsed = parseMdeAlert(body);
  if (!parsed.ok)
    return { ok: false, attempts, level: "warn", reason: "UnexpectedAlert", detail: `MDE's answer is not an alert: ${parsed.reason}` };
  if (parsed.alert.id.toLowerCase() !== alertId.toLowerCase()) {
    return {
      ok: false,
      attempts,
      level: "warn",
      reason: "UnexpectedAlert",
      detail: "MDE answered an alert with another id than the one asked for",
    };
  }
  return { ok: true, alert: parsed.alert, attempts };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
