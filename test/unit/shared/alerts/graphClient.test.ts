/**
 * The Graph alerts_v2 client: which `@odata.nextLink` gets the token, how 429 and 5xx are retried, and
 * what its errors may say. The error envelope is Graph's (https://learn.microsoft.com/graph/errors);
 * throttling with Retry-After: https://learn.microsoft.com/graph/throttling.
 */
import type { AccessToken, TokenCredential } from "@azure/identity";
import { ALERTS_V2_PATH, GraphApiError, GraphClient, type GraphClientOptions } from "../../../../shared/alerts/graphClient";
import { GRAPH_HOSTS } from "../../../../shared/alerts/graphSettings";
import { StaticTokenCredential } from "../../../../shared/mde/auth";
import { capturingLogger } from "../../../support/mde/scriptedFetch";

const TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20ifQ.c2lnbmF0dXJl";
const credential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }),
};
const BASE = "https://graph.microsoft.com";
const page = (value: unknown[], extra: Record<string, unknown> = {}) =>
  new Response(JSON.stringify({ "@odata.context": `${BASE}/v1.0/$metadata#security/alerts_v2`, value, ...extra }), { status: 200 });
const graphError = (status: number, headers: Record<string, string> = {}, message = "Something went wrong.") =>
  new Response(JSON.stringify({ error: { code: status === 429 ? "TooManyRequests" : "ServiceUnavailable", message } }), {
    status,
    headers,
  });

/** A client over a scripted fetch: each call takes the next answer (or throws it), and every request is recorded. */
function clientWith(answers: (Response | Error)[], options: Partial<GraphClientOptions> = {}) {
  const requests: { url: string; authorization: string | null }[] = [];
  const sleeps: number[] = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    requests.push({ url: String(input), authorization: new Headers(init?.headers).get("authorization") });
    const next = answers.shift();
    if (!next) throw new Error("no more answers scripted");
    if (next instanceof Error) throw next;
    return next;
  };
  const client = new GraphClient(BASE, credential, {
    allowedHosts: { hosts: GRAPH_HOSTS, allowLoopback: false },
    scope: `${BASE}/.default`,
    fetch: fetchImpl,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...options,
  });
  return { client, requests, sleeps };
}

