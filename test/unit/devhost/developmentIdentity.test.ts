import { mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createDevelopmentIdentity, loadOrCreateDevelopmentIdentity } from "../../../devhost";
import { createAuthenticator } from "../../../shared/auth/authenticator";
import { DEVELOPMENT_AUDIENCE, DEVELOPMENT_TENANT_ID } from "../../../shared/auth/entraToken";

const headers = (token: string) => ({ get: (name: string) => (name === "authorization" ? `Bearer ${token}` : null) });
const authenticatorFor = (jwks: string) =>
  createAuthenticator({
    mode: "development",
    tenantId: DEVELOPMENT_TENANT_ID,
    audiences: [DEVELOPMENT_AUDIENCE],
    authorityHost: "https://login.microsoftonline.com",
    developmentKeys: JSON.parse(jwks),
  });

describe("development identity", () => {
  it("mints tokens the app's validation accepts, with the roles asked for", async () => {
    const identity = await createDevelopmentIdentity();
    const r = await authenticatorFor(identity.jwks)(headers(await identity.mint({ roles: ["Collector.Read"], name: "soc@contoso.test" })));
    expect(r).toMatchObject({ ok: true, caller: { kind: "development", name: "soc@contoso.test", roles: ["Collector.Read"] } });
  });

  it("its public key set holds no private key material", async () => {
    const { keys } = JSON.parse((await createDevelopmentIdentity()).jwks) as { keys: Record<string, unknown>[] };
    expect(keys).toHaveLength(1);
    for (const privatePart of ["d", "p", "q", "dp", "dq", "qi"]) expect(keys[0]).not.toHaveProperty(privatePart);
  });

  it("another identity's tokens are refused", async () => {
    const [a, b] = await Promise.all([createDevelopmentIdentity(), createDevelopmentIdentity()]);
    expect(await authenticatorFor(a.jwks)(headers(await b.mint()))).toMatchObject({ ok: false, status: 401 });
  });

  it("is kept on disk with owner-only permissions and reloaded unchanged", async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "devid-"));
    try {
      const first = await loadOrCreateDevelopmentIdentity(root);
      const file = path.join(root, ".devhost", "development-identity.json");
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const again = await loadOrCreateDevelopmentIdentity(root);
      expect(again.jwks).toBe(first.jwks);
      expect(await authenticatorFor(first.jwks)(headers(await again.mint()))).toMatchObject({ ok: true });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
