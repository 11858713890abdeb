import { badRequest } from "./errors";
import type { ApiAnswer, RequestContext } from "./liveResponseApi";

/**
 * Microsoft Graph `GET /v1.0/security/alerts_v2` (https://learn.microsoft.com/graph/api/security-list-alerts_v2),
 * served from the simulator's own alerts so the polling route runs offline:
 * - Every MDE alert (`POST /simulator/alerts`, alerts.ts) appears as a Graph alert
 *   (https://learn.microsoft.com/graph/api/resources/security-alert) with `providerAlertId` = its MDE id,
 *   `serviceSource` microsoftDefenderForEndpoint, `createdDateTime` = alertCreationTime,
 *   `lastUpdateDateTime` = lastUpdateTime, and its device and files as deviceEvidence and fileEvidence.
 * - An alert added with a `serviceSource` is already a Graph alert (another product's) and is served as given.
 * - Two other products' alerts are always there, created a minute before the first listing.
 * Query options: `$filter` on lastUpdateDateTime / createdDateTime (ge, gt, le, lt, eq) and serviceSource
 * (eq), joined by `and`; `$top`; `$skip`; `$count`; `$skiptoken` from `@odata.nextLink`. Newest first
 * ("The most recent alerts are displayed at the top of the list"). Anything else is 400 `BadRequest`, Graph's
 * code for a request it cannot read (https://learn.microsoft.com/graph/errors). Bearer token, faults and
 * stats as every endpoint of the simulator (server.ts, endpoint `listAlertsV2`).
 * Paging is by offset, as a `$skiptoken` may be: an alert that leaves the filtered list between two pages
 * moves every later alert up by one (the poller must not depend on it; shared/alerts/graphPoll.ts).
 */

/** `$top` when none is asked for, and the largest taken. */
const DEFAULT_TOP = 100;
const MAX_TOP = 2000;
const MDE_SERVICE_SOURCE = "microsoftDefenderForEndpoint";

const firstListedAt = new WeakMap<object, number>();

/** Test hooks; the simulator never sets them. */
export interface AlertsV2Hooks {
  /** Called before each alerts_v2 request is answered, with the offset its page starts at (0: a first page). */
  beforeListing?: (page: { skip: number; top: number }) => void;
}

/** The process's hooks (tests set and clear them; see {@link resetAlertsV2Hooks}). */
export const alertsV2Hooks: AlertsV2Hooks = {};
const edits = new Map<string, Record<string, unknown>>();

/**
 * Changes Graph alert `id` as an analyst's edit in the portal would (e.g. a new status and
 * lastUpdateDateTime), in every simulator of this process, from the next request on. Tests only.
 */
export function editGraphAlert(id: string, fields: Record<string, unknown>): void {
  edits.set(id, { ...edits.get(id), ...structuredClone(fields) });
}

/** Clears the hooks and edits. */
export function resetAlertsV2Hooks(): void {
  delete alertsV2Hooks.beforeListing;
  edits.clear();
}

/** Answers one alerts_v2 request at `nowMs`; `owner` keys the built-in other-product alerts to one simulator. */
export function listAlertsV2(
  owner: object,
  stored: readonly Record<string, unknown>[],
  query: URLSearchParams,
  ctx: RequestContext,
  nowMs: number,
): ApiAnswer {
  for (const key of query.keys())
    if (!["$filter", "$top", "$skip", "$count", "$skiptoken"].includes(key))
      throw badRequest("BadRequest", `Query option '${key}' is not supported`);
  const keep = parseFilter(query.get("$filter"));
  const top = integerOption(query, "$top", DEFAULT_TOP, 1, MAX_TOP);
  const skip = query.has("$skiptoken") ? offsetOf(query.get("$skiptoken")!) : integerOption(query, "$skip", 0, 0, Number.MAX_SAFE_INTEGER);
  const count = query.get("$count")?.toLowerCase();
  if (count !== undefined && count !== "true" && count !== "false") throw badRequest("BadRequest", "$count must be true or false");
  alertsV2Hooks.beforeListing?.({ skip, top });
  if (!firstListedAt.has(owner)) firstListedAt.set(owner, nowMs);
  const all = [...stored.map(toGraphAlert), ...otherProductAlerts(firstListedAt.get(owner)!)].map((a) => {
    const edit = edits.get(String(a.id));
    return edit ? { ...a, ...structuredClone(edit) } : a;
  });
  const matching = all.filter(keep).sort(newestFirst);
  const page = matching.slice(skip, skip + top);
  const graphRoot = ctx.serviceRoot.replace(/\/api$/, "/v1.0");
  const body: Record<string, unknown> = { "@odata.context": `${graphRoot}/$metadata#security/alerts_v2` };
  if (count === "true") body["@odata.count"] = matching.length;
  if (skip + top < matching.length) {
    const next = new URLSearchParams();
    for (const key of ["$filter", "$count"]) if (query.has(key)) next.set(key, query.get(key)!);
    next.set("$top", String(top));
    next.set("$skiptoken", Buffer.from(`offset:${skip + top}`, "utf8").toString("base64url"));
    body["@odata.nextLink"] = `${graphRoot}/security/alerts_v2?${next.toString()}`;
  }
  body.value = page;
  return { status: 200, body };
}

