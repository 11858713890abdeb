/**
 * What an alert event CLAIMS, as opposed to what the alert IS. Anyone who can post to the Event Grid
 * endpoint can write any device and any file path into an event, so the collector never acts on an
 * event's content: it reads from the event only the id MDE knows the alert by, fetches the alert
 * from MDE (`GET /api/alerts/{id}?$expand=evidence`) and takes devices, files, severity, title and
 * category from MDE's answer alone.
 *
 * Which field holds the MDE alert id, per payload kind:
 * - MDE API alert: `id`.
 * - Graph alerts_v2: `providerAlertId`, "the ID of the alert as it appears in the security provider
 *   product that generated the alert" (learn.microsoft.com/graph/api/resources/security-alert); for a
 *   Defender for Endpoint alert (`serviceSource` microsoftDefenderForEndpoint) that is the MDE id,
 *   equal to Graph's own `id` in Microsoft's example. Alerts of other products are not in MDE.
 * - Sentinel SecurityAlert row: the alert id in `AlertLink` (the Defender portal's link,
 *   `https://security.microsoft.com/alerts/<id>`), else `VendorOriginalId` (the table's "original ID
 *   of the alert from the vendor", learn.microsoft.com/azure/azure-monitor/reference/tables/securityalert)
 *   or `ProviderAlertId` (the same value in the Sentinel Logic Apps alert schema) when the row comes
 *   from Defender for Endpoint (`ProviderName` MDATP, or its `ProductName`). The link goes first: rows
 *   have been published whose VendorOriginalId lacks the `da` prefix the portal link and the MDE API carry.
 *   `SystemAlertId` is Sentinel's own id and never reaches MDE.
 * - Graph change notification (`Microsoft.Graph.AlertCreated`/`AlertUpdated`): `resourceData.id`,
 *   `resource` or `subject: Alert/<id>`.
 */
import type { AlertSource, NormalizedAlert } from "./normalize";

/** Why an event was dropped: a constant to query logs by; `detail` says more. */
export type AlertDropReason =
  /** Not an event, data that is not JSON, or a payload of no known kind. */
  | "MalformedEvent"
  /** A Graph change notification about something other than a security alert. */
  | "NotAnAlert"
  /** The event names no MDE alert (another product's alert, or no usable id). */
  | "NotAnMdeAlert"
  /** MDE says the alert does not exist (404, or 400 for the id). */
  | "AlertNotFound"
  /** MDE refused the read (401/403): the app lacks Alert.Read.All. */
  | "AccessDenied"
  /** MDE stayed throttled or unavailable (429, 5xx, network) past the retry budget. */
  | "SourceUnavailable"
  /** MDE answered something that is not the alert asked for. */
  | "UnexpectedAlert"
  /** MDE's alert names no device. */
  | "NoDevice"
  /** A Sentinel incident's alerts past the number examined per incident (shared/alerts/sentinelIncident.ts). */
  | "TooManyAlerts";

/** What an event says about an alert: only `mdeAlertId` is used to act, and only to fetch the alert. */
export interface AlertClaim {
  /** The publisher's kind (rule condition `sources`); a Graph change notification counts as `graph`. */
  source: AlertSource;
  /** The id MDE knows the alert by. */
  mdeAlertId: string;
  /** Devices the event names: a hint for the duplicate check before the fetch, never a target. */
  claimedDevices: string[];
  /**
   * Sentinel's own descriptors (`Tactics`, `AlertType`, `ProviderName`), which MDE's alert does not
   * carry: they can choose among the configured rules, never a device or a file.
   */
  tactics?: string[];
  alertType?: string;
  providerName?: string;
}

export type ClaimResult = { ok: true; claim: AlertClaim } | { ok: false; reason: AlertDropReason; detail: string };

/** Alert ids in MDE (`da637578995287051192_756343937`, `da<guid>_1`, negative suffixes) all fit this. */
export const MDE_ALERT_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** A claim whose id was checked, or the reason it has none. */
export function claimOf(
  source: AlertSource,
  mdeAlertId: string | undefined,
  rest: Omit<AlertClaim, "source" | "mdeAlertId">,
  what: string,
): ClaimResult {
  if (!mdeAlertId || !MDE_ALERT_ID_PATTERN.test(mdeAlertId)) {
    return { ok: false, reason: "NotAnMdeAlert", detail: `${what} carries no usable MDE alert id` };
  }
  return { ok: true, claim: { source, mdeAlertId, ...rest } };
}

/**
 * The alert the collector acts on: MDE's answer (devices, files, severity, title, category), with
 * the publisher's kind and Sentinel's descriptors from the claim for the rules to match.
 */
export function alertToActOn(fromMde: NormalizedAlert, claim: AlertClaim): NormalizedAlert {
  const { tactics, alertType, providerName } = claim;
  return {
    ...fromMde,
    source: claim.source,
    ...(tactics ? { tactics } : {}),
    ...(alertType ? { alertType } : {}),
    ...(providerName ? { providerName } : {}),
  };
}
