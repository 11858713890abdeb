/**
 * Every delay the collection waits and every wait-or-give-up decision it takes, as pure functions:
 * the trigger turns settings into a {@link CollectionPolicy} once, and the orchestrator asks these
 * functions what to do next. Nothing here reads a clock: time comes in as arguments (the
 * orchestrator passes `context.df.currentUtcDateTime`), so every answer replays the same.
 */
import type { CollectionSettings } from "./config";
import type { CollectionPolicy, CollectionProgress } from "./contract";

const SECOND_IN_MS = 1_000;
const MINUTE_IN_MS = 60 * SECOND_IN_MS;

/**
 * Used when MDE answers 429 without a Retry-After header. MDE's API limits are counted per minute
 * (https://learn.microsoft.com/defender-endpoint/api/run-live-response#limitations), so one
 * minute is the longest a throttled call must wait.
 */
export const THROTTLE_FALLBACK_DELAY_IN_MS = MINUTE_IN_MS;

/** A durable timer never fires sooner than this, so a misconfigured policy cannot spin. */
export const MIN_DELAY_IN_MS = SECOND_IN_MS;

/** Once the device runs the commands, results come within minutes: poll at least this often. */
export const IN_PROGRESS_MAX_POLL_DELAY_IN_MS = MINUTE_IN_MS;

/** Doubling stops here; any realistic cap is reached long before, and 2^30 keeps the product finite. */
const MAX_BACKOFF_EXPONENT = 30;

/** A busy device's backoff stops doubling after this many tries in a row (5 min * 2^10 is days). */
const MAX_BUSY_BACKOFF_EXPONENT = 10;

/**
 * How the Durable runtime retries a failing activity (MDE 5xx, network, storage) before the
 * orchestrator sees the failure: 4 attempts, 5 s then doubling, at most 60 s apart.
 */
export const ACTIVITY_RETRY = {
  firstRetryIntervalInMs: 5 * SECOND_IN_MS,
  maxNumberOfAttempts: 4,
  backoffCoefficient: 2,
  maxRetryIntervalInMs: MINUTE_IN_MS,
};

/**
 * Rounds of activity retries that may fail in a row (MDE 5xx or unreachable, storage down) before
 * the collection gives up; between rounds it waits on a durable timer, 1, 2, 4, 8, 16 and 32 min,
 * so an outage of about an hour is ridden out. The same bound caps throttled cancel requests and
 * the throttled collection rounds after a cancel.
 */
export const MAX_FAILED_ROUNDS = 7;

/** The wait after the first failed round; it doubles after each further one. */
export const FAILED_ROUND_DELAY_IN_MS = MINUTE_IN_MS;

/**
 * A result whose copy keeps failing (or whose source keeps changing) after this many rounds is
 * recorded as an error, not retried forever: the rest of the evidence and the manifest still land.
 */
export const MAX_COLLECT_ROUNDS = 3;

/**
 * Waits per execution before continueAsNew. Each wait costs about 10 history events (timer, event
 * wait, activity, episode markers), so no execution's history exceeds a few hundred events however
 * long the device stays offline.
 */
export const MAX_WAITS_PER_EXECUTION = 20;

/**
 * A lost submission is looked for among actions created from this long before the collection
 * started: MDE stamps `creationDateTimeUtc` with its own clock, which may run behind ours.
 */
export const SUBMISSION_LOOKBACK_IN_MS = 5 * MINUTE_IN_MS;

/** What to do after a failed or throttled round: wait and try again, or give up. */
export type RetryDecision = { retry: true; delayInMs: number } | { retry: false };

/**
 * The timing an orchestration follows, from the settings, when its trigger starts it. The deadline
 * covers MDE's queue window, the commands' own time limit and a margin, counted from `startAfter`
 * when the collection waits before its first submission.
 */
export function buildCollectionPolicy(settings: CollectionSettings, now: Date, startAfter?: Date): CollectionPolicy {
  const start = startAfter && startAfter > now ? startAfter : now;
  const actionWindowInMs = settings.queueWindowInMs + settings.commandTimeoutInMs + settings.deadlineMarginInMs;
  return {
    ...(start !== now ? { startAfter: start.toISOString() } : {}),
    deadline: new Date(start.getTime() + actionWindowInMs).toISOString(),
    actionWindowInMs,
    pollInitialDelayInMs: settings.pollInitialDelayInMs,
    pollMaxDelayInMs: settings.pollMaxDelayInMs,
    busyRetryDelayInMs: settings.busyRetryDelayInMs,
    throttleDelayInMs: THROTTLE_FALLBACK_DELAY_IN_MS,
    watched: true,
  };
}

