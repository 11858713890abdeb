import type { AccessToken, TokenCredential } from "@azure/identity";
import { CollectorError, MdeApiError } from "../../../../shared/errors";
import { MDE_API_HOSTS } from "../../../../shared/hostPolicy";
import { StaticTokenCredential } from "../../../../shared/mde/auth";
import { MdeClient, type MdeClientOptions } from "../../../../shared/mde/client";
import type { LiveResponseRequest } from "../../../../shared/mde/models";
import {
  SEED_000_RUN_LIVE_RESPONSE_201,
  SEED_000_SHORT_RESPONSE,
  SEED_001_MACHINE_ID,
  SEED_001_REQUEST,
  SEED_001_RESPONSE_200,
  SEED_003_ACTION_ID,
  SEED_003_DOWNLOAD_LINK,
  SEED_003_SIGNATURE,
} from "../../../support/mde/fixtures";
import { capturingLogger, networkError, scriptedFetch, type ScriptedFetch } from "../../../support/mde/scriptedFetch";

const BASE = "https://api.security.microsoft.com";
/** The allow-list of local development: Microsoft's hosts and the loopback simulator. */
const LOCAL_DEVELOPMENT = { hosts: MDE_API_HOSTS, allowLoopback: true };
const TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOi.bearer-secret.signature";
const ACTION_ID = SEED_003_ACTION_ID;

/** The request example of run-live-response (SEED_001_REQUEST in ./fixtures), in the product's model. */
const SEED_001_MODEL_REQUEST: LiveResponseRequest = {
  commands: [
    {
      type: "RunScript",
      params: [
        { key: "ScriptName", value: "minidump.ps1" },
        { key: "Args", value: "OfficeClickToRun" },
      ],
    },
    { type: "GetFile", params: [{ key: "Path", value: "C:\\windows\\TEMP\\OfficeClickToRun.dmp.zip" }] },
  ],
  comment: "Testing Live Response API",
};

function fakeCredential(): TokenCredential & { scopes: string[] } {
  const scopes: string[] = [];
  return {
    scopes,
    async getToken(scope: string | string[]): Promise<AccessToken> {
      scopes.push(String(scope));
      return { token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000, tokenType: "Bearer" };
    },
  };
}

function setup(fake: ScriptedFetch, options: MdeClientOptions = {}, baseUrl = BASE) {
  const logger = capturingLogger();
  const credential = fakeCredential();
  const sleeps: number[] = [];
  const client = new MdeClient(baseUrl, credential, {
    fetch: fake.fetch,
    logger,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...options,
  });
  return { client, logger, credential, sleeps };
}

const envelope = (code: string, message: string, target = "a1b2c3d4-correlation") => ({ error: { code, message, target } });

async function rejection(promise: Promise<unknown>): Promise<MdeApiError> {
  try {
    await promise;
  } catch (e) {
    return e as MdeApiError;
  }
  throw new Error("expected a rejection");
}

