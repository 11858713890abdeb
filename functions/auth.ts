/**
 * Who may call an HTTP endpoint: the caller authenticated (shared/auth/authenticator.ts), then one
 * of their app roles granting the endpoint's permission. Answers 401 (RFC 6750), 403 or 503 with
 * the error envelope, saying what is missing.
 * Bearer token errors: https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { createAuthenticator, type Authenticator, type AuthSettings } from "../shared/auth/authenticator";
import type { VerifiedCaller } from "../shared/auth/caller";
import { grantsOf, Roles, type Permission, type RoleDefinition } from "../shared/auth/roles";
import { OBJECT_ID_PATTERN } from "../shared/cancelRequest";
import { errorResponse, instanceIdOf } from "./http";

/** What every HTTP trigger is given to check its callers. */
export interface EndpointAuth {
  authenticate: Authenticator;
  /** Role definitions (built-in roles and AUTH_ROLE_SCOPES). */
  roles: readonly RoleDefinition[];
}

/** The endpoint auth of the app's settings. */
export function endpointAuth(settings: AuthSettings & { roles: readonly RoleDefinition[] }): EndpointAuth {
  return { authenticate: createAuthenticator(settings), roles: settings.roles };
}

export type Authorization =
  /** `grants`: the caller's role definitions that grant the permission (at least one). */
  { ok: true; caller: VerifiedCaller; grants: RoleDefinition[] } | { ok: false; response: HttpResponseInit };

/** Seconds a caller waits before retrying when the signing keys could not be fetched. */
const KEYS_RETRY_AFTER_SECONDS = 10;

/**
 * Authenticates the request and checks that one of the caller's roles grants `permission`.
 * Scopes of a `run` grant are the caller's business (shared/auth/roles.ts runAllowed).
 */
export async function authorize(request: HttpRequest, auth: EndpointAuth, permission: Permission): Promise<Authorization> {
  const authentication = await auth.authenticate(request.headers);
  if (!authentication.ok) {
    if (authentication.status === 503) {
      return {
        ok: false,
        response: errorResponse(
          503,
          "AuthenticationUnavailable",
          `The caller could not be authenticated: ${authentication.description}.`,
          undefined,
          {
            "Retry-After": String(KEYS_RETRY_AFTER_SECONDS),
          },
        ),
      };
    }
    return { ok: false, response: unauthorized(authentication.description, !request.headers.get("authorization")) };
  }
  const { caller } = authentication;
  // Per-caller limits and cancel records key on the object id: it must be one.
  if (!OBJECT_ID_PATTERN.test(caller.objectId))
    return { ok: false, response: unauthorized("the token's oid claim is not an object id (GUID)", false) };
  const grants = grantsOf(auth.roles, caller.roles, permission);
  if (grants.length === 0) {
    return {
      ok: false,
      response: forbidden(`This endpoint requires app role ${roleNames(auth.roles, permission)}; the caller has ${rolesOf(caller)}.`),
    };
  }
  return { ok: true, caller, grants };
}

/** {@link authorize} for an endpoint about one collection: the caller, and the `{instanceId}` it names. */
export async function authorizeForInstance(
  request: HttpRequest,
  auth: EndpointAuth,
  permission: Permission,
): Promise<{ ok: true; caller: VerifiedCaller; instanceId: string } | { ok: false; response: HttpResponseInit }> {
  const authorization = await authorize(request, auth, permission);
  if (!authorization.ok) return authorization;
  const id = instanceIdOf(request);
  return id.ok ? { ok: true, caller: authorization.caller, instanceId: id.instanceId } : id;
}

/** 403 with the error envelope. */
export function forbidden(message: string): HttpResponseInit {
  return errorResponse(403, "Forbidden", message);
}

/**
 * 401 with a `WWW-Authenticate: Bearer` challenge. A request without credentials gets no error
 * information in the challenge (RFC 6750 section 3.1; the body says what to send); a bad token gets
 * `invalid_token` and the reason, reduced to the characters the header's quoted string allows.
 */
function unauthorized(description: string, noCredentials: boolean): HttpResponseInit {
  const quoted = description.replace(/[^\x20-\x7e]|["\\]/g, "'");
  const challenge = noCredentials ? "Bearer" : `Bearer error="invalid_token", error_description="${quoted}"`;
  return errorResponse(401, "Unauthorized", `The caller is not authenticated: ${description}.`, undefined, {
    "WWW-Authenticate": challenge,
  });
}

/** `Collector.Run`, or the built-in and custom roles that grant the permission: `Collector.Run (or Soc.Tier1)`. */
function roleNames(definitions: readonly RoleDefinition[], permission: Permission): string {
  const others = definitions.filter((d) => d.permission === permission && d.role !== Roles[permission]).map((d) => d.role);
  return others.length === 0 ? Roles[permission] : `${Roles[permission]} (or ${others.join(", ")})`;
}

function rolesOf(caller: VerifiedCaller): string {
  if (caller.roles.length === 0) return "no app roles";
  const shown = caller.roles.slice(0, 10).map((r) => r.slice(0, 100).replace(/[^\x20-\x7e]/g, "?"));
  return `${shown.join(", ")}${caller.roles.length > shown.length ? ", …" : ""}`;
}
