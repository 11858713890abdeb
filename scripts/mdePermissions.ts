/**
 * The application roles the collector's managed identity needs, and `npm run grant-permissions`, which grants
 * them through Microsoft Graph (scripts/appRoleGrant.ts): the Microsoft Defender for Endpoint API's roles
 * (the WindowsDefenderATP service principal) always, and Microsoft Graph's SecurityAlert.Read.All only with
 * --include-alerts-polling, for the security/alerts_v2 poller (least privilege: a deployment that does not
 * poll Graph never holds it).
 */
import type { TokenCredential } from "@azure/identity";
import { type ApiResource, grantAppRoles, type RoleRequest } from "./appRoleGrant";

/** Application id of the WindowsDefenderATP service principal, the same in every tenant. */
export const MDE_APP_ID = "fc780465-2017-40d4-a0c5-307022471b92";

/**
 * Machine.LiveResponse submits and cancels live response; Machine.Read.All reads actions and machines;
 * Machine.ReadWrite.All is what Microsoft's current result-link page names for applications; Alert.Read.All
 * fetches the alert a Graph notification only references; Library.Manage lists the live response library
 * before every RunScript and PutFile (the only permission https://learn.microsoft.com/defender-endpoint/api/list-library-files
 * names: there is no read-only library permission).
 */
export const REQUIRED_ROLES = [
  "Machine.LiveResponse",
  "Machine.Read.All",
  "Machine.ReadWrite.All",
  "Alert.Read.All",
  "Library.Manage",
] as const;

/** Lists (the collector) and uploads (`npm run library:sync`) live response library files. */
export const LIBRARY_ROLE = "Library.Manage";

/** Application id of Microsoft Graph's service principal, the same in every tenant. */
export const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";

/**
 * Lets the alerts_v2 poller (functions/alertPolling.ts) list security alerts: the least privileged application
 * permission of GET /security/alerts_v2 (https://learn.microsoft.com/graph/api/security-list-alerts_v2,
 * https://learn.microsoft.com/graph/permissions-reference#securityalertreadall). Its role id is resolved by value,
 * like every role here, never hard-coded: role ids can differ between national clouds.
 */
export const ALERTS_POLLING_ROLE = "SecurityAlert.Read.All";

/** The Defender for Endpoint API. */
export const MDE_API: ApiResource = {
  appId: MDE_APP_ID,
  name: "WindowsDefenderATP",
  notFoundCode: "MdeServicePrincipalNotFound",
  notFoundHint: "is Microsoft Defender for Endpoint set up here?",
};

/** Microsoft Graph. */
export const MICROSOFT_GRAPH: ApiResource = {
  appId: GRAPH_APP_ID,
  name: "Microsoft Graph",
  notFoundCode: "GraphServicePrincipalNotFound",
  notFoundHint: `a tenant gets it on first use of Graph; \`az ad sp create --id ${GRAPH_APP_ID}\` creates it.`,
};

/** What the collector's identity needs: the MDE roles, plus Graph's alert reading for the alerts_v2 poller when asked. */
export function collectorPermissions(options: { alertsPolling: boolean }): RoleRequest[] {
  return [
    { resource: MDE_API, roles: REQUIRED_ROLES },
    ...(options.alertsPolling ? [{ resource: MICROSOFT_GRAPH, roles: [ALERTS_POLLING_ROLE] }] : []),
  ];
}

export interface CliDeps {
  /** Builds the credential; the CLI passes DefaultAzureCredential. */
  credential: (options: { tenantId?: string; authorityHost?: string }) => TokenCredential;
  out: (line: string) => void;
  err: (line: string) => void;
  fetch?: typeof fetch;
}

const USAGE = `Usage: npm run grant-permissions -- --principal-id <object id> [options]

Grants the collector's identity the application roles it needs:
  ${MDE_API.name}: ${REQUIRED_ROLES.join(", ")}
  ${MICROSOFT_GRAPH.name}: ${ALERTS_POLLING_ROLE}, only with --include-alerts-polling

  --principal-id <id>          object (principal) id of the managed identity
                               (azd env get-value COLLECTOR_IDENTITY_PRINCIPAL_ID)
  --include-alerts-polling     also grant ${MICROSOFT_GRAPH.name}'s ${ALERTS_POLLING_ROLE}, which the Graph
                               security/alerts_v2 poller needs (ALERTS_POLL_SCHEDULE set); not granted otherwise
  --include-library-manage     accepted for older scripts: ${LIBRARY_ROLE} is now always granted (the collector
                               lists the live response library before each RunScript and PutFile)
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
  const outcome = await grantAppRoles({
    principalId: args.principalId,
    requests: collectorPermissions({ alertsPolling: args.includeAlertsPolling }),
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
  for (const api of r.resources) {
    deps.out(`API:      ${api.resource.displayName} (service principal ${api.resource.id}, appId ${api.resource.appId})`);
    for (const role of api.granted) deps.out(`  granted       ${role}`);
    for (const role of api.wouldGrant) deps.out(`  would grant   ${role}`);
    for (const role of api.alreadyHeld) deps.out(`  already held  ${role}`);
  }
  if (!args.includeAlertsPolling) {
    deps.out(
      `Not requested: ${MICROSOFT_GRAPH.name} ${ALERTS_POLLING_ROLE}, needed only to poll Graph alerts_v2 (ALERTS_POLL_SCHEDULE): add --include-alerts-polling for that route.`,
    );
  }
  const count = (pick: (api: (typeof r.resources)[number]) => string[]) => r.resources.reduce((n, api) => n + pick(api).length, 0);
  const held = count((api) => api.alreadyHeld);
  deps.out(
    args.dryRun
      ? `Dry run: ${count((api) => api.wouldGrant)} to grant, ${held} already held.`
      : `${count((api) => api.granted)} granted, ${held} already held. New app roles reach the identity's tokens within minutes to hours (tokens are cached).`,
  );
  return 0;
}

interface CliArgs {
  principalId: string;
  includeAlertsPolling: boolean;
  graphUrl: string;
  authorityHost?: string;
  tenantId?: string;
  dryRun: boolean;
}

function parseArgs(argv: readonly string[]): CliArgs | { usage: string } {
  const parsed: CliArgs = {
    principalId: "",
    includeAlertsPolling: false,
    graphUrl: "https://graph.microsoft.com",
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
      else if (arg === "--include-alerts-polling") parsed.includeAlertsPolling = true;
      // Library.Manage is among REQUIRED_ROLES now; the flag stays accepted so older scripts keep working.
      else if (arg === "--include-library-manage") continue;
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
