/**
 * The Microsoft Sentinel incident a playbook posts: the body of the Logic Apps trigger "Microsoft
 * Sentinel incident" (`{ objectSchemaType: "Incident", objectEventType, workspaceId, workspaceInfo,
 * object: { id, name, properties: { title, severity, incidentNumber, alerts[], relatedEntities[] } } }`),
 * or its `object` alone. Each entry of `properties.alerts` is a SecurityAlert resource
 * (`{ id, name, kind: "SecurityAlert", properties: { alertDisplayName, alertLink, alertType,
 * productName, providerAlertId, systemAlertId, tactics, ... } }`).
 * Sources: https://learn.microsoft.com/azure/sentinel/automation/playbook-triggers-actions (an incident
 * carries its alerts and entities; the incident trigger is the one automation rules can run),
 * https://learn.microsoft.com/connectors/azuresentinel/ (the trigger's schema) and
 * https://learn.microsoft.com/rest/api/securityinsights/incidents/list-alerts (the alert properties).
 *
 * An incident is several claims, one per alert, each mapped like a SecurityAlert row
 * (shared/alerts/claim.ts): the id in the Defender portal `alertLink`, else `providerAlertId` when
 * `productName` is Defender for Endpoint's. Alerts of other products are skipped with their reason.
 */
import { echoName } from "../validation";
import { claimOf, type ClaimResult } from "./claim";
import { isRecord, str } from "./normalize";
import { isMdeProduct, portalAlertId, tacticsOf } from "./sentinel";

/** Alerts of one incident sent on to MDE at most: each may cost an MDE read (100 calls a minute per tenant). */
export const MAX_ALERTS_PER_INCIDENT = 25;

/** One alert of an incident and what it claims; `ref` names it in answers and logs (its Sentinel system alert id). */
export interface IncidentAlertClaim {
  ref: string;
  result: ClaimResult;
}

/** The incident's claims, and how many alerts past {@link MAX_ALERTS_PER_INCIDENT} were not looked at. */
export interface IncidentClaims {
  incident: string;
  claims: IncidentAlertClaim[];
  notExamined: number;
}

/** The incident resource of a trigger body (`object`) or of a body that is the resource itself; undefined for anything else. */
function incidentResource(payload: Record<string, unknown>): Record<string, unknown> | undefined {
  const wrapped = isRecord(payload.object) ? payload.object : undefined;
  if (wrapped && (str(payload.objectSchemaType)?.toLowerCase() === "incident" || isIncident(wrapped))) return wrapped;
  return isIncident(payload) ? payload : undefined;
}

function isIncident(resource: Record<string, unknown>): boolean {
  if (!isRecord(resource.properties) || !Array.isArray(resource.properties.alerts)) return false;
  const type = str(resource.type)?.toLowerCase();
  return (
    type === "microsoft.securityinsights/incidents" || /\/providers\/microsoft\.securityinsights\/incidents\//i.test(str(resource.id) ?? "")
  );
}

/** True for a Sentinel incident trigger body (or the incident resource). */
export function isSentinelIncident(payload: Record<string, unknown>): boolean {
  return incidentResource(payload) !== undefined;
}

/** Every alert of the incident as a claim (at most {@link MAX_ALERTS_PER_INCIDENT}). */
export function sentinelIncidentClaims(payload: Record<string, unknown>): IncidentClaims {
  const incident = incidentResource(payload)!;
  const properties = incident.properties as Record<string, unknown>;
  const alerts = properties.alerts as unknown[];
  const number = typeof properties.incidentNumber === "number" ? String(properties.incidentNumber) : undefined;
  const name = echoName(str(incident.name) ?? number ?? "unnamed");
  const claims = alerts.slice(0, MAX_ALERTS_PER_INCIDENT).map((alert, index) => incidentAlertClaim(alert, index));
  return { incident: name, claims, notExamined: Math.max(0, alerts.length - MAX_ALERTS_PER_INCIDENT) };
}

function incidentAlertClaim(alert: unknown, index: number): IncidentAlertClaim {
  if (!isRecord(alert) || !isRecord(alert.properties)) {
    return {
      ref: `#${index}`,
      result: { ok: false, reason: "MalformedEvent", detail: "an incident alert that is not a SecurityAlert resource" },
    };
  }
  const p = alert.properties;
  const ref = echoName(str(p.systemAlertId) ?? str(alert.name) ?? `#${index}`);
  const product = str(p.productName);
  const id = portalAlertId(p.alertLink) ?? (isMdeProduct(product) ? str(p.providerAlertId) : undefined);
  if (!id) {
    const productName = product ? echoName(product) : "none";
    const detail = `an incident alert that names no MDE alert: no Defender portal alertLink, and productName ${productName}`;
    return { ref, result: { ok: false, reason: "NotAnMdeAlert", detail } };
  }
  const tactics = tacticsOf(p.tactics);
  const alertType = str(p.alertType);
  return {
    ref,
    result: claimOf(
      "sentinel",
      id,
      { claimedDevices: [], ...(tactics.length > 0 ? { tactics } : {}), ...(alertType ? { alertType } : {}) },
      "the incident alert",
    ),
  };
}
