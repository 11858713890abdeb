import { alertReference, parseAlertPayload, type AlertEvent } from "../shared/alerts/event";
import type { AlertParse } from "../shared/alerts/normalize";
import { errorMessage, MdeApiError } from "../shared/errors";
import type { Logger } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";

/**
 * The alert the event carries, or fetches it when the event only references one (a Graph change
 * notification). Fetching here rather than in an activity keeps it simple: a trigger may do I/O.
 * @returns undefined when MDE answered 404 or 400 for the id (logged and dropped)
 * @throws on any other failure (429, 5xx, network, 401/403), so Event Grid redelivers the event
 */
export async function alertOf(event: AlertEvent, mde: MdeApi, log: Logger): Promise<AlertParse | undefined> {
  const reference = alertReference(event);
  if (!reference) return parseAlertPayload(event.data);
  if ("invalid" in reference) return { ok: false, reason: reference.invalid };
  try {
    return parseAlertPayload(await mde.getAlert(reference.id));
  } catch (e) {
    const status = e instanceof MdeApiError ? e.statusCode : undefined;
    // An unknown or malformed id will never resolve: drop it. Anything else (429, 5xx, network,
    // 401/403 while Alert.Read.All is missing) may heal: let Event Grid redeliver, then dead-letter.
    if (status === 404 || status === 400) {
      log.warn("alert event dropped", {
        eventId: event.id,
        alertId: reference.id,
        reason: `MDE refused to return the alert: ${status} ${(e as MdeApiError).code}`,
      });
      return undefined;
    }
    log.error("alert fetch failed; Event Grid will redeliver", { eventId: event.id, alertId: reference.id, error: errorMessage(e) });
    throw e;
  }
}