describe("MdeClient requests", () => {
  it("POSTs runliveresponse with the exact body casing of run-live-response's example and the required headers", async () => {
    const fake = scriptedFetch({ status: 201, body: SEED_000_RUN_LIVE_RESPONSE_201 });
    const { client } = setup(fake);
    await client.runLiveResponse(SEED_001_MACHINE_ID, SEED_001_MODEL_REQUEST);

    const [request] = fake.requests;
    expect(request.method).toBe("POST");
    expect(request.url).toBe(`${BASE}/api/machines/${SEED_001_MACHINE_ID}/runliveresponse`);
    expect(request.body).toStrictEqual(SEED_001_REQUEST);
    expect(request.headers).toMatchObject({
      authorization: `Bearer ${TOKEN}`,
      accept: "application/json",
      "content-type": "application/json",
    });
    expect(request.headers["user-agent"]).toMatch(/^mde-live-response-collector\/\S+ Node\.js\/v\d+/);
  });

  it("sends only the documented fields, whatever else the request object carries", async () => {
    const fake = scriptedFetch({ status: 201, body: SEED_000_RUN_LIVE_RESPONSE_201 });
    const { client } = setup(fake);
    const sloppy = {
      ...SEED_001_MODEL_REQUEST,
      extra: 1,
      commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\x", note: "y" }], more: 2 }],
    };
    await client.runLiveResponse(SEED_001_MACHINE_ID, sloppy as unknown as LiveResponseRequest);
    expect(fake.requests[0].body).toStrictEqual({
      Commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\x" }] }],
      Comment: "Testing Live Response API",
    });
  });

  it("accepts 201 (the documented status, lastUpdateTimeUtc) and 200 (the example's header, lastUpdateDateTimeUtc)", async () => {
    const fake = scriptedFetch({ status: 201, body: SEED_000_RUN_LIVE_RESPONSE_201 }, { status: 200, body: SEED_001_RESPONSE_200 });
    const { client } = setup(fake);
    const created = await client.runLiveResponse(SEED_001_MACHINE_ID, SEED_001_MODEL_REQUEST);
    const ok = await client.runLiveResponse(SEED_001_MACHINE_ID, SEED_001_MODEL_REQUEST);
    expect([created.id, created.status, created.lastUpdateDateTimeUtc]).toEqual([
      "2e9da30d-27f6-4208-81f2-9cd3d67893ba",
      "InProgress",
      "2018-12-04T12:18:27.1293487Z",
    ]);
    expect([ok.id, ok.status, ok.lastUpdateDateTimeUtc]).toEqual(["{machine_action_id}", "Pending", "2021-02-04T15:36:52.7788848Z"]);
    expect(ok.commands.map((c) => c.type)).toEqual(["RunScript", "GetFile"]);
  });

  it("fills in the machine id when MDE answers the short example without one", async () => {
    const { client } = setup(scriptedFetch({ status: 201, body: SEED_000_SHORT_RESPONSE }));
    const action = await client.runLiveResponse(SEED_001_MACHINE_ID, SEED_001_MODEL_REQUEST);
    expect(action.machineId).toBe(SEED_001_MACHINE_ID);
  });

  it("GETs a machine action without a body or Content-Type", async () => {
    const fake = scriptedFetch({ status: 200, body: SEED_001_RESPONSE_200 });
    const { client } = setup(fake);
    const action = await client.getMachineAction(ACTION_ID);
    expect(fake.requests[0]).toMatchObject({ method: "GET", url: `${BASE}/api/machineactions/${ACTION_ID}`, body: undefined });
    expect(fake.requests[0].headers["content-type"]).toBeUndefined();
    expect(fake.requests[0].headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(action.status).toBe("Pending");
  });

  it("lists machine actions with an encoded $filter and $top and maps value[]", async () => {
    const fake = scriptedFetch({ status: 200, body: { value: [SEED_000_RUN_LIVE_RESPONSE_201, SEED_001_RESPONSE_200] } });
    const { client, logger } = setup(fake);
    const filter = "id in ('a&b','c') and status eq 'Pending'";
    const actions = await client.listMachineActions({ filter, top: 50 });

    const url = fake.requests[0].url;
    expect(url).toBe(`${BASE}/api/machineactions?$filter=id%20in%20('a%26b'%2C'c')%20and%20status%20eq%20'Pending'&$top=50`);
    expect(new URL(url).searchParams.get("$filter")).toBe(filter);
    expect(actions.map((a) => a.status)).toEqual(["InProgress", "Pending"]);
    // Logs carry the path only, never the query.
    expect(logger.entries[0].properties.path).toBe("/api/machineactions");
    expect(JSON.stringify(logger.entries)).not.toContain("$filter");
  });

  it("lists without a query string when no filter or top is given", async () => {
    const fake = scriptedFetch({ status: 200, body: { value: [] } });
    const { client } = setup(fake);
    expect(await client.listMachineActions({})).toEqual([]);
    expect(fake.requests[0].url).toBe(`${BASE}/api/machineactions`);
  });

  it.each([0, 10_001, 1.5])("refuses $top=%s without calling MDE", async (top) => {
    const fake = scriptedFetch();
    const { client } = setup(fake);
    await expect(client.listMachineActions({ top })).rejects.toMatchObject({ code: "InvalidArgument" });
    expect(fake.requests).toHaveLength(0);
  });

  it("rejects a list answer without value[]", async () => {
    const { client } = setup(scriptedFetch({ status: 200, body: { items: [] } }));
    await expect(client.listMachineActions({})).rejects.toMatchObject({ code: "UnexpectedResponse" });
  });

  it("GETs the result download link of a command and returns the value of get-live-response-result's example", async () => {
    const fake = scriptedFetch({ status: 200, body: SEED_003_DOWNLOAD_LINK });
    const { client } = setup(fake);
    const link = await client.getLiveResponseResultDownloadLink(ACTION_ID, 2);
    expect(fake.requests[0]).toMatchObject({
      method: "GET",
      url: `${BASE}/api/machineactions/${ACTION_ID}/GetLiveResponseResultDownloadLink(index=2)`,
    });
    expect(link).toBe(SEED_003_DOWNLOAD_LINK.value);
  });

  it.each([
    ["a number", 42],
    ["not a URL", "investigation-actions-data/x?sig=abc"],
    ["plain http to a real host", `http://x.blob.core.windows.net/c/b?sig=${SEED_003_SIGNATURE}`],
  ])("rejects a download link answer that is %s, without echoing it", async (_, value) => {
    const { client } = setup(scriptedFetch({ status: 200, body: { value } }));
    const error = await rejection(client.getLiveResponseResultDownloadLink(ACTION_ID, 0));
    expect(error).toBeInstanceOf(CollectorError);
    expect(error.code).toBe("UnexpectedResponse");
    expect(error.message).not.toContain("sig=");
  });

  it.each([-1, 0.5])("refuses command index %s without calling MDE", async (index) => {
    const fake = scriptedFetch();
    const { client } = setup(fake);
    await expect(client.getLiveResponseResultDownloadLink(ACTION_ID, index)).rejects.toMatchObject({ code: "InvalidArgument" });
    expect(fake.requests).toHaveLength(0);
  });

  it("POSTs cancel with exactly { Comment }", async () => {
    const fake = scriptedFetch({ status: 200, body: { ...SEED_001_RESPONSE_200, status: "Cancelled" } });
    const { client } = setup(fake);
    const action = await client.cancelMachineAction(ACTION_ID, "Collection deadline reached");
    expect(fake.requests[0]).toMatchObject({ method: "POST", url: `${BASE}/api/machineactions/${ACTION_ID}/cancel` });
    expect(fake.requests[0].body).toStrictEqual({ Comment: "Collection deadline reached" });
    expect(fake.requests[0].headers["content-type"]).toBe("application/json");
    expect(action.status).toBe("Cancelled");
  });

  it("encodes path segments and refuses empty ids", async () => {
    const fake = scriptedFetch({ status: 200, body: SEED_001_RESPONSE_200 });
    const { client } = setup(fake);
    await client.getMachineAction("a/../b?c=d");
    expect(fake.requests[0].url).toBe(`${BASE}/api/machineactions/a%2F..%2Fb%3Fc%3Dd`);
    await expect(client.getMachineAction(" ")).rejects.toMatchObject({ code: "InvalidArgument" });
    await expect(client.runLiveResponse("", SEED_001_MODEL_REQUEST)).rejects.toMatchObject({ code: "InvalidArgument" });
  });

  it("keeps a base URL's path and drops its trailing slash", async () => {
    const fake = scriptedFetch({ status: 200, body: SEED_001_RESPONSE_200 });
    const { client } = setup(fake, { allowedHosts: LOCAL_DEVELOPMENT }, "http://127.0.0.1:7071/mde/");
    await client.getMachineAction(ACTION_ID);
    expect(fake.requests[0].url).toBe(`http://127.0.0.1:7071/mde/api/machineactions/${ACTION_ID}`);
  });

  it("logs each answer as a constant message with method, path, status, attempt and duration", async () => {
    const { client, logger } = setup(scriptedFetch({ status: 200, body: SEED_001_RESPONSE_200 }));
    await client.getMachineAction(ACTION_ID);
    expect(logger.entries).toEqual([
      {
        level: "info",
        message: "MDE request succeeded",
        properties: { method: "GET", path: `/api/machineactions/${ACTION_ID}`, status: 200, attempt: 1, durationInMs: expect.any(Number) },
      },
    ]);
  });
});

describe("MdeClient tokens", () => {
  it.each([
    [BASE, "https://api.securitycenter.microsoft.com/.default"],
    ["https://eu.api.security.microsoft.com", "https://api.securitycenter.microsoft.com/.default"],
    ["https://api-gov.securitycenter.microsoft.us", "https://api-gov.securitycenter.microsoft.us/.default"],
  ])("asks the credential for the scope of %s", async (baseUrl, scope) => {
    const { client, credential } = setup(scriptedFetch({ status: 200, body: SEED_001_RESPONSE_200 }), {}, baseUrl);
    await client.getMachineAction(ACTION_ID);
    expect(credential.scopes).toEqual([scope]);
  });

  it("uses an explicit scope when given", async () => {
    const { client, credential } = setup(scriptedFetch({ status: 200, body: SEED_001_RESPONSE_200 }), { scope: "api://custom/.default" });
    await client.getMachineAction(ACTION_ID);
    expect(credential.scopes).toEqual(["api://custom/.default"]);
  });

  it("reports a credential failure as TokenUnavailable without calling MDE", async () => {
    const fake = scriptedFetch();
    const failing: TokenCredential = {
      async getToken() {
        throw new Error("ManagedIdentityCredential: no identity assigned");
      },
    };
    const client = new MdeClient(BASE, failing, { fetch: fake.fetch });
    await expect(client.getMachineAction(ACTION_ID)).rejects.toMatchObject({ code: "TokenUnavailable" });
    expect(fake.requests).toHaveLength(0);
  });

  it("refuses plain http to a real host and a static development token outside loopback", () => {
    expect(() => new MdeClient("http://api.security.microsoft.com", fakeCredential())).toThrow(/https/);
    expect(() => new MdeClient(BASE, new StaticTokenCredential())).toThrow(expect.objectContaining({ code: "InvalidCredential" }));
    expect(() => new MdeClient("http://localhost:7071", new StaticTokenCredential(), { allowedHosts: LOCAL_DEVELOPMENT })).not.toThrow();
  });
});

describe("MdeClient host allow-list", () => {
  /** Constructs a client and reports the refusal, with whether a token was asked for. */
  function construct(baseUrl: string, options: MdeClientOptions = {}) {
    const credential = fakeCredential();
    try {
      new MdeClient(baseUrl, credential, options);
      return { error: undefined, scopes: credential.scopes };
    } catch (e) {
      return { error: e as CollectorError, scopes: credential.scopes };
    }
  }

  it.each([
    ["a mistyped host", "https://api.securty.microsoft.com"],
    ["a look-alike host", "https://api.security.microsoft.com.attacker.example"],
    ["the instance metadata address", "https://169.254.169.254/metadata"],
    ["an attacker's host", "https://attacker.example"],
    ["plain http to a real host", "http://api.security.microsoft.com"],
    ["loopback outside local development", "http://127.0.0.1:7072"],
    ["https loopback outside local development", "https://localhost:7072"],
    ["user info in the URL", "https://user:pass@api.security.microsoft.com"],
  ])("refuses %s as base URL (UntrustedMdeHost) before any token is requested", (_what, baseUrl) => {
    const { error, scopes } = construct(baseUrl);
    expect(error).toBeInstanceOf(CollectorError);
    expect(error?.code).toBe("UntrustedMdeHost");
    expect(error?.message).not.toContain("pass");
    expect(scopes).toEqual([]);
  });

  it.each([
    "https://api.security.microsoft.com",
    "https://api.securitycenter.microsoft.com",
    "https://uk.api.security.microsoft.com/",
    "https://api-gcc.securitycenter.microsoft.us",
    "https://api-gov.securitycenter.microsoft.us",
  ])("accepts the documented MDE host %s by default", (baseUrl) => expect(construct(baseUrl).error).toBeUndefined());

  it("accepts a host an extended allow-list names, and loopback only when the list allows it", () => {
    expect(
      construct("https://mde-proxy.contoso.example", { allowedHosts: { hosts: ["mde-proxy.contoso.example"], allowLoopback: false } })
        .error,
    ).toBeUndefined();
    expect(
      construct("https://api.security.microsoft.com", { allowedHosts: { hosts: ["mde-proxy.contoso.example"], allowLoopback: false } })
        .error?.code,
    ).toBe("UntrustedMdeHost");
    expect(construct("http://127.0.0.1:7072", { allowedHosts: LOCAL_DEVELOPMENT }).error).toBeUndefined();
  });

  it("keeps the static development token for loopback only, even when the allow-list names another host", () => {
    const allowedHosts = { hosts: [...MDE_API_HOSTS, "mde-proxy.contoso.example"], allowLoopback: true };
    expect(() => new MdeClient("https://mde-proxy.contoso.example", new StaticTokenCredential(), { allowedHosts })).toThrow(
      expect.objectContaining({ code: "InvalidCredential" }),
    );
    expect(() => new MdeClient("https://localhost:7072", new StaticTokenCredential(), { allowedHosts })).not.toThrow();
  });
});

describe("MdeClient errors and retries", () => {
  it("maps MDE's error envelope to MdeApiError with statusCode, code, message and target", async () => {
    const { client, logger } = setup(
      scriptedFetch({ status: 400, body: envelope("InvalidRequestBody", "Commands is required", "corr-123") }),
    );
    const error = await rejection(client.runLiveResponse(SEED_001_MACHINE_ID, SEED_001_MODEL_REQUEST));
    expect(error).toBeInstanceOf(MdeApiError);
    expect([error.statusCode, error.code, error.message, error.target]).toEqual([
      400,
      "InvalidRequestBody",
      "Commands is required",
      "corr-123",
    ]);
    expect(logger.entries[0]).toMatchObject({
      level: "warn",
      message: "MDE request failed",
      properties: { method: "POST", status: 400, attempt: 1, code: "InvalidRequestBody", target: "corr-123" },
    });
  });

  it("surfaces 400 ActiveRequestAlreadyExists (device busy) with its code, once", async () => {
    const fake = scriptedFetch({ status: 400, body: envelope("ActiveRequestAlreadyExists", "Action is already in progress") });
    const { client } = setup(fake);
    await expect(client.runLiveResponse(SEED_001_MACHINE_ID, SEED_001_MODEL_REQUEST)).rejects.toMatchObject({
      statusCode: 400,
      code: "ActiveRequestAlreadyExists",
    });
    expect(fake.requests).toHaveLength(1);
  });

  it("does not retry 429 and surfaces Retry-After seconds as retryAfterInMs", async () => {
    const fake = scriptedFetch({ status: 429, headers: { "Retry-After": "30" }, body: envelope("TooManyRequests", "Too many requests") });
    const { client, sleeps } = setup(fake);
    const error = await rejection(client.getMachineAction(ACTION_ID));
    expect([error.statusCode, error.code, error.retryAfterInMs]).toEqual([429, "TooManyRequests", 30_000]);
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("does not retry 429 and surfaces a Retry-After HTTP-date as retryAfterInMs", async () => {
    const retryAt = new Date(Date.now() + 120_000).toUTCString();
    const fake = scriptedFetch({
      status: 429,
      headers: { "Retry-After": retryAt },
      body: envelope("TooManyRequests", "Too many requests"),
    });
    const { client } = setup(fake);
    const error = await rejection(client.runLiveResponse(SEED_001_MACHINE_ID, SEED_001_MODEL_REQUEST));
    expect(error.retryAfterInMs).toBeGreaterThan(115_000);
    expect(error.retryAfterInMs).toBeLessThanOrEqual(120_000);
    expect(fake.requests).toHaveLength(1);
  });

  it("retries a 500 on GET and returns the later success", async () => {
    const fake = scriptedFetch(
      { status: 500, body: envelope("InternalServerError", "oops") },
      { status: 200, body: SEED_001_RESPONSE_200 },
    );
    const { client, sleeps, logger } = setup(fake);
    const action = await client.getMachineAction(ACTION_ID);
    expect(action.status).toBe("Pending");
    expect(fake.requests).toHaveLength(2);
    expect(sleeps).toEqual([600]); // 800 ms base, random 0.5 → upper-half jitter
    expect(logger.entries.map((e) => e.message)).toEqual(["MDE request failed", "MDE request will be retried", "MDE request succeeded"]);
    expect(logger.entries[2].properties.attempt).toBe(2);
  });

  it("gives up after maxRetries with exponential delays", async () => {
    const fake = scriptedFetch(...Array.from({ length: 4 }, () => ({ status: 503, body: "Service Unavailable" })));
    const { client, sleeps } = setup(fake);
    const error = await rejection(client.getMachineAction(ACTION_ID));
    expect([error.statusCode, error.code]).toEqual([503, "HttpError503"]);
    expect(fake.requests).toHaveLength(4);
    expect(sleeps).toEqual([600, 1200, 2400]);
  });

  it("never retries a 500 on POST runliveresponse: MDE may have accepted the action", async () => {
    const fake = scriptedFetch(
      { status: 500, body: envelope("InternalServerError", "oops") },
      { status: 201, body: SEED_000_RUN_LIVE_RESPONSE_201 },
    );
    const { client, sleeps } = setup(fake);
    await expect(client.runLiveResponse(SEED_001_MACHINE_ID, SEED_001_MODEL_REQUEST)).rejects.toMatchObject({ statusCode: 500 });
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("never retries a network error on POST runliveresponse either", async () => {
    const fake = scriptedFetch({ throws: networkError() }, { status: 201, body: SEED_000_RUN_LIVE_RESPONSE_201 });
    const { client } = setup(fake);
    await expect(client.runLiveResponse(SEED_001_MACHINE_ID, SEED_001_MODEL_REQUEST)).rejects.toMatchObject({ code: "NetworkError" });
    expect(fake.requests).toHaveLength(1);
  });

  it("retries a network error on GET", async () => {
    const fake = scriptedFetch({ throws: networkError("ECONNRESET") }, { status: 200, body: SEED_003_DOWNLOAD_LINK });
    const { client, logger } = setup(fake);
    await expect(client.getLiveResponseResultDownloadLink(ACTION_ID, 0)).resolves.toBe(SEED_003_DOWNLOAD_LINK.value);
    expect(fake.requests).toHaveLength(2);
    expect(logger.entries[0]).toMatchObject({ message: "MDE request got no answer", properties: { code: "NetworkError", attempt: 1 } });
  });

  it("surfaces a persistent network error as MdeApiError NetworkError without a status", async () => {
    const fake = scriptedFetch(...Array.from({ length: 4 }, () => ({ throws: networkError("ECONNREFUSED") })));
    const { client } = setup(fake);
    const error = await rejection(client.getMachineAction(ACTION_ID));
    expect(error).toBeInstanceOf(MdeApiError);
    expect([error.statusCode, error.code]).toEqual([undefined, "NetworkError"]);
    expect(error.message).toContain("ECONNREFUSED");
    expect(fake.requests).toHaveLength(4);
  });

  it("retries cancel on 503 (a repeated cancel is harmless)", async () => {
    const fake = scriptedFetch({ status: 503, body: "" }, { status: 200, body: { ...SEED_001_RESPONSE_200, status: "Cancelled" } });
    const { client } = setup(fake);
    await expect(client.cancelMachineAction(ACTION_ID, "stop")).resolves.toMatchObject({ status: "Cancelled" });
    expect(fake.requests).toHaveLength(2);
  });

  it.each([
    [401, "Unauthorized"],
    [403, "DisallowedOperation"],
    [404, "ResourceNotFound"],
  ])("does not retry %i", async (status, code) => {
    const fake = scriptedFetch({ status, body: envelope(code, "no") }, { status: 200, body: SEED_001_RESPONSE_200 });
    const { client } = setup(fake);
    await expect(client.getMachineAction(ACTION_ID)).rejects.toMatchObject({ statusCode: status, code });
    expect(fake.requests).toHaveLength(1);
  });

  it("maps a non-JSON error body to HttpError<status>", async () => {
    const { client } = setup(scriptedFetch({ status: 500, body: "<html><body>upstream connect error</body></html>" }));
    const error = await rejection(client.runLiveResponse(SEED_001_MACHINE_ID, SEED_001_MODEL_REQUEST));
    expect([error.statusCode, error.code]).toEqual([500, "HttpError500"]);
    expect(error.message).toContain("upstream connect error");
  });

  it("rejects a success whose body is not JSON as UnexpectedResponse, without retrying", async () => {
    const fake = scriptedFetch({ status: 200, body: "<html>login</html>" }, { status: 200, body: SEED_001_RESPONSE_200 });
    const { client } = setup(fake);
    await expect(client.getMachineAction(ACTION_ID)).rejects.toMatchObject({ code: "UnexpectedResponse" });
    expect(fake.requests).toHaveLength(1);
  });

  it("retries a GET abandoned by the per-request timeout", async () => {
    const fake = scriptedFetch({ hang: true }, { status: 200, body: SEED_001_RESPONSE_200 });
    const { client, logger } = setup(fake, { timeoutInMs: 20 });
    await expect(client.getMachineAction(ACTION_ID)).resolves.toMatchObject({ status: "Pending" });
    expect(fake.requests).toHaveLength(2);
    expect(logger.entries[0]).toMatchObject({ message: "MDE request got no answer", properties: { code: "RequestTimeout" } });
  });

  it("surfaces the per-request timeout as RequestTimeout", async () => {
    const { client } = setup(scriptedFetch({ hang: true }), { timeoutInMs: 20, retry: { maxRetries: 0 } });
    await expect(client.getMachineAction(ACTION_ID)).rejects.toMatchObject({ code: "RequestTimeout", statusCode: undefined });
  });
});

describe("MdeClient and the caller's abortSignal", () => {
  it("stops retrying when the caller aborts during the backoff", async () => {
    const controller = new AbortController();
    const fake = scriptedFetch({ status: 500, body: "" }, { status: 200, body: SEED_001_RESPONSE_200 });
    const { client } = setup(fake, {
      sleep: async () => {
        controller.abort();
      },
    });
    await expect(client.getMachineAction(ACTION_ID, { abortSignal: controller.signal })).rejects.toMatchObject({ name: "AbortError" });
    expect(fake.requests).toHaveLength(1);
  });

  it("does not retry a request the caller aborted in flight", async () => {
    const controller = new AbortController();
    const fake = scriptedFetch({ hang: true }, { status: 200, body: SEED_001_RESPONSE_200 });
    const { client } = setup(fake);
    const pending = client.getMachineAction(ACTION_ID, { abortSignal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    expect(fake.requests).toHaveLength(1);
  });

  it("sends nothing when the signal is already aborted", async () => {
    const fake = scriptedFetch();
    const { client } = setup(fake);
    await expect(client.getMachineAction(ACTION_ID, { abortSignal: AbortSignal.abort() })).rejects.toMatchObject({ name: "AbortError" });
    expect(fake.requests).toHaveLength(0);
  });

  it("the default sleep is cut short by the caller's abort", async () => {
    const controller = new AbortController();
    const fake = scriptedFetch({ status: 503, body: "" });
    const client = new MdeClient(BASE, fakeCredential(), { fetch: fake.fetch, retry: { retryDelayInMs: 60_000 } });
    const pending = client.getMachineAction(ACTION_ID, { abortSignal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("MdeClient never leaks the bearer token or a SAS signature", () => {
  it("keeps both out of errors and logs across successes, failures and retries", async () => {
    const echoed = `Token Bearer ${TOKEN} rejected for ${SEED_003_DOWNLOAD_LINK.value}`;
    const fake = scriptedFetch(
      { status: 200, body: SEED_003_DOWNLOAD_LINK },
      { status: 500, body: envelope("InternalServerError", echoed) },
      { status: 200, body: SEED_003_DOWNLOAD_LINK },
      { status: 403, body: envelope("Forbidden", echoed) },
      { status: 502, body: `<html>${echoed}</html>` },
      { throws: new TypeError("fetch failed", { cause: new Error(echoed) }) },
    );
    const { client, logger } = setup(fake, { retry: { maxRetries: 1 } });

    await client.getLiveResponseResultDownloadLink(ACTION_ID, 0);
    await client.getLiveResponseResultDownloadLink(ACTION_ID, 1);
    const errors = [await rejection(client.getMachineAction(ACTION_ID)), await rejection(client.getMachineAction(ACTION_ID))];

    const logged = JSON.stringify(logger.entries);
    for (const text of [logged, ...errors.map((e) => `${e.message} ${String(e)}`)]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(SEED_003_SIGNATURE);
      expect(text).not.toContain("sig=");
    }
    expect(errors.map((e) => e.code)).toEqual(["Forbidden", "NetworkError"]);
    expect(fake.remaining()).toBe(0);
  });

  it("keeps a JWT and the token it sent out of a failure's message, and keeps no raw cause", async () => {
    const assertion = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhcHAifQ.c2lnbmF0dXJl";
    const fake = scriptedFetch({ throws: new TypeError("fetch failed", { cause: new Error(`proxy refused ${assertion} and ${TOKEN}`) }) });
    const { client } = setup(fake, { retry: { maxRetries: 0 } });
    const error = await rejection(client.getMachineAction(ACTION_ID));
    expect(error.code).toBe("NetworkError");
    expect(error.message).toBe(
      `MDE request GET /api/machineactions/${ACTION_ID} failed: fetch failed: proxy refused <redacted> and <redacted>`,
    );
    expect(error.cause).toBeUndefined();
  });

  it("keeps no raw cause on a credential failure: it may carry what the credential was given", async () => {
    const failing: TokenCredential = {
      async getToken() {
        throw new Error("ClientAssertionCredential: assertion eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhcHAifQ.c2lnbmF0dXJl rejected");
      },
    };
    const error = await rejection(new MdeClient(BASE, failing, { fetch: scriptedFetch().fetch }).getMachineAction(ACTION_ID));
    expect(error.code).toBe("TokenUnavailable");
    expect(error.message).toBe(
      "No token for https://api.securitycenter.microsoft.com/.default: ClientAssertionCredential: assertion <redacted> rejected",
    );
    expect(error.cause).toBeUndefined();
  });
});
