/**
 * A small typed client for the one Graph call the poller makes: `GET /v1.0/security/alerts_v2`
 * (https://learn.microsoft.com/graph/api/security-list-alerts_v2: `$filter` on lastUpdateDateTime,
 * `$top`, paging by `@odata.nextLink`; application permission SecurityAlert.Read.All).
 *
 * Retries reuse the MDE client's strategy (shared/mde/retry.ts: 408/5xx and network failures back
 * off with jitter, a 503 with Retry-After waits that long). Graph's own throttling answer is added
 * here: a 429 waits its Retry-After (or backs off when there is none), as Graph asks
 * (https://learn.microsoft.com/graph/throttling); a wait longer than the cap ends the run instead,
 * and the cursor (pollCursor.ts) keeps what was not handled for the next one.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { TokenCredential } from "@azure/identity";
import { CollectorError, MdeApiError, redactText } from "../errors";
import { hostRefusal, isLoopbackHost, type HostAllowList } from "../hostPolicy";
import { silentLogger, type Logger } from "../log";
import { StaticTokenCredential } from "../mde/auth";
import { NETWORK_ERROR_CODE, nextRetryDelay, REQUEST_TIMEOUT_CODE, type RetryOptions } from "../mde/retry";
import { parseRetryAfter } from "../mde/transformations";
import { isRecord } from "./normalize";

/** The collection the poller reads, below the service root. */
export const ALERTS_V2_PATH = "/v1.0/security/alerts_v2";

/**
 * An error Graph answered. Graph's error envelope is MDE's (`{"error":{"code","message"}}`) and the
 * retry strategy keys on status and Retry-After alone, so it shares MdeApiError's shape and class.
 */
export class GraphApiError extends MdeApiError {
  constructor(init: ConstructorParameters<typeof MdeApiError>[0]) {
    super(init);
    this.name = "GraphApiError";
  }
}

/** One page of alerts as Graph sent them, and the link to the next one. */
export interface AlertsPage {
  alerts: Record<string, unknown>[];
  nextLink?: string;
  /** `@odata.count`: how many alerts the whole filtered list held when this page was read (first pages ask for it). */
  count?: number;
}

/** What the poller needs from Graph (tests pass a fake). */
export interface GraphAlertsApi {
  /** The first page of `alerts_v2` for a `$filter`, `$top` alerts per page, with `$count=true`. */
  firstAlertsPage(filter: string, top: number, abortSignal?: AbortSignal): Promise<AlertsPage>;
  /** The page an `@odata.nextLink` names; refused unless it is the same Graph collection on the same host. */
  nextAlertsPage(nextLink: string, abortSignal?: AbortSignal): Promise<AlertsPage>;
}

export interface GraphClientOptions {
  /** Hosts the base URL may name (it receives a Graph token). */
  allowedHosts: HostAllowList;
  /** `<Graph host>/.default`. */
  scope: string;
  fetch?: typeof fetch;
  logger?: Logger;
  /** 5xx and network retries (shared/mde/retry.ts); 429 uses `maxRetries` and `maxThrottleWaitInMs`. */
  retry?: RetryOptions;
  /** Longest Retry-After of a 429 waited in process; longer ends the run. @default 60000 */
  maxThrottleWaitInMs?: number;
  sleep?: (ms: number, abortSignal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** @default 30000 */
  timeoutInMs?: number;
}

const DEFAULT_MAX_THROTTLE_WAIT_IN_MS = 60_000;

/** `GET /v1.0/security/alerts_v2` over fetch with an Entra token for the cloud's Graph. */
export class GraphClient implements GraphAlertsApi {
  private readonly origin: string;
  private readonly fetchImpl: typeof fetch;
  private readonly logger: Logger;
  private readonly sleep: (ms: number, abortSignal?: AbortSignal) => Promise<void>;

