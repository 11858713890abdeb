/**
 * One round of the action poller, as pure decisions: whether a round is due, the OData filter that
 * reads every unfinished watched action in one call per page, the next round's time, which entries
 * are done with, and whether a copy still stands for a read of MDE. The list call is
 * `GET /api/machineactions?$filter=id in (...)`
 * (https://learn.microsoft.com/defender-endpoint/api/get-machineactions-collection: `$filter` on id,
 * status, machineId, type, requestor and creationDateTimeUtc).
 */
import type { CollectionSettings } from "../config";
import {
  ACTION_POLL_MAX_PAGES,
  ACTION_POLL_PAGE_SIZE,
  FINAL_WATCH_ENTRY_RETENTION_IN_MS,
  nextPollRoundGapInMs,
  watchFreshnessGraceInMs,
} from "../timing";
import type { PollSchedule, WatchEntry } from "./watchStore";

type PollTiming = Pick<CollectionSettings, "pollMaxDelayInMs" | "actionPollIntervalInMs">;

/** Machine action ids are GUIDs; nothing else is ever put inside the filter. */
const ACTION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isActionId(value: string): boolean {
  return ACTION_ID.test(value);
}

/** What a round does with the watch list. */
export interface RoundPlan {
  /** Pages of entries to read, one list call each (empty: no round is due). */
  pages: WatchEntry[][];
  /** Entries to remove: final and kept past their retention, or not an action id. */
  expired: WatchEntry[];
  /** When a round is due next if none runs now (ms since epoch; Infinity: nothing to watch). */
  dueAtMs: number;
}

/** An entry written since the last round (a new submission, a collection's own read): due one interval after it was read. */
function isNew(entry: WatchEntry, schedule: PollSchedule | undefined): boolean {
  return schedule === undefined || entry.readAtMs > schedule.roundAtMs;
}

/**
 * A round is due at the schedule's next round, or one interval after an entry written since the
 * last round; it then reads every unfinished entry: an id more in a page costs nothing, and one
 * round serves the whole tenant.
 */
export function planRound(entries: WatchEntry[], schedule: PollSchedule | undefined, nowMs: number, timing: PollTiming): RoundPlan {
  const expired = entries.filter((e) => !isActionId(e.actionId) || (e.final && nowMs - e.readAtMs >= FINAL_WATCH_ENTRY_RETENTION_IN_MS));
  const open = entries.filter((e) => !e.final && isActionId(e.actionId));
  const finals = entries.filter((e) => e.final && !expired.includes(e)).map((e) => e.readAtMs + FINAL_WATCH_ENTRY_RETENTION_IN_MS);
  const newDue = open.filter((e) => isNew(e, schedule)).map((e) => e.readAtMs + timing.actionPollIntervalInMs);
  const roundDue = open.length > 0 ? Math.min(schedule?.nextRoundAtMs ?? nowMs, ...newDue) : Infinity;
  const dueAtMs = Math.min(roundDue, ...finals);
  if (roundDue > nowMs) return { pages: [], expired, dueAtMs };
  const pages: WatchEntry[][] = [];
  for (let i = 0; i < open.length && pages.length < ACTION_POLL_MAX_PAGES; i += ACTION_POLL_PAGE_SIZE) {
    pages.push(open.slice(i, i + ACTION_POLL_PAGE_SIZE));
  }
  return { pages, expired, dueAtMs };
}

/** The list call's filter for one page (ids checked by {@link planRound}). */
export function pageFilter(page: WatchEntry[]): string {
  return `id in (${page.map((e) => `'${e.actionId}'`).join(",")})`;
}

/** The schedule after a complete round at `nowMs` (see {@link nextPollRoundGapInMs}). */
export function nextSchedule(
  previous: PollSchedule | undefined,
  round: { changed: boolean; running: boolean; hadNew: boolean },
  nowMs: number,
  timing: PollTiming,
): PollSchedule {
  const busy = round.changed || round.running || round.hadNew;
  const gapMs = nextPollRoundGapInMs(timing, busy, previous?.gapMs);
  return { roundAtMs: nowMs, nextRoundAtMs: nowMs + gapMs, gapMs };
}

/** Whether any entry of the round was written since the last one. */
export function hadNewEntries(entries: WatchEntry[], schedule: PollSchedule | undefined): boolean {
  return entries.some((e) => !e.final && isNew(e, schedule));
}

/**
 * A watched copy may stand for a read of MDE while the poller keeps its promise: read (or confirmed
 * unchanged by a complete round) no longer ago than the next round plus a grace of two intervals.
 * A final action never changes again, so its copy stands for good.
 */
export function isFresh(entry: WatchEntry, schedule: PollSchedule | undefined, nowMs: number, pollIntervalInMs: number): boolean {
  if (entry.final) return true;
  const grace = watchFreshnessGraceInMs(pollIntervalInMs);
  if (nowMs <= entry.readAtMs + pollIntervalInMs + grace) return true;
  return schedule !== undefined && schedule.roundAtMs >= entry.readAtMs && nowMs <= schedule.nextRoundAtMs + grace;
}
