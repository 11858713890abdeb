/**
 * Grants a managed identity (or any service principal) the application roles of the Microsoft Defender
 * for Endpoint API (the WindowsDefenderATP service principal) that the collector needs. These app roles
 * cannot be granted to a managed identity in the Azure portal; Microsoft Graph can:
 * POST /servicePrincipals/{principalId}/appRoleAssignments
 * (learn.microsoft.com/graph/api/serviceprincipal-post-approleassignments). Idempotent: roles already held
 * are listed and left alone. The caller needs AppRoleAssignment.ReadWrite.All and Application.Read.All.
 */
import type { TokenCredential } from "@azure/identity";

/** Application id of the WindowsDefenderATP service principal, the same in every tenant. */
export const MDE_APP_ID = "fc780465-2017-40d4-a0c5-307022471b92";

/**
 * Machine.LiveResponse submits and cancels live response; Machine.Read.All reads actions and machines;
 * Machine.ReadWrite.All is what Microsoft's current result-link page names for applications; Alert.Read.All
 * fetches the alert a Graph notification only references.
 */
export const REQUIRED_ROLES = ["Machine.LiveResponse", "Machine.Read.All", "Machine.ReadWrite.All", "Alert.Read.All"] as const;

/** Uploads scripts to the live response library; only with --include-library-manage. */
export const LIBRARY_ROLE = "Library.Manage";

export interface GrantOptions {
  /** Object (principal) id of the managed identity: `azd env get-value COLLECTOR_IDENTITY_PRINCIPAL_ID`. */
  principalId: string;
  roles: readonly string[];
  /** https://graph.microsoft.com, or the national cloud's Graph host. */
  graphBaseUrl: string;
  credential: TokenCredential;
  /** List what would be granted without granting it. */
  dryRun?: boolean;
  fetch?: typeof fetch;
}

export interface GrantReport {
  principal: { id: string; displayName: string; type: string };
  resource: { id: string; displayName: string };
  granted: string[];
  alreadyHeld: string[];
  /** With dryRun: what a real run would grant. */
  wouldGrant: string[];
}

export type GrantOutcome = { ok: true; report: GrantReport } | { ok: false; code: string; message: string };

interface AppRole {
  id: string;
  value: string | null;
  isEnabled: boolean;
  allowedMemberTypes: string[];
}

interface ServicePrincipal {
  id: string;
  displayName: string;
  appId?: string;
  servicePrincipalType?: string;
  appRoles?: AppRole[];
}

interface AppRoleAssignment {
  appRoleId: string;
  resourceId: string;
}

class GraphError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Grants the missing roles; never throws for Graph or sign-in failures (they come back as codes). */
export async function grantMdePermissions(options: GrantOptions): Promise<GrantOutcome> {
  try {
    return { ok: true, report: await grant(options) };
  } catch (e) {
    if (e instanceof GraphError) return { ok: false, code: e.code, message: e.message };
    throw e;
  }
}

async function grant(options: GrantOptions): Promise<GrantReport> {
  if (!GUID.test(options.principalId))
    throw new GraphError("InvalidPrincipalId", `--principal-id must be an object id (a GUID), got "${options.principalId}"`);
  const graph = graphClient(options);
  const principal = await graph.get<ServicePrincipal>(
    `/servicePrincipals/${options.principalId}?$select=id,displayName,servicePrincipalType`,
    {
      404: () =>
        new GraphError(
          "PrincipalNotFound",
          `No service principal with object id ${options.principalId}. Pass the managed identity's principal (object) id (azd env get-value COLLECTOR_IDENTITY_PRINCIPAL_ID), not its client id.`,
        ),
    },
  );
  const resources = await graph.get<{ value: ServicePrincipal[] }>(
    `/servicePrincipals?$filter=appId eq '${MDE_APP_ID}'&$select=id,displayName,appId,appRoles`,
  );
  const mde = resources.value[0];
  if (!mde) {
    throw new GraphError(
      "MdeServicePrincipalNotFound",
      `The WindowsDefenderATP service principal (appId ${MDE_APP_ID}) is not in this tenant: is Microsoft Defender for Endpoint set up here?`,
    );
  }

  const roleIds = new Map<string, string>();
  const missingRoles: string[] = [];
  for (const value of options.roles) {
    const role = (mde.appRoles ?? []).find((r) => r.value === value && r.isEnabled && r.allowedMemberTypes.includes("Application"));
    if (role) roleIds.set(value, role.id);
    else missingRoles.push(value);
  }
  if (missingRoles.length > 0) {
    throw new GraphError(
      "RoleNotFound",
      `The WindowsDefenderATP service principal has no enabled application role ${missingRoles.join(", ")}`,
    );
  }

  const held = new Set(
    (await graph.getAll<AppRoleAssignment>(`/servicePrincipals/${principal.id}/appRoleAssignments`))
      .filter((a) => a.resourceId === mde.id)
      .map((a) => a.appRoleId),
  );
  const report: GrantReport = {
    principal: { id: principal.id, displayName: principal.displayName, type: principal.servicePrincipalType ?? "unknown" },
    resource: { id: mde.id, displayName: mde.displayName },
    granted: [],
    alreadyHeld: [],
    wouldGrant: [],
  };
  for (const [value, appRoleId] of roleIds) {
    if (held.has(appRoleId)) {
      report.alreadyHeld.push(value);
      continue;
    }
    if (options.dryRun) {
      report.wouldGrant.push(value);
      continue;
    }
    const created = await graph.post(`/servicePrincipals/${principal.id}/appRoleAssignments`, {
      principalId: principal.id,
      resourceId: mde.id,
      appRoleId,
    });
    // Graph answers 400 "Permission being assigned already exists" when another run got there first.
    (created ? report.granted : report.alreadyHeld).push(value);
  }
  return report;
}

