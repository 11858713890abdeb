/**
 * Validates Entra ID access tokens for the collector's API with jose: signature against the tenant's
 * published keys, issuer (v1 and v2 endpoints), audience, expiry and not-before, and the tenant.
 * Access token claims: https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
 * Validating tokens: https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-tokens
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import type { VerifiedCaller } from "./caller";

/** Entra authority hosts and the v1 issuer host of each cloud (sovereign clouds keep their own). */
const V1_ISSUER_HOST: Record<string, string> = {
  "login.microsoftonline.com": "sts.windows.net",
  "login.microsoftonline.us": "sts.windows.net",
  "login.partner.microsoftonline.cn": "sts.chinacloudapi.cn",
};
export const AUTHORITY_HOSTS = Object.keys(V1_ISSUER_HOST);

/** Issuer of the tokens `npm start`, the demo and the tests mint with a local development key. */
export const DEVELOPMENT_ISSUER = "https://localhost/mde-live-response-collector/development/v2.0";
/** The tenant and audience development tokens carry when AUTH_TENANT_ID and AUTH_AUDIENCE are not set. */
export const DEVELOPMENT_TENANT_ID = "00000000-0000-0000-0000-000000000000";
export const DEVELOPMENT_AUDIENCE = "api://mde-live-response-collector";

export interface TokenValidatorOptions {
  tenantId: string;
  /** Accepted `aud` values: the API app registration's client id and/or its application id URI. */
  audiences: string[];
  /** The Entra authority, e.g. `https://login.microsoftonline.com`. */
  authorityHost: string;
  /** Signing keys. @default the tenant's published keys (`{authority}/{tenant}/discovery/v2.0/keys`), cached by jose */
  keys?: JWTVerifyGetKey;
  /** Accepted issuers. @default the tenant's v1 and v2 issuers for the authority's cloud */
  issuers?: string[];
  /** @default 60 (Entra's own guidance tolerates a few minutes of skew; one is enough here) */
  clockToleranceSeconds?: number;
}

export type TokenValidation = { ok: true; caller: VerifiedCaller } | { ok: false; error: "invalid_token"; description: string };

/** The issuers an Entra tenant's v1 and v2 endpoints put in `iss`. */
export function entraIssuers(authorityHost: string, tenantId: string): string[] {
  const host = new URL(authorityHost).host.toLowerCase();
  return [`https://${host}/${tenantId}/v2.0`, `https://${V1_ISSUER_HOST[host] ?? host}/${tenantId}/`];
}

/**
 * Builds a validator; the JWKS is fetched lazily and cached (jose refetches on an unknown `kid`,
 * at most every 30 seconds, so a key rollover is picked up without a restart).
 */
export function createTokenValidator(options: TokenValidatorOptions): (token: string) => Promise<TokenValidation> {
  const authority = options.authorityHost.replace(/\/+$/, "");
  const keys =
    options.keys ?? createRemoteJWKSet(new URL(`${authority}/${options.tenantId}/discovery/v2.0/keys`), { timeoutDuration: 5000 });
  const issuers = options.issuers ?? entraIssuers(authority, options.tenantId);
  return async (token: string): Promise<TokenValidation> => {
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: issuers,
        audience: options.audiences,
        algorithms: ["RS256"],
        clockTolerance: options.clockToleranceSeconds ?? 60,
        requiredClaims: ["exp", "iss", "aud", "oid"],
      });
      if (payload.tid !== undefined && payload.tid !== options.tenantId) return invalid("the token was issued for another tenant");
      return { ok: true, caller: callerOf(payload, options.tenantId) };
    } catch (e) {
      // The keys could not be fetched: not the caller's fault, so not a 401 (the HTTP layer answers 503).
      if (e instanceof joseErrors.JWKSTimeout || !(e instanceof joseErrors.JOSEError))
        throw new Error("the signing keys could not be fetched", { cause: e });
      return invalid(reasonOf(e));
    }
  };
}

/** Maps the claims to the caller; app-only tokens carry `idtyp: app` (or no `scp` and no user name). */
function callerOf(payload: JWTPayload, tenantId: string): VerifiedCaller {
  const claim = (name: string): string | undefined => (typeof payload[name] === "string" ? (payload[name] as string) : undefined);
  const objectId = claim("oid")!;
  const applicationId = claim("azp") ?? claim("appid");
  const userName = claim("upn") ?? claim("preferred_username") ?? claim("unique_name");
  const isApp = claim("idtyp") === "app" || (userName === undefined && claim("scp") === undefined);
  const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === "string").slice(0, 100) : [];
  const kind = payload.iss === DEVELOPMENT_ISSUER ? "development" : isApp ? "application" : "user";
  return {
    kind,
    objectId,
    name: (isApp ? applicationId : userName) ?? objectId,
    ...(applicationId ? { applicationId } : {}),
    tenantId: claim("tid") ?? tenantId,
    roles,
  };
}

/** A reason for the 401 that says what to fix, without echoing the token. */
function reasonOf(e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return "the token has expired";
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.claim === "nbf") return "the token is not valid yet (nbf)";
    if (e.claim === "aud") return "the token was issued for another audience";
    if (e.claim === "iss") return "the token was issued by an untrusted issuer";
    return `the token's ${e.claim} claim is invalid`;
  }
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return "the token's signature is invalid";
  if (e instanceof joseErrors.JWKSNoMatchingKey) return "the token was signed with an unknown key";
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return "the token's signing algorithm is not accepted";
  return "the token is malformed";
}

function invalid(description: string): TokenValidation {
  return { ok: false, error: "invalid_token", description };
}
