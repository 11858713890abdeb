import type { AccessToken, TokenCredential } from "@azure/identity";
import { MdeApiError } from "../../../../shared/errors";
import { MdeClient } from "../../../../shared/mde/client";
import { SEED_001_RESPONSE_200, SEED_003_ACTION_ID } from "../../../support/mde/fixtures";
import { scriptedFetch, type ScriptedFetch } from "../../../support/mde/scriptedFetch";

const BASE = "https://api.security.microsoft.com";
const credential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: "t.o.k", expiresOnTimestamp: Date.now() + 3_600_000, tokenType: "Bearer" }),
};
const client = (fake: ScriptedFetch) => new MdeClient(BASE, credential, { fetch: fake.fetch, sleep: async () => {}, random: () => 0.5 });

describe("MdeClient.getMachineActionAsReturned", () => {
  it("returns GET /api/machineactions/{id} as MDE sent it, with the fields the mapped action drops", async () => {
    const raw = {
      ...SEED_001_RESPONSE_200,
      requestSource: "PublicApi",
      externalId: "ext-1",
      troubleshootInfo: "trace",
      title: "Live response",
      scope: "Full",
    };
    const fake = scriptedFetch({ status: 200, body: raw });
    expect(await client(fake).getMachineActionAsReturned(SEED_003_ACTION_ID)).toEqual(raw);
    expect(fake.requests[0]).toMatchObject({ method: "GET", url: `${BASE}/api/machineactions/${SEED_003_ACTION_ID}` });
  });

  it("surfaces 429 as MdeApiError with its Retry-After (the manifest writer records it as unavailable)", async () => {
    const answer = { status: 429, body: { error: { code: "TooManyRequests", message: "slow down" } }, headers: { "retry-after": "7" } };
    const fake = scriptedFetch(answer, answer, answer, answer, answer, answer);
    const error = await client(fake)
      .getMachineActionAsReturned(SEED_003_ACTION_ID)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MdeApiError);
    expect(error).toMatchObject({ statusCode: 429 });
  });

  it("refuses a body that is not an action object", async () => {
    const fake = scriptedFetch({ status: 200, body: [1, 2] });
    await expect(client(fake).getMachineActionAsReturned(SEED_003_ACTION_ID)).rejects.toMatchObject({ code: "UnexpectedResponse" });
  });
});
