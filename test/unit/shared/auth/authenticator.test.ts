import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import { createAuthenticator, type AuthSettings } from "../../../../shared/auth/authenticator";
import { DEVELOPMENT_ISSUER, entraIssuers } from "../../../../shared/auth/entraToken";

const TENANT = "11111111-2222-3333-4444-555555555555";
const AUDIENCE = "api://mde-live-response-collector";
const OID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
let key: KeyPair;
let otherKey: KeyPair;
let publicJwk: JWK;

beforeAll(async () => {
  key = await generateKeyPair("RS256");
  otherKey = await generateKeyPair("RS256");
  publicJwk = { ...(await exportJWK(key.publicKey)), kid: "dev-1", alg: "RS256", use: "sig" };
});

const settings = (): AuthSettings => ({
  mode: "development",
  tenantId: TENANT,
  audiences: [AUDIENCE],
  authorityHost: "https://login.microsoftonline.com",
  developmentKeys: { keys: [publicJwk] },
});

async function token(
  claims: Record<string, unknown> = {},
  options: { signWith?: KeyPair; issuer?: string; audience?: string; exp?: number | string; nbf?: number; alg?: string } = {},
) {
  let jwt = new SignJWT({
    oid: OID,
    tid: TENANT,
    roles: ["Collector.Run"],
    preferred_username: "analyst@contoso.com",
    scp: "user_impersonation",
    ...claims,
  })
    .setProtectedHeader({ alg: options.alg ?? "RS256", kid: "dev-1" })
    .setIssuer(options.issuer ?? DEVELOPMENT_ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? "10m");
  if (options.nbf !== undefined) jwt = jwt.setNotBefore(options.nbf);
  return jwt.sign((options.signWith ?? key).privateKey);
}

const headers = (values: Record<string, string>) => ({ get: (name: string) => values[name.toLowerCase()] ?? null });

describe("bearer token authentication (development key, the same path as Entra)", () => {
  it("accepts a valid token and reports the verified caller with its roles", async () => {
    const auth = createAuthenticator(settings());
    const r = await auth(headers({ authorization: `Bearer ${await token()}` }));
    expect(r).toEqual({
      ok: true,
      caller: { kind: "development", objectId: OID, name: "analyst@contoso.com", tenantId: TENANT, roles: ["Collector.Run"] },
    });
  });

  it.each([
    ["no Authorization header", {}, /send an Entra ID access token/],
    ["a Basic header", { authorization: "Basic dXNlcjpwYXNz" }, /must be 'Bearer <JWT>'/],
    ["a non-JWT bearer", { authorization: "Bearer not-a-jwt" }, /must be 'Bearer <JWT>'/],
  ])("answers 401 for %s", async (_name, h, reason) => {
    const r = await createAuthenticator(settings())(headers(h as Record<string, string>));
    expect(r).toMatchObject({ ok: false, status: 401 });
    expect(r.ok ? "" : r.description).toMatch(reason);
  });

  it.each([
    ["signed by another key", () => token({}, { signWith: otherKey }), /signature is invalid/],
    ["expired", () => token({}, { exp: Math.floor(Date.now() / 1000) - 3600 }), /expired/],
    ["not valid yet", () => token({}, { nbf: Math.floor(Date.now() / 1000) + 3600 }), /not valid yet/],
    ["for another audience", () => token({}, { audience: "api://something-else" }), /another audience/],
    ["from another issuer", () => token({}, { issuer: "https://evil.example/v2.0" }), /untrusted issuer/],
    ["for another tenant", () => token({ tid: "99999999-2222-3333-4444-555555555555" }), /another tenant/],
    ["without an object id", () => token({ oid: undefined }), /oid/],
    [
      "signed with HS256",
      async () => {
        const secret = new TextEncoder().encode("a-shared-secret-of-at-least-32-bytes!!");
        return new SignJWT({ oid: OID, tid: TENANT })
          .setProtectedHeader({ alg: "HS256", kid: "dev-1" })
          .setIssuer(DEVELOPMENT_ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime("10m")
          .sign(secret);
      },
      /algorithm|malformed|signature|unknown key/,
    ],
  ])("refuses a token %s with 401 and a reason", async (_name, make, reason) => {
    const r = await createAuthenticator(settings())(headers({ authorization: `Bearer ${await make()}` }));
    expect(r).toMatchObject({ ok: false, status: 401 });
    expect(r.ok ? "" : r.description).toMatch(reason);
  });

  it("refuses an unsigned (alg none) token", async () => {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const unsigned = `${enc({ alg: "none" })}.${enc({ oid: OID, tid: TENANT, iss: DEVELOPMENT_ISSUER, aud: AUDIENCE, exp: 9999999999 })}.x`;
    const r = await createAuthenticator(settings())(headers({ authorization: `Bearer ${unsigned}` }));
    expect(r).toMatchObject({ ok: false, status: 401 });
  });

  it("names an application caller by its client id", async () => {
    const r = await createAuthenticator(settings())(
      headers({
        authorization: `Bearer ${await token({ preferred_username: undefined, scp: undefined, idtyp: "app", azp: "cccccccc-0000-0000-0000-000000000001" })}`,
      }),
    );
    expect(r).toMatchObject({
      ok: true,
      caller: { name: "cccccccc-0000-0000-0000-000000000001", applicationId: "cccccccc-0000-0000-0000-000000000001", objectId: OID },
    });
  });

  it("in entra mode answers 503 (not 401) when the tenant's keys cannot be fetched", async () => {
    const auth = createAuthenticator({ ...settings(), mode: "entra", authorityHost: "http://127.0.0.1:9" });
    const r = await auth(
      headers({ authorization: `Bearer ${await token({}, { issuer: entraIssuers("https://login.microsoftonline.com", TENANT)[0] })}` }),
    );
    expect(r).toMatchObject({ ok: false, status: 503 });
  });
});

describe("platform (App Service authentication) principal", () => {
  const principal = (claims: { typ: string; val: string }[]) =>
    Buffer.from(JSON.stringify({ auth_typ: "aad", claims, name_typ: "name", role_typ: "roles" })).toString("base64");
  const auth = () => createAuthenticator({ ...settings(), mode: "appServiceAuthentication" });

  it("trusts the principal header only in that mode, and reads object id, name and roles", async () => {
    const header = principal([
      { typ: "http://schemas.microsoft.com/identity/claims/objectidentifier", val: OID },
      { typ: "http://schemas.microsoft.com/identity/claims/tenantid", val: TENANT },
      { typ: "preferred_username", val: "analyst@contoso.com" },
      { typ: "roles", val: "Collector.Read" },
    ]);
    expect(await auth()(headers({ "x-ms-client-principal": header }))).toEqual({
      ok: true,
      caller: { kind: "user", objectId: OID, name: "analyst@contoso.com", tenantId: TENANT, roles: ["Collector.Read"] },
    });
    // In the other modes the header is ignored: without a bearer token the caller is anonymous.
    expect(await createAuthenticator(settings())(headers({ "x-ms-client-principal": header }))).toMatchObject({ ok: false, status: 401 });
  });

  it.each([
    ["missing", undefined],
    ["not base64 JSON", "%%%"],
    ["without an object id", principal([{ typ: "roles", val: "Collector.Run" }])],
    [
      "from another tenant",
      principal([
        { typ: "oid", val: OID },
        { typ: "tid", val: "99999999-2222-3333-4444-555555555555" },
      ]),
    ],
  ])("answers 401 when the principal is %s", async (_name, value) => {
    expect(await auth()(headers(value === undefined ? {} : { "x-ms-client-principal": value }))).toMatchObject({ ok: false, status: 401 });
  });
});