/** How long a staggered start still waits before its first submission; undefined when it may submit now. */
export function startDelayInMs(policy: CollectionPolicy, now: Date): number | undefined {
  if (!policy.startAfter) return undefined;
  const delayInMs = new Date(policy.startAfter).getTime() - now.getTime();
  return delayInMs > 0 ? delayInMs : undefined;
}

/** The submission deadline, or the accepted action's own once MDE took it. */
export function deadlineOf(policy: CollectionPolicy, progress: CollectionProgress): Date {
  return new Date(progress.actionDeadline ?? policy.deadline);
}

/**
 * The accepted action's own deadline (ISO 8601), so time spent waiting for a busy device does not eat
 * MDE's queue window. A watched collection (policy.watched) gets it only after its device was busy:
 * time spent queued for one of the tenant's session slots does count, so a device that never comes
 * online ends at the request's deadline instead of holding a slot for a whole queue window more.
 * Undefined: the policy's deadline stands.
 */
export function actionDeadlineOf(policy: CollectionPolicy, acceptedAt: Date, deviceWasBusy = false): string | undefined {
  if (policy.watched && !deviceWasBusy) return undefined;
  return policy.actionWindowInMs ? new Date(acceptedAt.getTime() + policy.actionWindowInMs).toISOString() : undefined;
}

/** Only actions created after this (ISO 8601) can be this collection's (see {@link SUBMISSION_LOOKBACK_IN_MS}). */
export function submissionsNotBefore(startedAt: string): string {
  return new Date(new Date(startedAt).getTime() - SUBMISSION_LOOKBACK_IN_MS).toISOString();
}

/**
 * How long to wait before the next status check.
 * Backoff doubles from the initial delay for each poll that saw the same status: a device that comes
 * online is noticed quickly, and one offline for three days costs a few hundred polls, not thousands.
 * While the action is InProgress the cap is lower because results are imminent.
 */
export function nextPollDelayInMs(policy: CollectionPolicy, actionStatus: string, pollsInStatus: number): number {
  const inProgressCap = Math.max(IN_PROGRESS_MAX_POLL_DELAY_IN_MS, policy.pollInitialDelayInMs);
  const cap = actionStatus === "InProgress" ? Math.min(policy.pollMaxDelayInMs, inProgressCap) : policy.pollMaxDelayInMs;
  const exponent = Math.min(pollsInStatus, MAX_BACKOFF_EXPONENT);
  return Math.max(MIN_DELAY_IN_MS, Math.min(cap, policy.pollInitialDelayInMs * 2 ** exponent));
}

/**
 * How long to wait before submitting again to a device busy with another live response session
 * (MDE allows one per device). Backs off like polling, so days of a busy device cost a few hundred calls.
 * @param busyStreak - earlier submissions in a row that found the device busy (0 for the first)
 */
export function busyRetryDelayInMs(policy: CollectionPolicy, busyStreak: number): number {
  const cap = Math.max(policy.busyRetryDelayInMs, policy.pollMaxDelayInMs);
  return Math.min(cap, policy.busyRetryDelayInMs * 2 ** Math.min(busyStreak, MAX_BUSY_BACKOFF_EXPONENT));
}

/** How long to wait after MDE answered 429: as MDE asked, else the policy's fallback. */
export function throttleDelayInMs(policy: CollectionPolicy, retryAfterInMs: number | undefined): number {
  return retryAfterInMs ?? policy.throttleDelayInMs;
}

/** Never sleep past the deadline (the last check happens at the deadline itself), and never less than {@link MIN_DELAY_IN_MS}. */
export function clampToDeadline(delayInMs: number, now: Date, deadline: Date): number {
  return Math.max(MIN_DELAY_IN_MS, Math.min(delayInMs, deadline.getTime() - now.getTime()));
}

/** When the next check happens: after `delayInMs`, clamped to the deadline. */
export function nextCheckAt(now: Date, delayInMs: number, deadline: Date): Date {
  return new Date(now.getTime() + clampToDeadline(delayInMs, now, deadline));
}

/**
 * After round `round` (1-based) of activity retries failed as a whole: wait longer each time, and
 * give up at {@link MAX_FAILED_ROUNDS}. Used for MDE calls and for the manifest write alike.
 */
export function afterFailedRound(round: number): RetryDecision {
  if (round >= MAX_FAILED_ROUNDS) return { retry: false };
  return { retry: true, delayInMs: FAILED_ROUND_DELAY_IN_MS * 2 ** (round - 1) };
}

