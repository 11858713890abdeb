/**
 * App Service / Functions built-in authentication ("Easy Auth") validates the token in front of the
 * app and passes the principal as the `X-MS-CLIENT-PRINCIPAL` header (base64 JSON of the claims).
 * The header is trusted only when AUTH_MODE says the platform's authentication is on: otherwise any
 * caller could write it.
 * https://learn.microsoft.com/azure/app-service/configure-authentication-user-identities#access-user-claims-in-app-code
 */
import type { VerifiedCaller } from "./caller";

const OID = ["http://schemas.microsoft.com/identity/claims/objectidentifier", "oid"];
const TID = ["http://schemas.microsoft.com/identity/claims/tenantid", "tid"];
const NAME = ["preferred_username", "upn", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn", "name"];
const APP_ID = ["azp", "appid"];
/** The header is a few KB at most; anything larger is not the platform's. */
const MAX_HEADER_LENGTH = 16_384;

/**
 * The caller the platform authenticated, or a reason the header cannot be used.
 * @param header - the raw `x-ms-client-principal` value
 * @param tenantId - the only tenant accepted
 */
export function callerFromPlatformHeader(
  header: string | null,
  tenantId: string,
): { ok: true; caller: VerifiedCaller } | { ok: false; description: string } {
  if (!header) return { ok: false, description: "no authenticated principal (is App Service authentication on and requiring sign-in?)" };
  if (header.length > MAX_HEADER_LENGTH) return { ok: false, description: "the principal header is too large" };
  let principal: { claims?: { typ?: unknown; val?: unknown }[]; role_typ?: unknown };
  try {
    principal = JSON.parse(Buffer.from(header, "base64").toString("utf8"));
  } catch {
    return { ok: false, description: "the principal header is malformed" };
  }
  const claims = Array.isArray(principal.claims)
    ? principal.claims.filter((c) => typeof c?.typ === "string" && typeof c?.val === "string")
    : [];
  const first = (types: string[]) => claims.find((c) => types.includes(c.typ as string))?.val as string | undefined;
  const roleType = typeof principal.role_typ === "string" ? principal.role_typ : "roles";
  const roles = claims
    .filter((c) => c.typ === roleType || c.typ === "roles")
    .map((c) => c.val as string)
    .slice(0, 100);
  const objectId = first(OID);
  if (!objectId) return { ok: false, description: "the principal has no object id" };
  const tid = first(TID);
  if (tid !== undefined && tid !== tenantId) return { ok: false, description: "the principal belongs to another tenant" };
  const userName = first(NAME);
  const applicationId = first(APP_ID);
  const isApp = userName === undefined;
  return {
    ok: true,
    caller: {
      kind: isApp ? "application" : "user",
      objectId,
      name: (isApp ? applicationId : userName) ?? objectId,
      ...(applicationId ? { applicationId } : {}),
      tenantId: tid ?? tenantId,
      roles: [...new Set(roles)],
    },
  };
}
