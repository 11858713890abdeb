/**
 * The documented MDE live response limits, as named defaults. Every one of them is meant to be
 * overridable by a setting: Microsoft's pages disagree over time (see the notes on sessions and
 * the queue window), and the product must detect the end of the queue window from MDE's own
 * `TimeOut` status rather than from these numbers alone.
 *
 * Sources: "seed 001" is run-live-response.md (shared/seeds/001_*), "seed 002/003" is
 * get-live-response-result.md (shared/seeds/002_*, 003_*), "notes" is shared/notes/mde-api-facts.md.
 */

const MINUTE_IN_MS = 60_000;
const HOUR_IN_MS = 60 * MINUTE_IN_MS;

/** POST runliveresponse: 10 calls per minute, more answer 429 (seed 001, Limitations 1). */
export const RUN_LIVE_RESPONSE_CALLS_PER_MINUTE = 10;

/**
 * Concurrently running live response sessions per tenant; more answer 429 (seed 001, Limitations 2).
 * Microsoft's current page (2025-12) says 50 (notes); the seed's 25 is the default.
 */
export const MAX_CONCURRENT_LIVE_RESPONSE_SESSIONS = 25;

/**
 * How long a session for an offline device stays queued: 3 days (seed 001, Limitations 3).
 * Microsoft's current page says 2 hours (notes); the seed's value is the default.
 */
export const LIVE_RESPONSE_QUEUE_WINDOW_IN_MS = 3 * 24 * HOUR_IN_MS;

/** RunScript times out after 10 minutes (seed 001, Limitations 4; notes: "other commands after 10"). */
export const RUN_SCRIPT_TIMEOUT_IN_MS = 10 * MINUTE_IN_MS;

/** GetFile times out after 30 minutes (notes, portal limits). */
export const GET_FILE_TIMEOUT_IN_MS = 30 * MINUTE_IN_MS;

/** GetFile collects files up to 3 GB (notes, portal limits that likely govern the API too). */
export const GET_FILE_MAX_BYTES = 3 * 1024 ** 3;

/** GetLiveResponseResultDownloadLink: 100 calls per minute (seed 002/003). */
export const DOWNLOAD_LINK_CALLS_PER_MINUTE = 100;

/** GetLiveResponseResultDownloadLink: 1,500 calls per hour (seed 002/003). */
export const DOWNLOAD_LINK_CALLS_PER_HOUR = 1_500;

/** A result download link (SAS) is valid for 30 minutes; asking again mints a new one (seed 002/003). */
export const DOWNLOAD_LINK_VALIDITY_IN_MS = 30 * MINUTE_IN_MS;

/** GET machineaction, list machineactions, cancel, list machines: 100 calls per minute each (notes). */
export const MACHINE_ACTION_CALLS_PER_MINUTE = 100;

/** GET machineaction, list machineactions, cancel, list machines: 1,500 calls per hour each (notes). */
export const MACHINE_ACTION_CALLS_PER_HOUR = 1_500;

/** Largest `$top` of GET /api/machineactions (notes). */
export const MAX_LIST_TOP = 10_000;
