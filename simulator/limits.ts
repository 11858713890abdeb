/**
 * Every MDE limit the simulator enforces, as a setting. Defaults are the seeds' values
 * (run-live-response.md "Limitations", get-live-response-result.md "Limitations"); where the
 * seeds are silent, /work/shared/notes/mde-api-facts.md ("Limits: make every number a setting").
 */
export interface SimulatorLimits {
  /** runliveresponse calls per minute. @default 10 (seed run-live-response, limitation 1) */
  runLiveResponsePerMinute: number;
  /** Live response sessions (Pending or InProgress actions) tenant-wide. @default 25 (seed, limitation 2; the current page says 50) */
  concurrentSessions: number;
  /** GetLiveResponseResultDownloadLink calls per minute. @default 100 (seed get-live-response-result) */
  downloadLinkPerMinute: number;
  /** GetLiveResponseResultDownloadLink calls per hour. @default 1500 (seed get-live-response-result) */
  downloadLinkPerHour: number;
  /** GET machineaction, list machineactions and cancel, each, per minute. @default 100 (mde-api-facts.md) */
  readPerMinute: number;
  /** The same endpoints, each, per hour. @default 1500 (mde-api-facts.md) */
  readPerHour: number;
  /** RunScript time-out. @default 10 minutes (seed, limitation 4) */
  runScriptTimeoutInMs: number;
  /** GetFile time-out. @default 30 minutes (mde-api-facts.md: portal limit "getfile/run time out after 30 minutes") */
  getFileTimeoutInMs: number;
  /** PutFile time-out. @default 10 minutes (mde-api-facts.md: "other commands after 10") */
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

/** An offline device's session is queued this long, then ends `TimeOut`. @default 3 days (seed, limitation 3; the current page says 2 hours) */
export const DEFAULT_QUEUE_WINDOW_IN_MS = 3 * DAY_IN_MS;

/** A download link is valid 30 minutes (seed get-live-response-result). */
export const DEFAULT_LINK_TTL_IN_MS = 30 * MINUTE_IN_MS;
