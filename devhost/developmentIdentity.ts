/**
 * The local development identity: an RSA key pair that signs bearer tokens shaped like Entra ID
 * access tokens, so `npm start`, the demo and the tests run the app's real validation path
 * (signature, issuer, audience, expiry, roles) with AUTH_MODE=development. The app only ever sees
 * the public key (AUTH_DEVELOPMENT_JWKS); the private key stays with whoever mints tokens.
 * For `npm start` the pair is kept in `.devhost/development-identity.json` (git-ignored, mode 0600)
 * so `npm run token` can mint tokens for the running host.
 */
import { createHash, randomUUID } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from "jose";
import { DEFAULT_ROLES } from "./developmentRoles";
import { DEVELOPMENT_AUDIENCE, DEVELOPMENT_ISSUER, DEVELOPMENT_TENANT_ID } from "../shared/auth/entraToken";

export interface TokenRequest {
  /** App roles the token carries. @default all three built-in roles */
  roles?: string[];
  /** `user` (a UPN) or `application` (client credentials). @default "user" */
  kind?: "user" | "application";
  /** UPN of a user, or the client id of an application. @default "developer@localhost" */
  name?: string;
  /** @default a fixed id per name, so the same developer is the same caller */
  objectId?: string;
  audience?: string;
  tenantId?: string;
  /** @default 3600 */
  expiresInSeconds?: number;
}

export interface DevelopmentIdentity {
  /** The public key set, as the AUTH_DEVELOPMENT_JWKS setting wants it. */
  jwks: string;
  mint(request?: TokenRequest): Promise<string>;
}

const KID_PREFIX = "devhost-";

/** A fresh identity in memory (tests). */
export async function createDevelopmentIdentity(): Promise<DevelopmentIdentity> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  return identityOf(privateKey, await exportJWK(publicKey), `${KID_PREFIX}${randomUUID().slice(0, 8)}`);
}

/** The identity kept under `<root>/.devhost/`, created on first use. */
export async function loadOrCreateDevelopmentIdentity(root: string): Promise<DevelopmentIdentity> {
  const file = path.join(root, ".devhost", "development-identity.json");
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, "utf8")) as { kid: string; privateJwk: JWK; publicJwk: JWK };
    return identityOf((await importJWK(stored.privateJwk, "RS256")) as CryptoKey, stored.publicJwk, stored.kid);
  }
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const kid = `${KID_PREFIX}${randomUUID().slice(0, 8)}`;
  const publicJwk = await exportJWK(publicKey);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ kid, privateJwk: await exportJWK(privateKey), publicJwk }, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
  return identityOf(privateKey, publicJwk, kid);
}

function identityOf(privateKey: CryptoKey, publicJwk: JWK, kid: string): DevelopmentIdentity {
  const jwks = JSON.stringify({ keys: [{ ...publicJwk, kid, alg: "RS256", use: "sig" }] });
  return {
    jwks,
    async mint(request: TokenRequest = {}): Promise<string> {
      const kind = request.kind ?? "user";
      const name = request.name ?? (kind === "user" ? "developer@localhost" : "00000000-0000-0000-0000-00000000c0de");
      const objectId = request.objectId ?? stableObjectId(name);
      const claims = kind === "user" ? { preferred_username: name, scp: "user_impersonation" } : { idtyp: "app", azp: name };
      return new SignJWT({
        ...claims,
        oid: objectId,
        tid: request.tenantId ?? DEVELOPMENT_TENANT_ID,
        roles: request.roles ?? [...DEFAULT_ROLES],
      })
        .setProtectedHeader({ alg: "RS256", kid, typ: "JWT" })
        .setIssuer(DEVELOPMENT_ISSUER)
        .setAudience(request.audience ?? DEVELOPMENT_AUDIENCE)
        .setSubject(objectId)
        .setIssuedAt()
        .setNotBefore("0s")
        .setExpirationTime(`${request.expiresInSeconds ?? 3600}s`)
        .sign(privateKey);
    },
  };
}

/** The same name always gets the same object id, so per-caller limits and records line up across tokens. */
function stableObjectId(name: string): string {
  const hex = createHash("sha256").update(name, "utf8").digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
