/**
 * One JSON request to an API behind an Entra ID token (MDE, Microsoft Graph), as both of the
 * collector's clients send it: a token for the scope, a per-request timeout joined with the caller's
 * abort, the answer read as JSON, a non-2xx turned into the service's error, transient failures
 * retried (shared/mde/retry.ts) and one constant log line per outcome. What differs between the
 * services is passed in ({@link EntraJsonService}); endpoints and host allow-lists stay in each client.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { TokenCredential } from "@azure/identity";
import { CollectorError, MdeApiError, redactText } from "../errors";
import { silentLogger, type Logger } from "../log";
import {
  NETWORK_ERROR_CODE,
  nextRetryDelay,
  REQUEST_TIMEOUT_CODE,
  type RetryDecision,
  type RetryOptions,
  type RetryState,
} from "../mde/retry";

/** Default time one request (answer and body) may take before it is abandoned. */
export const DEFAULT_REQUEST_TIMEOUT_IN_MS = 30_000;

/** What a caller may tune about sending; both clients' options extend it. */
export interface EntraJsonTransportOptions {
  /** The fetch to use (tests pass a scripted one). @default globalThis.fetch, looked up at each call */
  fetch?: typeof fetch;
  /** Where request outcomes are logged (constant messages, no tokens, no SAS). @default silentLogger */
  logger?: Logger;
  /** In-process retry of transient failures; see shared/mde/retry.ts for what is never retried. */
  retry?: RetryOptions;
  /** Waits between retries; must reject or return early when the signal aborts. @default an abortable timer */
  sleep?: (ms: number, abortSignal?: AbortSignal) => Promise<void>;
  /** Source of retry jitter in [0, 1). @default Math.random */
  random?: () => number;
  /** Per-request timeout, combined with the caller's abortSignal. @default 30000 */
  timeoutInMs?: number;
}

/** What makes a service's requests its own. */
export interface EntraJsonService {
  /** Starts every log message and error text: "MDE request failed", "Graph did not answer ...". */
  name: string;
  credential: TokenCredential;
  /** OAuth scope of the token, e.g. `https://graph.microsoft.com/.default`. */
  scope: string;
  /** Headers every request carries besides Authorization and Accept (a User-Agent). */
  headers?: Record<string, string>;
  /** The service's error class, for a request that got no answer (timeout, network failure). */
  errorClass: new (init: ConstructorParameters<typeof MdeApiError>[0]) => MdeApiError;
  /**
   * The service's error for a non-2xx answer: its `{"error":{"code","message"}}` envelope and Retry-After.
   * @param token - the token the request carried, should the mapper remove it from an echoed message
   */
  toAnswerError(status: number, headers: Headers, text: string, token: string): MdeApiError;
  /** Whether a failed attempt is sent again, and after how long. @default nextRetryDelay (shared/mde/retry.ts) */
  retryDelay?(state: RetryState): RetryDecision;
}

export interface EntraJsonRequest {
  method: "GET" | "POST";
  /** Where it goes; never logged, as its query may hold a filter or a skip token. */
  url: string;
  /** What logs and error texts name the request by: never holds a secret. */
  path: string;
  headers?: Record<string, string>;
  body?: string | FormData;
  /** Whether a transient failure may be retried by sending the same request again. */
  idempotent: boolean;
}

/** Sends {@link EntraJsonRequest}s for one service; the clients own one each. */
export class EntraJsonClient {
  private readonly fetchImpl: typeof fetch;
  private readonly logger: Logger;
  private readonly sleep: (ms: number, abortSignal?: AbortSignal) => Promise<void>;
  private readonly retryDelay: (state: RetryState) => RetryDecision;

  constructor(
    private readonly service: EntraJsonService,
    private readonly options: EntraJsonTransportOptions = {},
  ) {
    // Resolved at call time so a fetch replaced after construction (instrumentation) is used.
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.logger = options.logger ?? silentLogger;
    this.sleep = options.sleep ?? ((ms, abortSignal) => delay(ms, undefined, { signal: abortSignal }));
    this.retryDelay = service.retryDelay ?? nextRetryDelay;
  }

