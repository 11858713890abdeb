/** The AUTH_* settings: how callers of the HTTP endpoints are authenticated, and their roles. */
import type { SettingProblem } from "../errors";
import { GUID, type SettingsReader } from "../settingsReader";
import type { AuthMode, AuthSettings } from "./authenticator";
import { AUTHORITY_HOSTS, DEVELOPMENT_AUDIENCE, DEVELOPMENT_TENANT_ID } from "./entraToken";
import { parseRoleScopes, type RoleDefinition } from "./roles";

/** What the app knows of its callers' authentication: the validator's settings and the role definitions. */
export type AuthConfig = AuthSettings & { roles: RoleDefinition[] };

const AUTH_MODES = ["entra", "appServiceAuthentication", "development"] as const;

/**
 * AUTH_*: how callers of the HTTP endpoints are authenticated. `entra` needs the tenant and the API's
 * audience; `development` (a local signing key) only with LOCAL_DEVELOPMENT=true, so it can never be
 * the mode of a deployed app.
 */
export function readAuthSettings(reader: SettingsReader, problems: SettingProblem[], localDevelopment: boolean): AuthConfig | undefined {
  const mode = reader.optional("AUTH_MODE") ?? "entra";
  if (!(AUTH_MODES as readonly string[]).includes(mode)) {
    problems.push({ setting: "AUTH_MODE", problem: `must be one of ${AUTH_MODES.join(", ")}` });
    return undefined;
  }
  if (mode === "development" && !localDevelopment)
    problems.push({ setting: "AUTH_MODE", problem: "development is allowed only with LOCAL_DEVELOPMENT=true" });
  const tenantId = reader.optional("AUTH_TENANT_ID");
  if (tenantId === undefined && mode !== "development")
    problems.push({ setting: "AUTH_TENANT_ID", problem: `required with AUTH_MODE=${mode}: the Entra tenant of the callers` });
  else if (tenantId !== undefined && !GUID.test(tenantId)) problems.push({ setting: "AUTH_TENANT_ID", problem: "must be a GUID" });
  const audiences = (reader.optional("AUTH_AUDIENCE") ?? (mode === "development" ? DEVELOPMENT_AUDIENCE : ""))
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean);
  if (audiences.length === 0 && mode === "entra")
    problems.push({
      setting: "AUTH_AUDIENCE",
      problem: "required with AUTH_MODE=entra: the API app registration's client id or application id URI",
    });
  const authorityHost = (reader.optional("AUTH_AUTHORITY_HOST") ?? "https://login.microsoftonline.com").replace(/\/+$/, "");
  if (!AUTHORITY_HOSTS.some((h) => authorityHost === `https://${h}`)) {
    problems.push({ setting: "AUTH_AUTHORITY_HOST", problem: `must be one of ${AUTHORITY_HOSTS.map((h) => `https://${h}`).join(", ")}` });
  }
  let developmentKeys: AuthSettings["developmentKeys"];
  if (mode === "development") {
    const jwks = reader.optional("AUTH_DEVELOPMENT_JWKS");
    try {
      const parsed = jwks === undefined ? undefined : JSON.parse(jwks);
      if (!parsed || !Array.isArray(parsed.keys) || parsed.keys.length === 0) throw new Error("no keys");
      developmentKeys = parsed;
    } catch {
      problems.push({
        setting: "AUTH_DEVELOPMENT_JWKS",
        problem: "required with AUTH_MODE=development: a JSON Web Key Set with the development public key (npm start writes one)",
      });
    }
  }
  const roles = parseRoleScopes(reader.optional("AUTH_ROLE_SCOPES"));
  problems.push(...roles.problems);
  return {
    mode: mode as AuthMode,
    tenantId: tenantId ?? DEVELOPMENT_TENANT_ID,
    audiences,
    authorityHost,
    ...(developmentKeys ? { developmentKeys } : {}),
    roles: roles.roles,
  };
}
