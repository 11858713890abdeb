/**
 * One entry point for "who is calling": a bearer token validated in the app (Entra, or the local
 * development key), or the platform's principal header when its authentication is on. Roles are
 * checked by the caller of {@link Authenticator} per endpoint.
 */
import { createLocalJWKSet, type JSONWebKeySet } from "jose";
import type { VerifiedCaller } from "./caller";
import { createTokenValidator, DEVELOPMENT_ISSUER } from "./entraToken";
import { callerFromPlatformHeader } from "./platformPrincipal";

/**
 * `entra`: validate the bearer token in the app (the default in Azure).
 * `appServiceAuthentication`: the platform validated it; trust its principal header.
 * `development`: validate bearer tokens signed by a local development key (npm start, demo, tests).
 */
export type AuthMode = "entra" | "appServiceAuthentication" | "development";

export interface AuthSettings {
  mode: AuthMode;
  tenantId: string;
  audiences: string[];
  authorityHost: string;
  /** development mode: the public keys tokens are checked against. */
  developmentKeys?: JSONWebKeySet;
}

export type Authentication =
  | { ok: true; caller: VerifiedCaller }
  /** 401: no or bad credentials; `description` says which. 503: the signing keys could not be fetched. */
  | { ok: false; status: 401 | 503; description: string };

export type Authenticator = (headers: { get(name: string): string | null }) => Promise<Authentication>;

/** A bearer token is at most a few KB; a longer header is refused before it is parsed. */
const MAX_AUTHORIZATION_LENGTH = 16_384;

export function createAuthenticator(settings: AuthSettings): Authenticator {
  if (settings.mode === "appServiceAuthentication") {
    return async (headers) => {
      const r = callerFromPlatformHeader(headers.get("x-ms-client-principal"), settings.tenantId);
      return r.ok ? r : { ok: false, status: 401, description: r.description };
    };
  }
  const validate = createTokenValidator({
    tenantId: settings.tenantId,
    audiences: settings.audiences,
    authorityHost: settings.authorityHost,
    ...(settings.mode === "development"
      ? { keys: createLocalJWKSet(settings.developmentKeys ?? { keys: [] }), issuers: [DEVELOPMENT_ISSUER] }
      : {}),
  });
  return async (headers) => {
    const authorization = headers.get("authorization");
    if (!authorization) return { ok: false, status: 401, description: "send an Entra ID access token as 'Authorization: Bearer <token>'" };
    if (authorization.length > MAX_AUTHORIZATION_LENGTH)
      return { ok: false, status: 401, description: "the Authorization header is too large" };
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(authorization.trim());
    if (!match) return { ok: false, status: 401, description: "the Authorization header must be 'Bearer <JWT>'" };
    try {
      const r = await validate(match[1]);
      return r.ok ? r : { ok: false, status: 401, description: r.description };
    } catch {
      return { ok: false, status: 503, description: "the token's signing keys could not be fetched from Entra ID; try again" };
    }
  };
}