  /**
   * Sends a request, retrying what the service's retry policy allows; returns the parsed JSON body.
   * @throws the service's error class for an error answer or no answer; CollectorError `TokenUnavailable`
   *   when the credential fails, `UnexpectedResponse` for a 2xx body that is not JSON; the caller's abort as is.
   */
  async send(request: EntraJsonRequest, abortSignal?: AbortSignal): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      abortSignal?.throwIfAborted();
      try {
        return await this.sendOnce(request, attempt, abortSignal);
      } catch (error) {
        // The caller's abort ends the operation whatever the attempt failed with.
        abortSignal?.throwIfAborted();
        const decision = this.retryDelay({
          attempt,
          error,
          idempotent: request.idempotent,
          options: this.options.retry,
          random: this.options.random,
        });
        if (!decision.retry) throw error;
        this.logger.warn(`${this.service.name} request will be retried`, {
          method: request.method,
          path: request.path,
          attempt,
          delayInMs: decision.delayInMs,
          status: error instanceof MdeApiError ? error.statusCode : undefined,
          code: error instanceof CollectorError ? error.code : undefined,
        });
        try {
          await this.sleep(decision.delayInMs, abortSignal);
        } catch (sleepError) {
          abortSignal?.throwIfAborted();
          throw sleepError;
        }
      }
    }
  }

  private async sendOnce(request: EntraJsonRequest, attempt: number, callerSignal: AbortSignal | undefined): Promise<unknown> {
    const { method, path } = request;
    const name = this.service.name;
    const timeoutInMs = this.options.timeoutInMs ?? DEFAULT_REQUEST_TIMEOUT_IN_MS;
    const token = await this.getToken(callerSignal);
    const timeoutSignal = AbortSignal.timeout(timeoutInMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeoutSignal]) : timeoutSignal;
    const headers = { Authorization: `Bearer ${token}`, Accept: "application/json", ...this.service.headers, ...request.headers };

    const startedAt = Date.now();
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(request.url, { method, headers, body: request.body, signal });
      // Reading the body stays under the same timeout: a stalled body is as bad as no answer.
      text = await response.text();
    } catch (error) {
      if (callerSignal?.aborted) throw error;
      const timedOut = timeoutSignal.aborted;
      const code = timedOut ? REQUEST_TIMEOUT_CODE : NETWORK_ERROR_CODE;
      this.logger.warn(`${name} request got no answer`, { method, path, attempt, durationInMs: Date.now() - startedAt, code });
      // No `cause`: the raw error may carry what the request carried.
      throw new this.service.errorClass({
        code,
        message: timedOut
          ? `${name} did not answer ${method} ${path} within ${timeoutInMs} ms`
          : `${name} request ${method} ${path} failed: ${redactSecrets(describe(error), token)}`,
      });
    }

    const durationInMs = Date.now() - startedAt;
    if (!response.ok) {
      const error = this.service.toAnswerError(response.status, response.headers, text, token);
      this.logger.warn(`${name} request failed`, {
        method,
        path,
        status: response.status,
        attempt,
        durationInMs,
        code: error.code,
        target: error.target,
        retryAfterInMs: error.retryAfterInMs,
      });
      throw error;
    }
    this.logger.info(`${name} request succeeded`, { method, path, status: response.status, attempt, durationInMs });
    try {
      return JSON.parse(text);
    } catch {
      throw new CollectorError(
        "UnexpectedResponse",
        `${name} answered ${method} ${path} with HTTP ${response.status} and a body that is not JSON`,
      );
    }
  }

  private async getToken(abortSignal: AbortSignal | undefined): Promise<string> {
    const { credential, scope } = this.service;
    let token: { token: string } | null;
    try {
      token = await credential.getToken(scope, { abortSignal });
    } catch (error) {
      if (abortSignal?.aborted) throw error;
      // No `cause`: a credential's own error may carry what it was given (a secret, an assertion).
      throw new CollectorError("TokenUnavailable", `No token for ${scope}: ${redactSecrets(describe(error))}`);
    }
    if (!token?.token) throw new CollectorError("TokenUnavailable", `The credential returned no token for ${scope}`);
    return token.token;
  }
}

/** JSON Web Tokens (access tokens, client assertions) wherever they appear, with or without "Bearer". */
const JWT = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

/**
 * Text fit for an error or a log: URL queries and bearer tokens redacted (shared/errors.ts), JWTs and
 * the token the request carried removed.
 */
export function redactSecrets(text: string, token?: string): string {
  const withoutToken = token && token.length >= 8 ? text.split(token).join("<redacted>") : text;
  return redactText(withoutToken).replace(JWT, "<redacted>");
}

/** A failure's message with its cause (undici hides the socket error in `cause`). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}
