/**
 * A small typed client for the one Graph call the poller makes: `GET /v1.0/security/alerts_v2`
 * (https://learn.microsoft.com/graph/api/security-list-alerts_v2: `$filter` on lastUpdateDateTime,
 * `$top`, paging by `@odata.nextLink`; application permission SecurityAlert.Read.All).
 *
 * Requests go out as the MDE client's do (shared/http/entraJsonClient.ts), and so do retries
 * (shared/mde/retry.ts: 408/5xx and network failures back off with jitter, a 503 with Retry-After
 * waits that long). Graph's own throttling answer is added
 * here: a 429 waits its Retry-After (or backs off when there is none), as Graph asks
 * (https://learn.microsoft.com/graph/throttling); a wait longer than the cap ends the run instead,
 * and the cursor (pollCursor.ts) keeps what was not handled for the next one.
 */
import type { TokenCredential } from "@azure/identity";
import { CollectorError, MdeApiError } from "../errors";
import { hostRefusal, isLoopbackHost, type HostAllowList } from "../hostPolicy";
import { EntraJsonClient, redactSecrets, type EntraJsonService, type EntraJsonTransportOptions } from "../http/entraJsonClient";
import { StaticTokenCredential } from "../mde/auth";
import { DEFAULT_RETRY_OPTIONS, nextRetryDelay, type RetryDecision, type RetryState } from "../mde/retry";
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

/**
 * Fetch, logger, sleep, jitter and timeout: {@link EntraJsonTransportOptions}. `retry` covers 5xx and
 * network retries (shared/mde/retry.ts); a 429 uses its `maxRetries` and `retryDelayInMs` with `maxThrottleWaitInMs`.
 */
export interface GraphClientOptions extends EntraJsonTransportOptions {
  /** Hosts the base URL may name (it receives a Graph token). */
  allowedHosts: HostAllowList;
  /** `<Graph host>/.default`. */
  scope: string;
  /** Longest Retry-After of a 429 waited in process; longer ends the run. @default 60000 */
  maxThrottleWaitInMs?: number;
}

const DEFAULT_MAX_THROTTLE_WAIT_IN_MS = 60_000;

/** `GET /v1.0/security/alerts_v2` over fetch with an Entra token for the cloud's Graph. */
export class GraphClient implements GraphAlertsApi {
  private readonly origin: string;
  private readonly http: EntraJsonClient;

  /**
   * @param baseUrl - the Graph service root, e.g. `https://graph.microsoft.com`
   * @throws CollectorError `UntrustedGraphHost` for a base URL the allow-list refuses,
   *   `InvalidCredential` for the development token aimed at a real host
   */
  constructor(baseUrl: string, credential: TokenCredential, options: GraphClientOptions) {
    const url = new URL(baseUrl);
    const refusal = hostRefusal(url, options.allowedHosts);
    if (refusal) throw new CollectorError("UntrustedGraphHost", `The Graph base URL is refused: ${refusal}`);
    if (credential instanceof StaticTokenCredential && !isLoopbackHost(url.hostname))
      throw new CollectorError("InvalidCredential", "A static development token may only be used with a loopback simulator");
    this.origin = url.origin;
    const maxThrottleWaitInMs = options.maxThrottleWaitInMs ?? DEFAULT_MAX_THROTTLE_WAIT_IN_MS;
    const service: EntraJsonService = {
      name: "Graph",
      credential,
      scope: options.scope,
      errorClass: GraphApiError,
      toAnswerError: toGraphApiError,
      retryDelay: (state) => throttleWait(state, maxThrottleWaitInMs) ?? nextRetryDelay(state),
    };
    this.http = new EntraJsonClient(service, options);
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
    // Logged as the collection's path: a nextLink's own spelling and query stay out of the logs.
    const body = await this.http.send({ method: "GET", url, path: ALERTS_V2_PATH, idempotent: true }, abortSignal);
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
}

/**
 * A 429's wait: its Retry-After within the cap, else the doubling backoff when it named none; never past
 * maxRetries. Undefined for any other failure, which retry.ts decides.
 */
function throttleWait(state: RetryState, maxWaitInMs: number): RetryDecision | undefined {
  if (!(state.error instanceof GraphApiError) || state.error.statusCode !== 429) return undefined;
  const maxRetries = state.options?.maxRetries ?? DEFAULT_RETRY_OPTIONS.maxRetries;
  if (state.attempt > maxRetries) return { retry: false };
  const baseDelayInMs = state.options?.retryDelayInMs ?? DEFAULT_RETRY_OPTIONS.retryDelayInMs;
  const wait = state.error.retryAfterInMs ?? baseDelayInMs * 2 ** (state.attempt - 1);
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
    message: redactSecrets(message, token),
    retryAfterInMs: parseRetryAfter(headers.get("retry-after"), Date.now()),
  });
}