/** After cancel request `round` (1-based) was throttled: wait as MDE asked, a bounded number of times. */
export function afterThrottledCancel(policy: CollectionPolicy, round: number, retryAfterInMs: number | undefined): RetryDecision {
  if (round >= MAX_FAILED_ROUNDS) return { retry: false };
  return { retry: true, delayInMs: throttleDelayInMs(policy, retryAfterInMs) };
}

/** After a cancel, collection round `round` (1-based) was throttled and waited out: whether another round may follow. */
export function collectAgainAfterCancel(round: number): boolean {
  return round < MAX_FAILED_ROUNDS;
}

/** Whether a result whose copy failed `failedRounds` times (so far, this one included) is tried again at a later poll. */
export function collectAgain(failedRounds: number): boolean {
  return failedRounds < MAX_COLLECT_ROUNDS;
}

/** Whether this execution, after `waits` waits, hands over to a fresh one (continueAsNew) to keep its history small. */
export function startFreshExecution(waits: number): boolean {
  return waits >= MAX_WAITS_PER_EXECUTION;
}

// ---- Batched status polling (functions/actionPoller.ts)

/**
 * The action poller's timer (ACTION_POLL_INTERVAL_SECONDS, 30 seconds by default, a divisor of a
 * minute) as six NCRONTAB fields, seconds first. Each round reads every watched action with one list
 * call per 50 actions, so a result is seen within about an interval of the device finishing a
 * command, however many collections wait.
 */
export function actionPollSchedule(intervalInMs: number): string {
  const seconds = Math.round(intervalInMs / SECOND_IN_MS);
  return seconds >= 60 ? "0 * * * * *" : `*/${seconds} * * * * *`;
}

/** Actions per list call: `id in (...)` of 50 GUIDs keeps the URL near 2.5 KB. */
export const ACTION_POLL_PAGE_SIZE = 50;

/** A round reads at most this many pages (2,500 actions: far above MDE's 25 or 50 concurrent sessions). */
export const ACTION_POLL_MAX_PAGES = 50;

/** A final action's entry stays this long for its collection to read it, then the poller removes it. */
export const FINAL_WATCH_ENTRY_RETENTION_IN_MS = 60 * MINUTE_IN_MS;

/**
 * The poller skips listing the watch list while nothing in it is due and nothing in its own process
 * wrote to it, but never longer than this: an entry another instance wrote is read within it (as
 * soon as a watched collection's own fallback timer would have read MDE).
 */
export const WATCH_LIST_MAX_SKIP_IN_MS = 5 * MINUTE_IN_MS;

/** A watched copy is trusted until the poller's promised next read plus this: two missed rounds mean the poller is not running. */
export function watchFreshnessGraceInMs(pollIntervalInMs: number): number {
  return 2 * pollIntervalInMs;
}

/**
 * The gap before the poller's next round: one interval when anything changed, runs, or was written
 * since the last round (results are imminent); otherwise it doubles, up to the collections' poll cap,
 * so devices offline for days cost the tenant a few list calls an hour.
 */
export function nextPollRoundGapInMs(
  settings: Pick<CollectionSettings, "pollMaxDelayInMs" | "actionPollIntervalInMs">,
  busy: boolean,
  previousGapInMs: number | undefined,
): number {
  const interval = settings.actionPollIntervalInMs;
  if (busy || previousGapInMs === undefined) return interval;
  return Math.max(interval, Math.min(settings.pollMaxDelayInMs, previousGapInMs * 2));
}

/** The first wait of a watched collection's fallback timer; it doubles for each read that saw the same status. */
export const WATCH_FALLBACK_MIN_DELAY_IN_MS = 5 * MINUTE_IN_MS;
/** The longest wait of a watched collection's fallback timer. */
export const WATCH_FALLBACK_MAX_DELAY_IN_MS = 2 * 60 * MINUTE_IN_MS;

/**
 * How long a watched collection sleeps when no wake-up comes: the poller's event normally ends the
 * wait within a round; this timer only covers a lost wake-up (or a poller that is not running), and
 * then the collection reads MDE itself.
 */
export function watchedFallbackDelayInMs(pollsInStatus: number): number {
  const exponent = Math.min(pollsInStatus, MAX_BACKOFF_EXPONENT);
  return Math.min(WATCH_FALLBACK_MAX_DELAY_IN_MS, WATCH_FALLBACK_MIN_DELAY_IN_MS * 2 ** exponent);
}
