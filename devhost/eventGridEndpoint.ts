/**
 * The Event Grid extension's webhook, `/runtime/webhooks/EventGrid?functionName={name}`, as the
 * host serves it (Microsoft.Azure.WebJobs.Extensions.EventGrid, HttpRequestProcessor):
 * - `aeg-event-type: SubscriptionValidation`: answers `{ "validationResponse": <validationCode> }`
 *   (Event Grid schema: an array; CloudEvents: one event whose `data` may be JSON text);
 * - `aeg-event-type: Notification`: an array or one event, each dispatched to the function;
 *   202 when every invocation succeeded, else 500 (Event Grid then redelivers the whole batch);
 * - `aeg-event-type: Unsubscribe`: 202;
 * - CloudEvents without that header: `application/cloudevents+json` (one event) or
 *   `application/cloudevents-batch+json` (an array); the abuse-protection handshake is an
 *   `OPTIONS` with `WebHook-Request-Origin`, answered 200 with `WebHook-Allowed-Origin`.
 * Pure: {@link parseEventGridDelivery} decides, the local host reads the body (at most
 * {@link EVENT_GRID_MAX_BODY_BYTES}) and invokes.
 */

/** The path of the webhook (matched case-insensitively, as the host's routes are). */
export const EVENT_GRID_WEBHOOK_PATH = "/runtime/webhooks/EventGrid";

/**
 * Largest delivery the webhook reads (413 past it): Event Grid's own limit on an array of events,
 * 1 MB in total (https://learn.microsoft.com/azure/event-grid/event-schema), so nothing Event Grid
 * sends is refused and nothing larger is held in memory.
 */
export const EVENT_GRID_MAX_BODY_BYTES = 1024 * 1024;

/** What a delivery asks for. */
export type EventGridDelivery =
  { kind: "answer"; status: number; body?: unknown; headers?: Record<string, string> } | { kind: "events"; events: unknown[] };

/** The parts of the request the decision needs (header names lower-case). */
export interface EventGridRequest {
  method: string;
  headers: Record<string, string | undefined>;
  body: string;
}

const CLOUD_EVENT = "application/cloudevents+json";
const CLOUD_EVENT_BATCH = "application/cloudevents-batch+json";

function badRequest(message: string): EventGridDelivery {
  return { kind: "answer", status: 400, body: { error: message } };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function validationCodeOf(payload: unknown): string | undefined {
  const event = (Array.isArray(payload) ? payload[0] : payload) as { data?: unknown } | undefined;
  let data = event?.data;
  // CloudEvents carry the validation data double-encoded (a JSON string).
  if (typeof data === "string") {
    const parsed = parseJson(data);
    data = parsed.ok ? parsed.value : undefined;
  }
  const code = (data as { validationCode?: unknown } | undefined)?.validationCode;
  return typeof code === "string" ? code : undefined;
}

/** Decides what one request to the webhook means (see the module comment). */
export function parseEventGridDelivery(req: EventGridRequest): EventGridDelivery {
  if (req.method === "OPTIONS") {
    const origin = req.headers["webhook-request-origin"];
    if (!origin) return badRequest("An OPTIONS request must carry WebHook-Request-Origin (CloudEvents abuse protection)");
    return { kind: "answer", status: 200, headers: { "WebHook-Allowed-Origin": origin, "WebHook-Allowed-Rate": "*" } };
  }
  if (req.method !== "POST") return { kind: "answer", status: 405, headers: { Allow: "POST, OPTIONS" } };

  const eventType = req.headers["aeg-event-type"]?.trim().toLowerCase();
  const contentType = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  const isCloudEvents = contentType === CLOUD_EVENT || contentType === CLOUD_EVENT_BATCH;
  if (eventType === "unsubscribe") return { kind: "answer", status: 202 };
  if (eventType !== "subscriptionvalidation" && eventType !== "notification" && !(eventType === undefined && isCloudEvents)) {
    return badRequest("Expected the header aeg-event-type: Notification or SubscriptionValidation, or a CloudEvents content type");
  }

  const payload = parseJson(req.body);
  if (!payload.ok || typeof payload.value !== "object" || payload.value === null) {
    return badRequest("The request content should be a JSON object or array");
  }
  if (eventType === "subscriptionvalidation") {
    const code = validationCodeOf(payload.value);
    if (code === undefined) return badRequest("A SubscriptionValidation event must carry data.validationCode");
    return { kind: "answer", status: 200, body: { validationResponse: code } };
  }
  if (contentType === CLOUD_EVENT_BATCH && !Array.isArray(payload.value))
    return badRequest(`${CLOUD_EVENT_BATCH} content must be a JSON array`);
  return { kind: "events", events: Array.isArray(payload.value) ? payload.value : [payload.value] };
}
