/**
 * The request core both API clients share: what a service passes in (name, headers, error class,
 * answer mapping, retry policy) is what its requests, errors and log lines carry.
 */
import type { AccessToken, TokenCredential } from "@azure/identity";
import { MdeApiError } from "../../../../shared/errors";
import { EntraJsonClient, redactSecrets, type EntraJsonService } from "../../../../shared/http/entraJsonClient";
import type { RetryState } from "../../../../shared/mde/retry";
import { capturingLogger, networkError, scriptedFetch, type Step } from "../../../support/mde/scriptedFetch";

const TOKEN = "opaque-token-0123456789";
const credential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }),
};

class ExampleApiError extends MdeApiError {
  constructor(init: ConstructorParameters<typeof MdeApiError>[0]) {
    super(init);
    this.name = "ExampleApiError";
  }
}

function setup(steps: Step[], service: Partial<EntraJsonService> = {}) {
  const fake = scriptedFetch(...steps);
  const logger = capturingLogger();
  const states: RetryState[] = [];
  const client = new EntraJsonClient(
    {
      name: "Example",
      credential,
      scope: "https://example.invalid/.default",
      headers: { "User-Agent": "tests/1" },
      errorClass: ExampleApiError,
      toAnswerError: (status, _headers, text) => new ExampleApiError({ statusCode: status, code: `Answer${status}`, message: text }),
      retryDelay: (state) => {
        states.push(state);
        return state.attempt === 1 ? { retry: true, delayInMs: 5 } : { retry: false };
      },
      ...service,
    },
    { fetch: fake.fetch, logger, sleep: async () => {} },
  );
  return { client, fake, logger, states };
}

describe("EntraJsonClient", () => {
  it("sends the token, Accept, the service's and the request's headers, and returns the JSON", async () => {
    const { client, fake } = setup([{ status: 200, body: { ok: true } }]);
    const body = await client.send({
      method: "POST",
      url: "https://example.invalid/items?$top=1",
      path: "/items",
      headers: { "Content-Type": "application/json" },
      body: "{}",
      idempotent: false,
    });
    expect(body).toEqual({ ok: true });
    expect(fake.requests[0]).toMatchObject({
      url: "https://example.invalid/items?$top=1",
      method: "POST",
      headers: {
        authorization: `Bearer ${TOKEN}`,
        accept: "application/json",
        "user-agent": "tests/1",
        "content-type": "application/json",
      },
    });
  });

  it("asks the service's retry policy, with the request's idempotence, and logs under the service's name", async () => {
    const { client, logger, states } = setup([{ status: 429, body: "slow down" }, { throws: networkError() }]);
    const error = await client
      .send({ method: "GET", url: "https://example.invalid/x", path: "/x", idempotent: false })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExampleApiError);
    expect(error).toMatchObject({ code: "NetworkError", message: "Example request GET /x failed: fetch failed: read ECONNRESET" });
    expect(states.map((s) => [s.attempt, s.idempotent])).toEqual([
      [1, false],
      [2, false],
    ]);
    expect(logger.entries.map((e) => e.message)).toEqual([
      "Example request failed",
      "Example request will be retried",
      "Example request got no answer",
    ]);
  });

  it("maps an error answer with the service's mapper and does not retry by default what retry.ts does not", async () => {
    const { client, fake } = setup(
      [
        { status: 400, body: "bad" },
        { status: 200, body: {} },
      ],
      { retryDelay: undefined },
    );
    await expect(client.send({ method: "GET", url: "https://example.invalid/x", path: "/x", idempotent: true })).rejects.toMatchObject({
      name: "ExampleApiError",
      code: "Answer400",
    });
    expect(fake.requests).toHaveLength(1);
  });
});

describe("redactSecrets", () => {
  it("removes the token sent, JWTs, bearer tokens and URL queries", () => {
    const text = `t=${TOKEN} jwt=eyJhbGciOi.eyJzdWIiOi.c2ln Bearer abc.def https://h.example/p?sig=s3cr3t`;
    expect(redactSecrets(text, TOKEN)).toBe("t=<redacted> jwt=<redacted> Bearer <redacted> https://h.example/p?<redacted>");
  });
});