function graphClient(options: GrantOptions) {
  const base = new URL(options.graphBaseUrl);
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(base.hostname);
  if (base.protocol !== "https:" && !(base.protocol === "http:" && loopback)) {
    throw new GraphError("InvalidGraphUrl", `--graph-url must be https:// (got ${options.graphBaseUrl}); the token is sent there`);
  }
  const root = `${base.origin}/v1.0`;
  const doFetch = options.fetch ?? fetch;
  const scope = `${base.origin}/.default`;
  let token: string | undefined;

  async function authorization(): Promise<string> {
    if (!token) {
      try {
        const t = await options.credential.getToken(scope);
        if (!t) throw new Error("no token");
        token = t.token;
      } catch (e) {
        throw new GraphError(
          "SignInFailed",
          `Could not get a token for ${scope}: ${(e as Error).message.split("\n")[0].replace(/\.+$/, "")}. Sign in with \`az login\` (or \`azd auth login\`) as an administrator first.`,
        );
      }
    }
    return `Bearer ${token}`;
  }

  async function send(
    method: "GET" | "POST",
    url: string,
    body?: unknown,
    on?: Record<number, () => GraphError>,
  ): Promise<{ status: number; json: unknown }> {
    const response = await doFetch(url, {
      method,
      headers: {
        Authorization: await authorization(),
        Accept: "application/json",
        ...(body ? { "Content-Type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (response.ok) return { status: response.status, json };
    const special = on?.[response.status];
    if (special) throw special();
    const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    const path = url.slice(root.length).split("?")[0];
    const detail = `${method} ${path}: ${response.status} ${error?.code ?? ""} ${error?.message ?? text.slice(0, 200)}`
      .replace(/\s+/g, " ")
      .trim();
    if (response.status === 401)
      throw new GraphError("Unauthenticated", `Microsoft Graph refused the token (${detail}). Sign in again with \`az login\`.`);
    if (response.status === 403) {
      throw new GraphError(
        "Forbidden",
        `Microsoft Graph denied ${method} ${path} (${detail}). Granting app roles needs the Graph permissions AppRoleAssignment.ReadWrite.All and Application.Read.All: sign in as an administrator who holds them (for example a Privileged Role Administrator), or run this with an identity granted them.`,
      );
    }
    throw new GraphError(error?.code || `Http${response.status}`, `Microsoft Graph failed: ${detail}`);
  }

  return {
    async get<T>(path: string, on?: Record<number, () => GraphError>): Promise<T> {
      return (await send("GET", `${root}${path}`, undefined, on)).json as T;
    },
    /** Every item of a collection, following @odata.nextLink (only links on the same Graph host). */
    async getAll<T>(path: string): Promise<T[]> {
      const items: T[] = [];
      for (let url: string | undefined = `${root}${path}`; url;) {
        const page = (await send("GET", url)).json as { value: T[]; "@odata.nextLink"?: string };
        items.push(...page.value);
        const next = page["@odata.nextLink"];
        if (next && new URL(next).origin !== base.origin)
          throw new GraphError("UnexpectedNextLink", `Graph returned a next link on another host: ${new URL(next).origin}`);
        url = next;
      }
      return items;
    },
    /** True when created; false when Graph says the assignment already exists. */
    async post(path: string, body: unknown): Promise<boolean> {
      try {
        await send("POST", `${root}${path}`, body);
        return true;
      } catch (e) {
        if (e instanceof GraphError && /already exists/i.test(e.message)) return false;
        throw e;
      }
    },
  };
}

export interface CliDeps {
  /** Builds the credential; the CLI passes DefaultAzureCredential. */
  credential: (options: { tenantId?: string; authorityHost?: string }) => TokenCredential;
  out: (line: string) => void;
  err: (line: string) => void;
  fetch?: typeof fetch;
}

const USAGE = `Usage: npm run grant-permissions -- --principal-id <object id> [options]

Grants the collector's identity the WindowsDefenderATP application roles it needs:
${REQUIRED_ROLES.join(", ")} (and ${LIBRARY_ROLE} with --include-library-manage).

  --principal-id <id>          object (principal) id of the managed identity
                               (azd env get-value COLLECTOR_IDENTITY_PRINCIPAL_ID)
  --include-library-manage     also grant ${LIBRARY_ROLE} (uploading live response library files)
  --graph-url <url>            Microsoft Graph host (default https://graph.microsoft.com;
                               https://graph.microsoft.us for GCC High, https://dod-graph.microsoft.us for DoD)
  --authority-host <url>       Entra sign-in host for the credential (https://login.microsoftonline.us for US Government)
  --tenant-id <id>             tenant to sign in to
  --dry-run                    show what would be granted, grant nothing

Signs in with DefaultAzureCredential (az login, azd auth login, environment variables, ...).
The signed-in identity needs AppRoleAssignment.ReadWrite.All and Application.Read.All.`;

/** The CLI: parses arguments, runs the grant, prints the outcome; returns the exit code (0 ok, 1 failed, 2 usage). */
export async function runGrantPermissions(argv: readonly string[], deps: CliDeps): Promise<number> {
  const args = parseArgs(argv);
  if ("usage" in args) {
    (args.usage ? deps.err : deps.out)(args.usage ? `${args.usage}\n\n${USAGE}` : USAGE);
    return args.usage ? 2 : 0;
  }
  const roles = args.includeLibraryManage ? [...REQUIRED_ROLES, LIBRARY_ROLE] : [...REQUIRED_ROLES];
  const outcome = await grantMdePermissions({
    principalId: args.principalId,
    roles,
    graphBaseUrl: args.graphUrl,
    credential: deps.credential({ tenantId: args.tenantId, authorityHost: args.authorityHost }),
    dryRun: args.dryRun,
    fetch: deps.fetch,
  });
  if (!outcome.ok) {
    deps.err(`grant-permissions failed (${outcome.code}): ${outcome.message}`);
    return 1;
  }
  const r = outcome.report;
  deps.out(`Identity: ${r.principal.displayName} (${r.principal.id}, ${r.principal.type})`);
  deps.out(`API:      ${r.resource.displayName} (service principal ${r.resource.id}, appId ${MDE_APP_ID})`);
  for (const role of r.granted) deps.out(`  granted       ${role}`);
  for (const role of r.wouldGrant) deps.out(`  would grant   ${role}`);
  for (const role of r.alreadyHeld) deps.out(`  already held  ${role}`);
  deps.out(
    args.dryRun
      ? `Dry run: ${r.wouldGrant.length} to grant, ${r.alreadyHeld.length} already held.`
      : `${r.granted.length} granted, ${r.alreadyHeld.length} already held. New app roles reach the identity's tokens within minutes to hours (tokens are cached).`,
  );
  return 0;
}

type ParsedArgs =
  | { usage: string }
  | { principalId: string; includeLibraryManage: boolean; graphUrl: string; authorityHost?: string; tenantId?: string; dryRun: boolean };

function parseArgs(argv: readonly string[]): ParsedArgs {
  const parsed = {
    principalId: "",
    includeLibraryManage: false,
    graphUrl: "https://graph.microsoft.com",
    authorityHost: undefined as string | undefined,
    tenantId: undefined as string | undefined,
    dryRun: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new Error(`${arg} needs a value`);
      return v;
    };
    try {
      if (arg === "--help" || arg === "-h") return { usage: "" };
      else if (arg === "--principal-id") parsed.principalId = value();
      else if (arg === "--include-library-manage") parsed.includeLibraryManage = true;
      else if (arg === "--graph-url") parsed.graphUrl = value().replace(/\/+$/, "");
      else if (arg === "--authority-host") parsed.authorityHost = value();
      else if (arg === "--tenant-id") parsed.tenantId = value();
      else if (arg === "--dry-run") parsed.dryRun = true;
      else return { usage: `Unknown argument: ${arg}` };
    } catch (e) {
      return { usage: (e as Error).message };
    }
  }
  if (!parsed.principalId) return { usage: "--principal-id is required" };
  return parsed;
}
