import { createDevelopmentIdentity, DEFAULT_ROLES } from "../../../devhost";
import { createAuthenticator } from "../../../shared/auth/authenticator";
import { DEVELOPMENT_AUDIENCE, DEVELOPMENT_TENANT_ID } from "../../../shared/auth/entraToken";
import { Roles } from "../../../shared/auth/roles";

describe("development roles", () => {
  it("a development token carries every built-in role unless asked otherwise, Collector.Alert (POST /api/alerts) included", async () => {
    expect([...DEFAULT_ROLES].sort()).toEqual(Object.values(Roles).sort());
    const identity = await createDevelopmentIdentity();
    const authenticate = createAuthenticator({
      mode: "development",
      tenantId: DEVELOPMENT_TENANT_ID,
      audiences: [DEVELOPMENT_AUDIENCE],
      authorityHost: "https://login.microsoftonline.com",
      developmentKeys: JSON.parse(identity.jwks),
    });
    const token = await identity.mint();
    const result = await authenticate({ get: (name: string) => (name === "authorization" ? `Bearer ${token}` : null) });
    expect(result).toMatchObject({ ok: true, caller: { roles: expect.arrayContaining(["Collector.Alert"]) } });
  });
});
