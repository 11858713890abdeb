/**
 * The documented MDE live response limits, as named defaults. Every one of them is meant to be
 * overridable by a setting: Microsoft's pages disagree over time (revisions of the run-live-response
 * page give 25 or 50 sessions, and 3 days or 2 hours of queueing), and the product must detect the end
 * of the queue window from MDE's own `TimeOut` status rather than from these numbers alone.
 *
 * Sources, each page's "Limitations" section on Microsoft Learn:
 * - run-live-response: https://learn.microsoft.com/defender-endpoint/api/run-live-response
 * - get-live-response-result: https://learn.microsoft.com/defender-endpoint/api/get-live-response-result
 * - live response (the portal's limits, which likely govern the API too): https://learn.microsoft.com/defender-endpoint/live-response
 * - get-machineaction-object, get-machineactions-collection, cancel-machine-action, get-machines: the same base,
 *   e.g. https://learn.microsoft.com/defender-endpoint/api/get-machineactions-collection
 */

const MINUTE_IN_MS = 60_000;
const HOUR_IN_MS = 60 * MINUTE_IN_MS;

/** POST runliveresponse: 10 calls per minute, more answer 429 (run-live-response, "Limitations"). */
export const RUN_LIVE_RESPONSE_CALLS_PER_MINUTE = 10;

/**
 * Concurrently running live response sessions per tenant; more answer 429 (run-live-response, "Limitations").
 * Revisions of that page say 25 or 50; 25, the lower, is the default.
 */
export const MAX_CONCURRENT_LIVE_RESPONSE_SESSIONS = 25;

/**
 * How long a session for an offline device stays queued (run-live-response, "Limitations").
 * Revisions of that page say 3 days or 2 hours; 3 days is the default.
 */
export const LIVE_RESPONSE_QUEUE_WINDOW_IN_MS = 3 * 24 * HOUR_IN_MS;

/** RunScript times out after 10 minutes (run-live-response, "Limitations"; the portal gives most commands 10 minutes too). */
export const RUN_SCRIPT_TIMEOUT_IN_MS = 10 * MINUTE_IN_MS;

/** GetFile times out after 30 minutes (live-response, "Limitations": `getfile`, `findfile` and `run` have 30 minutes). */
export const GET_FILE_TIMEOUT_IN_MS = 30 * MINUTE_IN_MS;

/** GetFile collects files up to 3 GB (live-response, "Limitations": a portal limit that likely governs the API too). */
export const GET_FILE_MAX_BYTES = 3 * 1024 ** 3;

/** GetLiveResponseResultDownloadLink: 100 calls per minute (get-live-response-result, "Limitations"). */
export const DOWNLOAD_LINK_CALLS_PER_MINUTE = 100;

/** GetLiveResponseResultDownloadLink: 1,500 calls per hour (get-live-response-result, "Limitations"). */
export const DOWNLOAD_LINK_CALLS_PER_HOUR = 1_500;

/** A result download link (SAS) is valid for 30 minutes; asking again mints a new one (get-live-response-result, "Response"). */
export const DOWNLOAD_LINK_VALIDITY_IN_MS = 30 * MINUTE_IN_MS;

/** GET machineaction, list machineactions, cancel, list machines: 100 calls per minute each (each page's "Limitations"). */
export const MACHINE_ACTION_CALLS_PER_MINUTE = 100;

/** GET machineaction, list machineactions, cancel, list machines: 1,500 calls per hour each (each page's "Limitations"). */
export const MACHINE_ACTION_CALLS_PER_HOUR = 1_500;

/** Largest `$top` of GET /api/machineactions (get-machineactions-collection: "Maximum page size is 10,000"). */
export const MAX_LIST_TOP = 10_000;
