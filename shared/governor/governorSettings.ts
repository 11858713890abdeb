/**
 * The settings of the tenant-wide MDE rate governor (shared/governor): MDE's per-tenant limits, the
 * share of the read budgets left to other tools of the tenant, and whether it runs at all. Its state
 * lives in the collector's state container (COLLECTOR_STATE_CONTAINER, shared/stateStorageSettings.ts).
 *
 * Sources, each page's "Limitations" section on Microsoft Learn:
 * - run-live-response: https://learn.microsoft.com/defender-endpoint/api/run-live-response
 * - get-live-response-result: https://learn.microsoft.com/defender-endpoint/api/get-live-response-result
 * - get-machineaction-object, get-machineactions-collection, cancel-machine-action: the same base, e.g.
 *   https://learn.microsoft.com/defender-endpoint/api/get-machineactions-collection
 */
import type { SettingProblem } from "../errors";
import {
  DOWNLOAD_LINK_CALLS_PER_HOUR,
  DOWNLOAD_LINK_CALLS_PER_MINUTE,
  MAX_CONCURRENT_LIVE_RESPONSE_SESSIONS,
  RUN_LIVE_RESPONSE_CALLS_PER_MINUTE,
} from "../mde/limits";
import type { SettingsReader } from "../settingsReader";

/** What the governor enforces, per tenant. */
export interface GovernorSettings {
  /**
   * Whether the activities ask the governor before calling MDE (GOVERNOR_ENABLED). Turn it off only
   * when another tool of the tenant owns MDE's budget and paces every caller itself: each collection
   * then only honours MDE's own 429s, as before the governor. @default true
   */
  enabled: boolean;
  /**
   * Live response sessions running at once (MDE_MAX_SESSIONS). Microsoft's run-live-response page says
   * 50 concurrently running sessions in its current revision and 25 in older ones; only 25 or 50 are
   * accepted. @default 25, the lower, which is never wrong
   */
  maxSessions: 25 | 50;
  /**
   * POST runliveresponse calls in any 60-second window (MDE_SUBMISSIONS_PER_MINUTE). Every revision of
   * the page says 10 calls per minute. @default 10
   */
  submissionsPerMinute: number;
  /**
   * Calls per minute on each read endpoint: download link, get machine action, list machine actions,
   * cancel (MDE_READS_PER_MINUTE); each page says 100. @default 100
   */
  readsPerMinute: number;
  /** Calls per hour on each of those endpoints (MDE_READS_PER_HOUR); each page says 1,500. @default 1500 */
  readsPerHour: number;
  /**
   * A session slot is leased this long and renewed by each status poll (MDE_SESSION_LEASE_MINUTES):
   * a collection that stops (terminated, crashed) gives its slot back after this. Must be longer than
   * the slowest poll (COLLECTION_POLL_MAX_SECONDS). @default 20
   */
  sessionLeaseMs: number;
  /**
   * Percent of each read budget left unused for other tools of the tenant, which share MDE's limits
   * (GOVERNOR_HEADROOM_PERCENT, 0-90). Submissions and sessions have their own settings instead.
   * @default 10: 90 calls per minute and 1,350 per hour of MDE's 100 and 1,500
   */
  headroomPercent: number;
}

const MAX_HEADROOM_PERCENT = 90;
const DEFAULT_LEASE_MINUTES = 20;

/** What the governor's settings are checked against. */
export interface GovernorSettingsContext {
  /** COLLECTION_POLL_MAX_SECONDS: a lease must outlive the longest wait between two polls. */
  pollMaxDelayInMs: number;
}

/**
 * Reads GOVERNOR_ENABLED, MDE_MAX_SESSIONS, MDE_SUBMISSIONS_PER_MINUTE, MDE_READS_PER_*, MDE_SESSION_LEASE_MINUTES
 * and GOVERNOR_HEADROOM_PERCENT.
 */
export function readGovernorSettings(
  reader: SettingsReader,
  problems: SettingProblem[],
  context: GovernorSettingsContext,
): GovernorSettings {
  const sessions = reader.positiveInt("MDE_MAX_SESSIONS", MAX_CONCURRENT_LIVE_RESPONSE_SESSIONS);
  if (sessions !== 25 && sessions !== 50)
    problems.push({ setting: "MDE_MAX_SESSIONS", problem: "must be 25 or 50 (the values of Microsoft's run-live-response page)" });
  const readsPerMinute = reader.positiveInt("MDE_READS_PER_MINUTE", DOWNLOAD_LINK_CALLS_PER_MINUTE);
  const readsPerHour = reader.positiveInt("MDE_READS_PER_HOUR", DOWNLOAD_LINK_CALLS_PER_HOUR);
  if (readsPerHour < readsPerMinute)
    problems.push({ setting: "MDE_READS_PER_HOUR", problem: "must not be smaller than MDE_READS_PER_MINUTE" });
  const sessionLeaseMs = reader.positiveInt("MDE_SESSION_LEASE_MINUTES", DEFAULT_LEASE_MINUTES) * 60_000;
  if (sessionLeaseMs <= context.pollMaxDelayInMs)
    problems.push({
      setting: "MDE_SESSION_LEASE_MINUTES",
      problem: "must be longer than COLLECTION_POLL_MAX_SECONDS, or a collection still polling would lose its session slot",
    });
  return {
    enabled: reader.bool("GOVERNOR_ENABLED", true),
    maxSessions: sessions === 50 ? 50 : 25,
    submissionsPerMinute: reader.positiveInt("MDE_SUBMISSIONS_PER_MINUTE", RUN_LIVE_RESPONSE_CALLS_PER_MINUTE),
    readsPerMinute,
    readsPerHour,
    sessionLeaseMs,
    headroomPercent: headroomPercent(reader, problems),
  };
}

function headroomPercent(reader: SettingsReader, problems: SettingProblem[]): number {
  const value = reader.optional("GOVERNOR_HEADROOM_PERCENT");
  if (value === undefined) return 10;
  const n = Number(value);
  if (Number.isInteger(n) && n >= 0 && n <= MAX_HEADROOM_PERCENT) return n;
  problems.push({ setting: "GOVERNOR_HEADROOM_PERCENT", problem: `must be a whole number from 0 to ${MAX_HEADROOM_PERCENT}` });
  return 10;
}