describe("GraphClient: the first page", () => {
  it("asks alerts_v2 with the window's $filter, $top and $count, and returns the alerts, nextLink and count", async () => {
    const next = `${BASE}${ALERTS_V2_PATH}?$skiptoken=abc`;
    const { client, requests } = clientWith([page([{ id: "a1" }, "not an alert"], { "@odata.nextLink": next, "@odata.count": 7 })]);
    const answer = await client.firstAlertsPage("lastUpdateDateTime ge 2026-03-02T08:00:00.000Z", 50);
    expect(answer).toEqual({ alerts: [{ id: "a1" }], nextLink: next, count: 7 });
    const url = new URL(requests[0]!.url);
    expect(url.origin + url.pathname).toBe(`${BASE}${ALERTS_V2_PATH}`);
    expect(url.searchParams.get("$filter")).toBe("lastUpdateDateTime ge 2026-03-02T08:00:00.000Z");
    expect(url.searchParams.get("$top")).toBe("50");
    expect(url.searchParams.get("$count")).toBe("true");
    expect(requests[0]!.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("refuses an answer without a value array, and a $top that is not a positive integer", async () => {
    await expect(clientWith([new Response("{}", { status: 200 })]).client.firstAlertsPage("x", 10)).rejects.toMatchObject({
      code: "UnexpectedResponse",
    });
    await expect(clientWith([]).client.firstAlertsPage("x", 0)).rejects.toMatchObject({ code: "InvalidArgument" });
  });
});

describe("GraphClient: @odata.nextLink gets the token only on the same collection of the same host", () => {
  const refused: [string, string][] = [
    ["another host", "https://graph.evil.example/v1.0/security/alerts_v2?$skiptoken=1"],
    ["a look-alike host", "https://graph.microsoft.com.evil.example/v1.0/security/alerts_v2?$skiptoken=1"],
    ["another Graph path", `${BASE}/v1.0/users?$skiptoken=1`],
    ["a path that climbs out", `${BASE}/v1.0/security/alerts_v2/../../me?$skiptoken=1`],
    ["beta", `${BASE}/beta/security/alerts_v2?$skiptoken=1`],
    ["http:", "http://graph.microsoft.com/v1.0/security/alerts_v2?$skiptoken=1"],
    ["another port", "https://graph.microsoft.com:8443/v1.0/security/alerts_v2?$skiptoken=1"],
    ["userinfo", "https://user:pass@graph.microsoft.com/v1.0/security/alerts_v2?$skiptoken=1"],
    ["userinfo hiding another host", "https://graph.microsoft.com@graph.evil.example/v1.0/security/alerts_v2"],
    ["not a URL", "/v1.0/security/alerts_v2?$skiptoken=1"],
  ];
  it.each(refused)("refuses %s, without a request and without echoing the link", async (_name, link) => {
    const { client, requests } = clientWith([page([])]);
    const error = await client.nextAlertsPage(link).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: expect.stringMatching(/^(UntrustedGraphHost|UnexpectedResponse)$/) });
    expect(String((error as Error).message)).not.toContain("evil");
    expect(requests).toEqual([]);
  });

  it("follows a link on the same collection (any case of the path), query and all", async () => {
    const link = `${BASE}/v1.0/security/Alerts_V2?$filter=x&$top=2&$skiptoken=b2Zmc2V0OjI`;
    const { client, requests } = clientWith([page([{ id: "a3" }])]);
    expect(await client.nextAlertsPage(link)).toEqual({ alerts: [{ id: "a3" }] });
    expect(requests.map((r) => r.url)).toEqual([link]);
  });
});

describe("GraphClient: throttling and failures", () => {
  it("waits a 429's Retry-After, then reads the page", async () => {
    const { client, sleeps, requests } = clientWith([graphError(429, { "Retry-After": "7" }), page([{ id: "a1" }])]);
    expect((await client.firstAlertsPage("x", 10)).alerts).toEqual([{ id: "a1" }]);
    expect(sleeps).toEqual([7000]);
    expect(requests).toHaveLength(2);
  });

  it("does not wait a Retry-After past the cap: the run ends with the 429", async () => {
    const { client, sleeps, requests } = clientWith([graphError(429, { "Retry-After": "61" })], { maxThrottleWaitInMs: 60_000 });
    await expect(client.firstAlertsPage("x", 10)).rejects.toMatchObject({ name: "GraphApiError", statusCode: 429 });
    expect(sleeps).toEqual([]);
    expect(requests).toHaveLength(1);
  });

  it("backs off on a 429 without Retry-After, and gives up after maxRetries", async () => {
    const { client, sleeps, requests } = clientWith([graphError(429), graphError(429), graphError(429)], {
      retry: { maxRetries: 2, retryDelayInMs: 100 },
    });
    await expect(client.firstAlertsPage("x", 10)).rejects.toBeInstanceOf(GraphApiError);
    expect(sleeps).toEqual([100, 200]);
    expect(requests).toHaveLength(3);
  });

  it("retries a 5xx and a network failure a bounded number of times", async () => {
    const { client, requests, sleeps } = clientWith(
      [graphError(503), new TypeError("fetch failed"), graphError(500), graphError(502), page([])],
      { retry: { maxRetries: 3, retryDelayInMs: 10, maxRetryDelayInMs: 100 } },
    );
    await expect(client.firstAlertsPage("x", 10)).rejects.toMatchObject({ statusCode: 502 });
    expect(requests).toHaveLength(4);
    expect(sleeps).toHaveLength(3);
  });

  it("does not retry a 400 or a 403", async () => {
    for (const status of [400, 403]) {
      const { client, requests } = clientWith([graphError(status), page([])]);
      await expect(client.firstAlertsPage("x", 10)).rejects.toMatchObject({ statusCode: status });
      expect(requests).toHaveLength(1);
    }
  });
});

describe("GraphClient: what it logs and what its errors say, in the MDE client's words", () => {
  it("logs each attempt as a constant message with method, the collection's path (never a nextLink's query), status and attempt", async () => {
    const logger = capturingLogger();
    const link = `${BASE}${ALERTS_V2_PATH}?$skiptoken=c2VjcmV0`;
    const { client } = clientWith([graphError(503), page([])], { logger, retry: { retryDelayInMs: 10 } });
    await client.nextAlertsPage(link);
    const path = ALERTS_V2_PATH;
    expect(logger.entries).toEqual([
      {
        level: "warn",
        message: "Graph request failed",
        properties: expect.objectContaining({ method: "GET", path, status: 503, attempt: 1, code: "ServiceUnavailable" }),
      },
      {
        level: "warn",
        message: "Graph request will be retried",
        properties: { method: "GET", path, attempt: 1, delayInMs: 8, status: 503, code: "ServiceUnavailable" },
      },
      {
        level: "info",
        message: "Graph request succeeded",
        properties: { method: "GET", path, status: 200, attempt: 2, durationInMs: expect.any(Number) },
      },
    ]);
    expect(JSON.stringify(logger.entries)).not.toContain("skiptoken");
  });

  it("says how long it waited when Graph does not answer in time", async () => {
    const logger = capturingLogger();
    const hanging: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason), { once: true }));
    const { client } = clientWith([], { fetch: hanging, logger, timeoutInMs: 20, retry: { maxRetries: 0 } });
    const error = (await client.firstAlertsPage("x", 10).catch((e: unknown) => e)) as GraphApiError;
    expect(error).toBeInstanceOf(GraphApiError);
    expect([error.code, error.statusCode, error.message]).toEqual([
      "RequestTimeout",
      undefined,
      `Graph did not answer GET ${ALERTS_V2_PATH} within 20 ms`,
    ]);
    expect(logger.entries[0]).toMatchObject({
      message: "Graph request got no answer",
      properties: { method: "GET", code: "RequestTimeout" },
    });
  });

  it("names the status of a success whose body is not JSON, without retrying it", async () => {
    const { client, requests } = clientWith([new Response("<html>sign in</html>", { status: 200 }), page([])]);
    await expect(client.firstAlertsPage("x", 10)).rejects.toMatchObject({
      code: "UnexpectedResponse",
      message: `Graph answered GET ${ALERTS_V2_PATH} with HTTP 200 and a body that is not JSON`,
    });
    expect(requests).toHaveLength(1);
  });
});

