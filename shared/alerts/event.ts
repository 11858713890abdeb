/**
 * The Event Grid trigger hands the function one event, in the Event Grid schema
 * (`{ id, eventType, subject, data, dataVersion, eventTime, topic }`) or the CloudEvents schema
 * (`{ id, type, source, subject, data, specversion, time }`). This module reads either, tells a
 * full alert from a Graph change notification that only references one, and picks the parser.
 */
import { isGraphAlert, parseGraphAlert } from "./graph";
import { isMdeAlert, parseMdeAlert } from "./mde";
import { isRecord, str, type AlertParse } from "./normalize";
import { isSentinelAlert, parseSentinelAlert } from "./sentinel";

export interface AlertEvent {
  schema: "eventGrid" | "cloudEvents";
  id: string;
  type: string;
  subject?: string;
  data: unknown;
}

/** Alert ids in Graph, MDE (`da637578995287051192_756343937`) and Sentinel (GUID) all fit this. */
const ALERT_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

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

/**
 * The alert id when the event is a Graph change notification (`Microsoft.Graph.AlertCreated`,
 * `subject: Alert/<id>`, data `{ resource, resourceData: { id } }`) that only references the
 * alert; undefined when the event carries the alert itself.
 */
export function alertReference(event: AlertEvent): { id: string } | { invalid: string } | undefined {
  const data = isRecord(event.data) ? event.data : {};
  const isNotification = /^Microsoft\.Graph\.Alert/i.test(event.type) || (isRecord(data.resourceData) && typeof data.changeType === "string");
  if (!isNotification) return undefined;
  const fromResourceData = isRecord(data.resourceData) ? str(data.resourceData.id) : undefined;
  const fromResource = str(data.resource)?.split("/").pop();
  const fromSubject = event.subject ? /^alerts?\/([^/]+)$/i.exec(event.subject)?.[1] : undefined;
  const id = fromResourceData ?? fromResource ?? fromSubject;
  if (!id || !ALERT_ID.test(id)) return { invalid: "Graph alert notification without a usable alert id (resourceData.id, resource or subject Alert/<id>)" };
  return { id };
}

/** Recognizes the payload's source by its shape and parses it. */
export function parseAlertPayload(payload: unknown): AlertParse {
  if (!isRecord(payload)) return { ok: false, reason: "event data is not a JSON object" };
  if (isSentinelAlert(payload)) return parseSentinelAlert(payload);
  if (isGraphAlert(payload)) return parseGraphAlert(payload);
  if (isMdeAlert(payload)) return parseMdeAlert(payload);
  return { ok: false, reason: "event data is not a Graph security alert, an MDE alert or a Sentinel SecurityAlert row" };
}
