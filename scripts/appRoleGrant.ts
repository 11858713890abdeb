/**
 * Grants a service principal (a managed identity) application roles of one or more APIs through Microsoft
 * Graph: POST /servicePrincipals/{principalId}/appRoleAssignments
 * (https://learn.microsoft.com/graph/api/serviceprincipal-post-approleassignments). Application roles of
 * first-party APIs cannot be granted to a managed identity in the Azure portal; Graph can. Role ids are
 * resolved by value from each API's service principal at run time (they differ between clouds), every API
 * and role is checked before anything is granted, and roles already held are listed and left alone, so a
 * second run grants nothing. The caller needs AppRoleAssignment.ReadWrite.All and Application.Read.All.
 */
import type { TokenCredential } from "@azure/identity";
import { type GraphClient, GraphError, graphClient } from "./graphAdminClient";

/** An API whose application roles are granted, known by its application id (the same in every tenant). */
export interface ApiResource {
  appId: string;
  /** The service principal's usual display name, for messages about it before it is found. */
  name: string;
  /** Error code when the tenant has no service principal for this API. */
  notFoundCode: string;
  /** The likely reason or remedy when it is missing, appended to the message. */
  notFoundHint: string;
}

/** One API and the application roles (by value, e.g. "Machine.Read.All") wanted on it. */
export interface RoleRequest {
  resource: ApiResource;
  roles: readonly string[];
}

export interface GrantOptions {
  /** Object (principal) id of the managed identity: `azd env get-value COLLECTOR_IDENTITY_PRINCIPAL_ID`. */
  principalId: string;
  /** What to grant; each API once (a repeated API's roles are merged). */
  requests: readonly RoleRequest[];
  /** https://graph.microsoft.com, or the national cloud's Graph host. */
  graphBaseUrl: string;
  credential: TokenCredential;
  /** List what would be granted without granting it. */
  dryRun?: boolean;
  fetch?: typeof fetch;
}

/** What happened on one API, role values in request order. */
export interface ResourceGrantReport {
  resource: { id: string; displayName: string; appId: string };
  granted: string[];
  alreadyHeld: string[];
  /** With dryRun: what a real run would grant. */
  wouldGrant: string[];
}

export interface GrantReport {
  principal: { id: string; displayName: string; type: string };
  /** One entry per API, in request order. */
  resources: ResourceGrantReport[];
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

/** An API's service principal in this tenant with the wanted roles' ids. */
interface ResolvedRequest {
  servicePrincipal: ServicePrincipal;
  appId: string;
  roles: { value: string; appRoleId: string }[];
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Grants the missing roles; never throws for Graph or sign-in failures (they come back as codes). */
export async function grantAppRoles(options: GrantOptions): Promise<GrantOutcome> {
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
  // Every API and role is resolved before the first POST: a missing one grants nothing rather than half.
  const resolved: ResolvedRequest[] = [];
  for (const request of mergeByApi(options.requests)) resolved.push(await resolveRoles(graph, request));

  const held = new Set(
    (await graph.getAll<AppRoleAssignment>(`/servicePrincipals/${principal.id}/appRoleAssignments`)).map((a) =>
      assignmentKey(a.resourceId, a.appRoleId),
    ),
  );
  const report: GrantReport = {
    principal: { id: principal.id, displayName: principal.displayName, type: principal.servicePrincipalType ?? "unknown" },
    resources: resolved.map((r) => ({
      resource: { id: r.servicePrincipal.id, displayName: r.servicePrincipal.displayName, appId: r.appId },
      granted: [],
      alreadyHeld: [],
      wouldGrant: [],
    })),
  };
  const wanted = resolved.flatMap((r, i) =>
    r.roles.map((role) => ({ resourceId: r.servicePrincipal.id, role, into: report.resources[i] })),
  );
  for (const { resourceId, role, into } of wanted) {
    if (held.has(assignmentKey(resourceId, role.appRoleId))) {
      into.alreadyHeld.push(role.value);
      continue;
    }
    if (options.dryRun) {
      into.wouldGrant.push(role.value);
      continue;
    }
    const created = await graph.post(`/servicePrincipals/${principal.id}/appRoleAssignments`, {
      principalId: principal.id,
      resourceId,
      appRoleId: role.appRoleId,
    });
    // Graph answers 400 "Permission being assigned already exists" when another run got there first.
    (created ? into.granted : into.alreadyHeld).push(role.value);
  }
  return report;
}

/** One request per API (by appId), roles deduplicated in first-seen order. */
function mergeByApi(requests: readonly RoleRequest[]): RoleRequest[] {
  const byAppId = new Map<string, { resource: ApiResource; roles: Set<string> }>();
  for (const { resource, roles } of requests) {
    const entry = byAppId.get(resource.appId) ?? { resource, roles: new Set<string>() };
    for (const role of roles) entry.roles.add(role);
    byAppId.set(resource.appId, entry);
  }
  return [...byAppId.values()].map(({ resource, roles }) => ({ resource, roles: [...roles] }));
}

/** Finds the API's service principal and its enabled application roles by value. */
async function resolveRoles(graph: GraphClient, { resource, roles }: RoleRequest): Promise<ResolvedRequest> {
  const found = await graph.get<{ value: ServicePrincipal[] }>(
    `/servicePrincipals?$filter=appId eq '${resource.appId}'&$select=id,displayName,appId,appRoles`,
  );
  const servicePrincipal = found.value[0];
  if (!servicePrincipal) {
    throw new GraphError(
      resource.notFoundCode,
      `The ${resource.name} service principal (appId ${resource.appId}) is not in this tenant: ${resource.notFoundHint}`,
    );
  }
  const resolvedRoles: ResolvedRequest["roles"] = [];
  const missing: string[] = [];
  for (const value of roles) {
    // A role assignable only to users can carry the same value: only an enabled Application role will do.
    const role = (servicePrincipal.appRoles ?? []).find(
      (r) => r.value === value && r.isEnabled && r.allowedMemberTypes.includes("Application"),
    );
    if (role) resolvedRoles.push({ value, appRoleId: role.id });
    else missing.push(value);
  }
  if (missing.length > 0) {
    throw new GraphError(
      "RoleNotFound",
      `The ${resource.name} service principal (appId ${resource.appId}) has no enabled application role ${missing.join(", ")}`,
    );
  }
  return { servicePrincipal, appId: resource.appId, roles: resolvedRoles };
}

function assignmentKey(resourceId: string, appRoleId: string): string {
  return `${resourceId}/${appRoleId}`;
}
