/**
 * The Event Grid trigger hands the function one event, in the Event Grid schema
 * (`{ id, eventType, subject, data, dataVersion, eventTime, topic }`) or the CloudEvents schema
 * (`{ id, type, source, subject, data, specversion, time }`). This module reads either, and reads
 * from it what it claims: which MDE alert it is about (a whole alert, or a Graph change notification
 * that only references one).
 */
import { echoName } from "../validation";
import { claimOf, type ClaimResult } from "./claim";
import { graphAlertClaim, isGraphAlert, parseGraphAlert } from "./graph";
import { isMdeAlert, mdeAlertClaim, parseMdeAlert } from "./mde";
import { isRecord, str, type AlertParse } from "./normalize";
import { isSentinelAlert, parseSentinelAlert, sentinelAlertClaim } from "./sentinel";
import { isSentinelIncident, sentinelIncidentClaims, type IncidentAlertClaim } from "./sentinelIncident";

export interface AlertEvent {
  schema: "eventGrid" | "cloudEvents";
  id: string;
  type: string;
  subject?: string;
  data: unknown;
}

/** Reads an Event Grid or CloudEvents event; `data` sent as a JSON string is parsed. */
export function parseEventEnvelope(event: unknown): { ok: true; event: AlertEvent } | { ok: false; reason: string } {
  if (!isRecord(event)) return { ok: false, reason: "the event is not a JSON object" };
  const id = str(event.id);
  const cloud = typeof event.specversion === "string";
  const type = str(cloud ? event.type : event.eventType);
  if (!id || !type) return { ok: false, reason: "not an Event Grid event (id, eventType) or a CloudEvent (id, type, specversion)" };
  let data = event.data;
  if (typeof data === "string") {
    try {
      data = JSON.parse(data) as unknown;
    } catch {
      return { ok: false, reason: "event data is a string that is not JSON" };
    }
  }
  return { ok: true, event: { schema: cloud ? "cloudEvents" : "eventGrid", id, type, subject: str(event.subject), data } };
}

const UNKNOWN_PAYLOAD = "event data is not a Graph security alert, an MDE alert or a Sentinel SecurityAlert row";

/** Graph change notifications about security alerts; every other `Microsoft.Graph.*` event (users, groups, mail...) is not one. */
const ALERT_NOTIFICATION_TYPE = /^Microsoft\.Graph\.Alert(Created|Updated)$/i;
/** A notification's `resource` naming a security alert, when a custom publisher forwards one under its own event type. */
const ALERT_RESOURCE = /^\/?security\/alerts(?:_v2)?\/([^/]+)$/i;

/**
 * What the event claims about an alert: its MDE alert id, and hints (shared/alerts/claim.ts). Costs
 * no I/O: a Graph change notification about anything but a security alert is refused here, before
 * any MDE call.
 */
export function alertClaimOf(event: AlertEvent): ClaimResult {
  const data = isRecord(event.data) ? event.data : {};
  const isGraphEvent = /^Microsoft\.Graph\./i.test(event.type);
  const isNotification = isGraphEvent || (isRecord(data.resourceData) && typeof data.changeType === "string");
  if (!isNotification) return claimFromPayload(event.data);
  const resourceAlertId = ALERT_RESOURCE.exec(str(data.resource) ?? "")?.[1];
  const aboutAlert = ALERT_NOTIFICATION_TYPE.test(event.type) || (!isGraphEvent && resourceAlertId !== undefined);
  if (!aboutAlert) {
    const detail = `a change notification that is not about a security alert (type ${echoName(event.type)})`;
    return { ok: false, reason: "NotAnAlert", detail };
  }
  const fromResourceData = isRecord(data.resourceData) ? str(data.resourceData.id) : undefined;
  const fromResource = resourceAlertId ?? str(data.resource)?.split("/").pop();
  const fromSubject = event.subject ? /^alerts?\/([^/]+)$/i.exec(event.subject)?.[1] : undefined;
  const what = "the Graph alert notification (resourceData.id, resource or subject Alert/<id>)";
  return claimOf("graph", fromResourceData ?? fromResource ?? fromSubject, { claimedDevices: [] }, what);
}

/** What a payload claims: one claim per alert it names (a Sentinel incident names several). */
export type PayloadClaims =
  | { ok: true; kind: "sentinelIncident" | "alert"; claims: IncidentAlertClaim[]; notExamined: number }
  | { ok: false; reason: "MalformedEvent"; detail: string };

/**
 * The claims of a payload posted whole (to the webhook, or as Event Grid data): a Sentinel incident
 * (one claim per alert, shared/alerts/sentinelIncident.ts), or one alert (Sentinel, Graph or MDE).
 * Costs no I/O.
 */
export function claimsFromPayload(payload: unknown): PayloadClaims {
  if (isRecord(payload) && isSentinelIncident(payload)) return { ok: true, kind: "sentinelIncident", ...sentinelIncidentClaims(payload) };
  const single = claimFromPayload(payload);
  if (!single.ok && single.reason === "MalformedEvent") return { ok: false, reason: "MalformedEvent", detail: single.detail };
  const ref = single.ok ? single.claim.mdeAlertId : "alert";
  return { ok: true, kind: "alert", claims: [{ ref, result: single }], notExamined: 0 };
}

/**
 * Every claim of an event: the one alert a notification or an alert payload names, or each alert
 * of a Sentinel incident.
 */
export function alertClaimsOf(event: AlertEvent): PayloadClaims {
  if (isRecord(event.data) && isSentinelIncident(event.data)) return claimsFromPayload(event.data);
  const single = alertClaimOf(event);
  if (!single.ok && single.reason === "MalformedEvent") return { ok: false, reason: "MalformedEvent", detail: single.detail };
  return { ok: true, kind: "alert", claims: [{ ref: single.ok ? single.claim.mdeAlertId : event.id, result: single }], notExamined: 0 };
}

/** The claim of an alert the event carries whole (Graph, MDE or Sentinel). */
function claimFromPayload(payload: unknown): ClaimResult {
  if (!isRecord(payload)) return { ok: false, reason: "MalformedEvent", detail: "event data is not a JSON object" };
  if (isSentinelAlert(payload)) return sentinelAlertClaim(payload);
  if (isGraphAlert(payload)) return graphAlertClaim(payload);
  if (isMdeAlert(payload)) return mdeAlertClaim(payload);
  return { ok: false, reason: "MalformedEvent", detail: UNKNOWN_PAYLOAD };
}

/** Recognizes the payload's source by its shape and parses it as published (never acted upon: see claim.ts). */
export function parseAlertPayload(payload: unknown): AlertParse {
  if (!isRecord(payload)) return { ok: false, reason: "event data is not a JSON object" };
  if (isSentinelAlert(payload)) return parseSentinelAlert(payload);
  if (isGraphAlert(payload)) return parseGraphAlert(payload);
  if (isMdeAlert(payload)) return parseMdeAlert(payload);
  return { ok: false, reason: UNKNOWN_PAYLOAD };
}