  /**
   * @param baseUrl - the Graph service root, e.g. `https://graph.microsoft.com`
   * @throws CollectorError `UntrustedGraphHost` for a base URL the allow-list refuses,
   *   `InvalidCredential` for the development token aimed at a real host
   */
  constructor(
    baseUrl: string,
    private readonly credential: TokenCredential,
    private readonly options: GraphClientOptions,
  ) {
    const url = new URL(baseUrl);
    const refusal = hostRefusal(url, options.allowedHosts);
    if (refusal) throw new CollectorError("UntrustedGraphHost", `The Graph base URL is refused: ${refusal}`);
    if (credential instanceof StaticTokenCredential && !isLoopbackHost(url.hostname))
      throw new CollectorError("InvalidCredential", "A static development token may only be used with a loopback simulator");
    this.origin = url.origin;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.logger = options.logger ?? silentLogger;
    this.sleep = options.sleep ?? ((ms, abortSignal) => delay(ms, undefined, { signal: abortSignal }));
  }

  async firstAlertsPage(filter: string, top: number, abortSignal?: AbortSignal): Promise<AlertsPage> {
    if (!Number.isInteger(top) || top < 1) throw new CollectorError("InvalidArgument", "top must be a positive integer");
    const query = `$filter=${encodeURIComponent(filter)}&$top=${top}&$count=true`;
    return this.getPage(`${this.origin}${ALERTS_V2_PATH}?${query}`, abortSignal);
  }

  async nextAlertsPage(nextLink: string, abortSignal?: AbortSignal): Promise<AlertsPage> {
    // A nextLink comes from an answer: it gets the token only if it is the same collection on the same host.
    let url: URL;
    try {
      url = new URL(nextLink);
    } catch {
      throw new CollectorError("UnexpectedResponse", "Graph answered an @odata.nextLink that is not a URL");
    }
    if (url.origin !== this.origin || url.username || url.password || url.pathname.toLowerCase() !== ALERTS_V2_PATH.toLowerCase())
      throw new CollectorError(
        "UntrustedGraphHost",
        "Graph's @odata.nextLink leaves the alerts_v2 collection of the configured Graph host",
      );
    return this.getPage(url.href, abortSignal);
  }

  private async getPage(url: string, abortSignal?: AbortSignal): Promise<AlertsPage> {
    const body = await this.send(url, abortSignal);
    const value = isRecord(body) ? body.value : undefined;
    if (!Array.isArray(value)) throw new CollectorError("UnexpectedResponse", "Graph answered alerts_v2 without a value array");
    const next = isRecord(body) ? body["@odata.nextLink"] : undefined;
    const count = isRecord(body) ? body["@odata.count"] : undefined;
    return {
      alerts: value.filter(isRecord),
      ...(typeof next === "string" && next !== "" ? { nextLink: next } : {}),
      ...(typeof count === "number" && Number.isSafeInteger(count) && count >= 0 ? { count } : {}),
    };
  }

  /** One GET with the retries described in the module comment. */
  private async send(url: string, abortSignal?: AbortSignal): Promise<unknown> {
    const maxThrottleWait = this.options.maxThrottleWaitInMs ?? DEFAULT_MAX_THROTTLE_WAIT_IN_MS;
    for (let attempt = 1; ; attempt++) {
      abortSignal?.throwIfAborted();
      try {
        return await this.sendOnce(url, attempt, abortSignal);
      } catch (error) {
        abortSignal?.throwIfAborted();
        const decision =
          error instanceof GraphApiError && error.statusCode === 429
            ? throttleWait(error, attempt, this.options.retry?.maxRetries ?? 3, maxThrottleWait, this.options.retry?.retryDelayInMs ?? 800)
            : nextRetryDelay({ attempt, error, idempotent: true, options: this.options.retry, random: this.options.random });
        if (!decision.retry) throw error;
        this.logger.warn("Graph request will be retried", {
          path: ALERTS_V2_PATH,
          attempt,
          delayInMs: decision.delayInMs,
          status: error instanceof MdeApiError ? error.statusCode : undefined,
        });
        await this.sleep(decision.delayInMs, abortSignal);
      }
    }
  }

