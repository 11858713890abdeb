/**
 * Every MDE limit the simulator enforces, as a setting. Defaults are the numbers of Microsoft's API pages
 * ("Limitations" of https://learn.microsoft.com/defender-endpoint/api/run-live-response, .../get-live-response-result,
 * .../get-machineaction-object, .../get-machineactions-collection, .../cancel-machine-action); command time-outs the
 * API pages leave out come from the portal's https://learn.microsoft.com/defender-endpoint/live-response ("Limitations").
 * The product's own defaults and their sources are in shared/mde/limits.ts.
 */
export interface SimulatorLimits {
  /** runliveresponse calls per minute. @default 10 (run-live-response, "Limitations") */
  runLiveResponsePerMinute: number;
  /** Live response sessions (Pending or InProgress actions) tenant-wide. @default 25 (run-live-response; later revisions say 50) */
  concurrentSessions: number;
  /** GetLiveResponseResultDownloadLink calls per minute. @default 100 (get-live-response-result, "Limitations") */
  downloadLinkPerMinute: number;
  /** GetLiveResponseResultDownloadLink calls per hour. @default 1500 (get-live-response-result, "Limitations") */
  downloadLinkPerHour: number;
  /** GET machineaction, list machineactions and cancel, each, per minute. @default 100 (each page's "Limitations") */
  readPerMinute: number;
  /** The same endpoints, each, per hour. @default 1500 (each page's "Limitations") */
  readPerHour: number;
  /** RunScript time-out. @default 10 minutes (run-live-response, "Limitations") */
  runScriptTimeoutInMs: number;
  /** GetFile time-out. @default 30 minutes (live-response, "Limitations": `getfile`, `findfile` and `run` have 30 minutes) */
  getFileTimeoutInMs: number;
  /** PutFile time-out. @default 10 minutes (live-response, "Limitations": other commands have 10 minutes) */
  putFileTimeoutInMs: number;
}

export const MINUTE_IN_MS = 60_000;
export const HOUR_IN_MS = 60 * MINUTE_IN_MS;
export const DAY_IN_MS = 24 * HOUR_IN_MS;

export const DEFAULT_LIMITS: Readonly<SimulatorLimits> = Object.freeze({
  runLiveResponsePerMinute: 10,
  concurrentSessions: 25,
  downloadLinkPerMinute: 100,
  downloadLinkPerHour: 1500,
  readPerMinute: 100,
  readPerHour: 1500,
  runScriptTimeoutInMs: 10 * MINUTE_IN_MS,
  getFileTimeoutInMs: 30 * MINUTE_IN_MS,
  putFileTimeoutInMs: 10 * MINUTE_IN_MS,
});

/** An offline device's session is queued this long, then ends `TimeOut`. @default 3 days (run-live-response; later revisions: 2 hours) */
export const DEFAULT_QUEUE_WINDOW_IN_MS = 3 * DAY_IN_MS;

/** A download link is valid 30 minutes (https://learn.microsoft.com/defender-endpoint/api/get-live-response-result, "Response"). */
export const DEFAULT_LINK_TTL_IN_MS = 30 * MINUTE_IN_MS;