describe("GraphClient: no token or secret in its errors", () => {
  it("removes the token an error answer echoes, bearer or bare", async () => {
    const { client } = clientWith([graphError(401, {}, `Invalid token ${TOKEN}; header was Bearer ${TOKEN}`)]);
    const error = (await client.firstAlertsPage("x", 10).catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain(TOKEN);
    expect(error.message).not.toContain("eyJ");
    expect(JSON.stringify(error)).not.toContain(TOKEN);
  });

  it("removes it from a network failure, and keeps no raw cause", async () => {
    const { client } = clientWith(
      [1, 2, 3, 4].map(() => new TypeError(`connect failed for Authorization: ${TOKEN}`)),
      {
        retry: { maxRetries: 3, retryDelayInMs: 1 },
      },
    );
    const error = (await client.firstAlertsPage("x", 10).catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain(TOKEN);
    expect(error.cause).toBeUndefined();
  });

  it("a credential failure names the scope, not what the credential was given", async () => {
    const failing: TokenCredential = {
      getToken: async () => {
        throw new Error(`AADSTS7000215: Invalid client secret provided: s3cr3t~value https://login.example/t?client_secret=s3cr3t~value`);
      },
    };
    const client = new GraphClient(BASE, failing, {
      allowedHosts: { hosts: GRAPH_HOSTS, allowLoopback: false },
      scope: `${BASE}/.default`,
    });
    const error = (await client.firstAlertsPage("x", 10).catch((e: unknown) => e)) as Error & { code?: string };
    expect(error.code).toBe("TokenUnavailable");
    expect(error.message).toContain(`${BASE}/.default`);
    expect(error.message).not.toContain("client_secret=s3cr3t");
    expect(error.cause).toBeUndefined();
  });
});

describe("GraphClient: the base URL", () => {
  it("refuses a host that is not Microsoft Graph, and the development token off loopback", () => {
    expect(
      () =>
        new GraphClient("https://graph.evil.example", credential, {
          allowedHosts: { hosts: GRAPH_HOSTS, allowLoopback: false },
          scope: "s",
        }),
    ).toThrow(expect.objectContaining({ code: "UntrustedGraphHost" }));
    expect(
      () => new GraphClient(BASE, new StaticTokenCredential(), { allowedHosts: { hosts: GRAPH_HOSTS, allowLoopback: false }, scope: "s" }),
    ).toThrow(expect.objectContaining({ code: "InvalidCredential" }));
  });
});