  private async sendOnce(url: string, attempt: number, abortSignal?: AbortSignal): Promise<unknown> {
    const token = await this.token(abortSignal);
    const timeoutInMs = this.options.timeoutInMs ?? 30_000;
    const timeout = AbortSignal.timeout(timeoutInMs);
    const signal = abortSignal ? AbortSignal.any([abortSignal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(url, {
        method: "GET",
        headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
        signal,
      });
      text = await response.text();
    } catch (error) {
      if (abortSignal?.aborted) throw error;
      const code = timeout.aborted ? REQUEST_TIMEOUT_CODE : NETWORK_ERROR_CODE;
      this.logger.warn("Graph request got no answer", { path: ALERTS_V2_PATH, attempt, code });
      throw new GraphApiError({ code, message: `Graph request GET ${ALERTS_V2_PATH} failed: ${scrub(String(error), token)}` });
    }
    if (!response.ok) {
      const error = toGraphApiError(response.status, response.headers, text, token);
      this.logger.warn("Graph request failed", { path: ALERTS_V2_PATH, attempt, status: response.status, code: error.code });
      throw error;
    }
    this.logger.info("Graph request succeeded", { path: ALERTS_V2_PATH, attempt, status: response.status });
    try {
      return JSON.parse(text);
    } catch {
      throw new CollectorError("UnexpectedResponse", `Graph answered GET ${ALERTS_V2_PATH} with a body that is not JSON`);
    }
  }

  private async token(abortSignal?: AbortSignal): Promise<string> {
    let token: { token: string } | null;
    try {
      token = await this.credential.getToken(this.options.scope, { abortSignal });
    } catch (error) {
      if (abortSignal?.aborted) throw error;
      // No `cause`: a credential's own error may carry what it was given (a secret, an assertion).
      throw new CollectorError("TokenUnavailable", `No token for ${this.options.scope}: ${scrub(String(error))}`);
    }
    if (!token?.token) throw new CollectorError("TokenUnavailable", `The credential returned no token for ${this.options.scope}`);
    return token.token;
  }
}

/** A 429's wait: its Retry-After within the cap, else the doubling backoff when it named none; never past maxRetries. */
function throttleWait(
  error: GraphApiError,
  attempt: number,
  maxRetries: number,
  maxWaitInMs: number,
  baseDelayInMs: number,
): { retry: true; delayInMs: number } | { retry: false } {
  if (attempt > maxRetries) return { retry: false };
  const wait = error.retryAfterInMs ?? baseDelayInMs * 2 ** (attempt - 1);
  return wait <= maxWaitInMs ? { retry: true, delayInMs: wait } : { retry: false };
}

/**
 * Graph's error answer as a {@link GraphApiError}: the envelope's code and message (redacted: no token,
 * even one the answer echoes), Retry-After in ms.
 */
export function toGraphApiError(
  status: number,
  headers: { get(name: string): string | null },
  text: string,
  token?: string,
): GraphApiError {
  let code = `HttpError${status}`;
  let message = `Graph answered HTTP ${status}`;
  try {
    const body = JSON.parse(text) as unknown;
    const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
    if (typeof error?.code === "string" && error.code !== "") code = error.code.slice(0, 100);
    if (typeof error?.message === "string" && error.message !== "") message = error.message.slice(0, 500);
  } catch {
    // Not the envelope (a gateway's page): the status says enough.
  }
  return new GraphApiError({
    statusCode: status,
    code,
    message: scrub(message, token),
    retryAfterInMs: parseRetryAfter(headers.get("retry-after"), Date.now()),
  });
}

/** JSON Web Tokens (access tokens, client assertions) wherever they appear, with or without "Bearer". */
const JWT = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

/** Text for an error: URL queries and bearer tokens redacted (shared/errors.ts), JWTs and the token sent removed. */
function scrub(text: string, token?: string): string {
  const withoutToken = token && token.length >= 8 ? text.split(token).join("<redacted>") : text;
  return redactText(withoutToken).replace(JWT, "<redacted>");
}