/** An MDE alert entity as Graph's alert resource; a Graph-shaped entry (it has `serviceSource`) as is. */
function toGraphAlert(a: Record<string, unknown>): Record<string, unknown> {
  if (typeof a.serviceSource === "string") return structuredClone(a);
  const id = String(a.id);
  const lower = (v: unknown) => (typeof v === "string" ? v.toLowerCase() : v);
  const evidence: Record<string, unknown>[] = [];
  if (typeof a.machineId === "string")
    evidence.push({
      "@odata.type": "#microsoft.graph.security.deviceEvidence",
      mdeDeviceId: a.machineId,
      deviceDnsName: a.computerDnsName ?? null,
    });
  for (const e of Array.isArray(a.evidence) ? (a.evidence as Record<string, unknown>[]) : []) {
    if (String(e.entityType).toLowerCase() !== "file") continue;
    evidence.push({
      "@odata.type": "#microsoft.graph.security.fileEvidence",
      mdeDeviceId: a.machineId ?? null,
      fileDetails: { fileName: e.fileName ?? null, filePath: e.filePath ?? null, sha1: e.sha1 ?? null, sha256: e.sha256 ?? null },
    });
  }
  return {
    "@odata.type": "#microsoft.graph.security.alert",
    id,
    providerAlertId: id,
    incidentId: a.incidentId === undefined || a.incidentId === null ? null : String(a.incidentId),
    status: lower(a.status) ?? "new",
    severity: lower(a.severity) ?? "unknown",
    serviceSource: MDE_SERVICE_SOURCE,
    detectionSource: a.detectionSource ?? null,
    title: a.title ?? null,
    category: a.category ?? null,
    alertWebUrl: `https://security.microsoft.com/alerts/${encodeURIComponent(id)}`,
    mitreTechniques: a.mitreTechniques ?? [],
    createdDateTime: a.alertCreationTime ?? null,
    lastUpdateDateTime: a.lastUpdateTime ?? a.alertCreationTime ?? null,
    firstActivityDateTime: a.firstEventTime ?? null,
    lastActivityDateTime: a.lastEventTime ?? null,
    evidence,
  };
}

/** Alerts of products whose alerts MDE's API does not hold: a poller must skip them. */
function otherProductAlerts(atMs: number): Record<string, unknown>[] {
  const at = new Date(atMs - 60_000).toISOString();
  const common = {
    "@odata.type": "#microsoft.graph.security.alert",
    status: "new",
    createdDateTime: at,
    lastUpdateDateTime: at,
    evidence: [],
  };
  return [
    {
      ...common,
      id: "fa6c5e1b2d-4b6a-4f0e-9b1d-2c3e4f5a6b7c_1",
      providerAlertId: "6c5e1b2d-4b6a-4f0e-9b1d-2c3e4f5a6b7c",
      serviceSource: "microsoftDefenderForOffice365",
      detectionSource: "microsoftDefenderForOffice365",
      severity: "medium",
      title: "Email messages containing malicious URL removed after delivery",
      category: "InitialAccess",
    },
    {
      ...common,
      id: "ad7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a",
      providerAlertId: "7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a",
      serviceSource: "azureAdIdentityProtection",
      detectionSource: "azureAdIdentityProtection",
      severity: "high",
      title: "Unfamiliar sign-in properties",
      category: "InitialAccess",
    },
  ];
}

function newestFirst(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const t = (x: Record<string, unknown>) => Date.parse(String(x.createdDateTime)) || 0;
  return t(b) - t(a) || String(a.id).localeCompare(String(b.id));
}

const DATE_PROPERTIES = ["lastUpdateDateTime", "createdDateTime"];
const CLAUSE = /^(\w+)\s+(eq|ge|gt|le|lt)\s+(.+)$/i;

/** `$filter` clauses joined by `and`: a date property compared with a DateTimeOffset, or `serviceSource eq '<value>'`. */
function parseFilter(filter: string | null): (alert: Record<string, unknown>) => boolean {
  if (filter === null || filter.trim() === "") return () => true;
  const tests = filter.split(/\s+and\s+/i).map((clause) => {
    const m = CLAUSE.exec(clause.trim());
    if (!m) throw badRequest("BadRequest", `Invalid filter clause: ${clause.slice(0, 100)}`);
    const [, property, op, literal] = m as unknown as [string, string, string, string];
    if (property === "serviceSource" && op.toLowerCase() === "eq" && /^'[^']*'$/.test(literal)) {
      const value = literal.slice(1, -1).toLowerCase();
      return (a: Record<string, unknown>) => String(a.serviceSource).toLowerCase() === value;
    }
    const at = Date.parse(literal);
    if (!DATE_PROPERTIES.includes(property) || !/^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)$/.test(literal) || Number.isNaN(at))
      throw badRequest("BadRequest", `Unsupported filter clause: ${clause.slice(0, 100)}`);
    return (a: Record<string, unknown>) => compare(Date.parse(String(a[property])), op.toLowerCase(), at);
  });
  return (alert) => tests.every((t) => t(alert));
}

function compare(value: number, op: string, at: number): boolean {
  if (Number.isNaN(value)) return false;
  return op === "eq" ? value === at : op === "ge" ? value >= at : op === "gt" ? value > at : op === "le" ? value <= at : value < at;
}

function integerOption(query: URLSearchParams, key: string, fallback: number, min: number, max: number): number {
  const raw = query.get(key);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw badRequest("BadRequest", `${key} must be an integer from ${min} to ${max}`);
  return Number(raw);
}

function offsetOf(token: string): number {
  const m = /^offset:(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
  if (!m) throw badRequest("BadRequest", "The $skiptoken is not one this service issued");
  return Number(m[1]);
}
