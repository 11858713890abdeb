/**
 * Timer `actionPoller` (every ACTION_POLL_INTERVAL_SECONDS, 30 by default): batched status polling for the whole tenant. Collections
 * waiting for MDE put their action on the watch list (shared/actionWatch/watchStore.ts, written by
 * the getMachineAction activity); when any entry is due, the poller reads every watched action with
 * one `GET /api/machineactions?$filter=id in (...)` per 50 actions, asked of the tenant-wide governor
 * like any read, records each action that changed and wakes its collection with the `ActionUpdated`
 * event, then writes its schedule (one small document), which confirms every other copy unchanged.
 * The collection then takes the recorded copy instead of reading MDE itself; its own slow fallback
 * timer covers a lost wake-up.
 *
 * The same round keeps the governor's session leases true: every action still pending or running
 * renews its holder's lease, every final one releases it, in one governor write per page; and it
 * wakes the collections at the head of the governor's queue for a session slot, as many as are free
 * (they sleep until then instead of asking again every few minutes).
 */
import type { InvocationContext, Timer } from "@azure/functions";
import { durableFor, type DurableAccess, type DurableDeps } from "./durableAccess";
import { TERMINAL_RUNTIME_STATUSES } from "./http";
import type { GovernorPort } from "../activities/governed";
import { ACTION_UPDATED_EVENT } from "../shared/contract";
import type { CollectionSettings } from "../shared/config";
import { hadNewEntries, nextSchedule, pageFilter, planRound } from "../shared/actionWatch/pollRound";
import { actionSignature, type WatchEntry, type WatchStore } from "../shared/actionWatch/watchStore";
import { MdeApiError } from "../shared/errors";
import { jsonLogger, type Logger } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";
import { isFinalActionStatus, type MachineAction } from "../shared/mde/models";
import { describeFailure } from "../shared/publicMessage";
import { ACTION_POLL_PAGE_SIZE, WATCH_LIST_MAX_SKIP_IN_MS } from "../shared/timing";

export interface ActionPollerDeps extends DurableDeps {
  mde: Pick<MdeApi, "listMachineActions">;
  watch: WatchStore;
  governor?: Pick<GovernorPort, "acquireRead" | "observeSessions" | "reportThrottled" | "releaseSession">;
  collection: Pick<CollectionSettings, "pollMaxDelayInMs" | "actionPollIntervalInMs">;
  now: () => Date;
}

/** What one round did, logged as one line. */
export interface PollRoundSummary {
  watched: number;
  listCalls: number;
  read: number;
  woken: number;
  /** Collections queued for a session slot, woken because one is free. */
  slotWakes: number;
  /** Queued collections that were gone when their turn came, taken out of the queue. */
  slotQueueLeft: number;
  removed: number;
  /** Why the round stopped early, if it did. */
  stoppedBy?: "governor" | "throttled" | "failed";
  /** When the next round has something to do, at the earliest (ms since epoch; Infinity: nothing watched). */
  nextDueAtMs: number;
}

export function createActionPoller(deps: ActionPollerDeps) {
  // When the last round left nothing due before `nextDueAtMs`: rounds before then skip even the
  // listing, unless this process wrote to the watch list since (see WATCH_LIST_MAX_SKIP_IN_MS).
  let idle: { nextDueAtMs: number; listedAtMs: number; writes: number } | undefined;
  return async function actionPoller(_timer: Timer, context: InvocationContext): Promise<void> {
    const log = jsonLogger(context, { function: "actionPoller" });
    const now = deps.now().getTime();
    if (idle && deps.watch.localWrites() === idle.writes && now < idle.nextDueAtMs && now - idle.listedAtMs < WATCH_LIST_MAX_SKIP_IN_MS)
      return;
    idle = undefined;
    try {
      const summary = await pollWatchedActions(deps, () => durableFor(deps, context), log);
      idle = { nextDueAtMs: summary.nextDueAtMs, listedAtMs: now, writes: deps.watch.localWrites() };
      const { nextDueAtMs: _next, ...figures } = summary;
      const didSomething = summary.listCalls + summary.removed + summary.slotWakes + summary.slotQueueLeft > 0 || !!summary.stoppedBy;
      if (didSomething) log.info("watched actions polled", figures);
    } catch (e) {
      // The watch list could not be read: nothing changed, the next round starts from the same place.
      log.error("action poll failed", { reason: "Unexpected", detail: describeFailure(e) });
    }
  };
}

/** One round (see the module comment). */
export async function pollWatchedActions(deps: ActionPollerDeps, durable: () => DurableAccess, log: Logger): Promise<PollRoundSummary> {
  const [entries, schedule] = await Promise.all([deps.watch.list(), deps.watch.readSchedule()]);
  const now = deps.now().getTime();
  const plan = planRound(entries, schedule, now, deps.collection);
  const summary: PollRoundSummary = {
    watched: entries.length,
    listCalls: 0,
    read: 0,
    woken: 0,
    slotWakes: 0,
    slotQueueLeft: 0,
    removed: 0,
    nextDueAtMs: plan.dueAtMs,
  };
  for (const entry of plan.expired) {
    await deps.watch.remove(entry.instanceId);
    summary.removed++;
  }
  const round = { changed: false, running: false, observed: false, hadNew: hadNewEntries(entries, schedule) };
  if (plan.pages.length === 0) {
    await wakeQueuedForSlots(deps, durable, log, summary);
    return summary;
  }
  for (const page of plan.pages) {
    const stopped = await readPage(deps, page, now, durable, log, summary, round);
    if (stopped) {
      // What was not read is due at the next tick; the schedule keeps its last complete round.
      summary.stoppedBy = stopped;
      summary.nextDueAtMs = now;
      return summary;
    }
  }
  if (!round.observed) await wakeQueuedForSlots(deps, durable, log, summary);
  const next = nextSchedule(schedule, round, now, deps.collection);
  // Written last: a copy is confirmed unchanged only once every page was read.
  await deps.watch.writeSchedule(next);
  summary.nextDueAtMs = next.nextRoundAtMs;
  return summary;
}

async function readPage(
  deps: ActionPollerDeps,
  page: WatchEntry[],
  roundAt: number,
  durable: () => DurableAccess,
  log: Logger,
  summary: PollRoundSummary,
  round: { changed: boolean; running: boolean; observed: boolean },
): Promise<PollRoundSummary["stoppedBy"]> {
  const { governor } = deps;
  if (governor) {
    const answer = await governor.acquireRead("listMachineActions", deps.now().getTime());
    // A wait or a refusal: the entries stay due and the next round tries again.
    if (answer.kind !== "granted") return "governor";
  }
  let actions: MachineAction[];
  try {
    summary.listCalls++;
    actions = await deps.mde.listMachineActions({ filter: pageFilter(page), top: ACTION_POLL_PAGE_SIZE });
  } catch (e) {
    if (e instanceof MdeApiError && e.statusCode === 429) {
      await governor?.reportThrottled("listMachineActions", e.retryAfterInMs, deps.now().getTime());
      return "throttled";
    }
    log.warn("watched actions could not be read; collections fall back to their own reads if this lasts", {
      detail: describeFailure(e),
    });
    return "failed";
  }
  const byId = new Map(actions.map((a) => [a.id.toLowerCase(), a]));
  const renew: string[] = [];
  const release: string[] = [];
  for (const entry of page) {
    const action = byId.get(entry.actionId.toLowerCase());
    if (!action) continue;
    summary.read++;
    (isFinalActionStatus(action.status) ? release : renew).push(entry.instanceId);
    if (action.status === "InProgress") round.running = true;
    if (actionSignature(action) === entry.signature) continue;
    round.changed = true;
    // Recorded before the wake-up: the woken collection reads this copy. Unchanged copies are not
    // rewritten; the round's schedule confirms them.
    await deps.watch.write(entry.instanceId, action, roundAt);
    if (await wake(durable, entry, action, log)) summary.woken++;
  }
  if (governor && (renew.length > 0 || release.length > 0)) {
    round.observed = true;
    await observeAndWake(governor, { renew, release }, durable, deps, log, summary);
  }
  return undefined;
}

/**
 * A round that observed no session still wakes the queue. Slots also free where the poller does not
 * look (a refused submission, a cancel, a collection that ended without an action): with no watched
 * action left to observe, the queued collections would otherwise sleep until their 2 h fallback.
 * An empty observation is a read of the governor's document, not a write.
 */
async function wakeQueuedForSlots(deps: ActionPollerDeps, durable: () => DurableAccess, log: Logger, summary: PollRoundSummary) {
  if (deps.governor) await observeAndWake(deps.governor, { renew: [], release: [] }, durable, deps, log, summary);
}

async function observeAndWake(
  governor: NonNullable<ActionPollerDeps["governor"]>,
  sessions: { renew: string[]; release: string[] },
  durable: () => DurableAccess,
  deps: ActionPollerDeps,
  log: Logger,
  summary: PollRoundSummary,
): Promise<void> {
  const answer = await governor.observeSessions(sessions, deps.now().getTime());
  // Not fatal: leases run out on their own, and the collections' own reads renew them too.
  if (answer.kind === "refused") log.warn("governor did not record the sessions the poll saw", { code: answer.code });
  // Collections queued for a session slot sleep until woken: the head of the queue, as many as slots are free.
  else for (const holder of answer.wake) await wakeForSlot(governor, durable, holder, deps.now().getTime(), log, summary);
}

/** Raises ActionUpdated; an instance that is gone (terminated, purged) is skipped, its entry ends with its action. */
function wake(durable: () => DurableAccess, entry: WatchEntry, action: MachineAction, log: Logger): Promise<boolean> {
  return wakeHolder(durable, entry.instanceId, { actionId: action.id, status: action.status }, log);
}

/**
 * Wakes a collection at the head of the slot queue. One that is gone (terminated, purged) leaves the
 * queue: otherwise it would stand at the head, and be named again each round, until its place expired.
 */
async function wakeForSlot(
  governor: NonNullable<ActionPollerDeps["governor"]>,
  durable: () => DurableAccess,
  holder: string,
  now: number,
  log: Logger,
  summary: PollRoundSummary,
): Promise<void> {
  if (await wakeHolder(durable, holder, { slotFree: true }, log)) {
    summary.slotWakes++;
    return;
  }
  const status = await durable()
    .findStatus(holder)
    .catch(() => null);
  // null: Durable could not say; the holder keeps its place.
  if (status === null || (status !== undefined && !TERMINAL_RUNTIME_STATUSES.includes(String(status.runtimeStatus)))) return;
  await governor.releaseSession(holder, now);
  summary.slotQueueLeft++;
}

/** ActionUpdated says "look again": at the action's copy, or at the governor for a session slot that freed. */
async function wakeHolder(durable: () => DurableAccess, instanceId: string, payload: object, log: Logger): Promise<boolean> {
  try {
    await durable().client.raiseEvent(instanceId, ACTION_UPDATED_EVENT, payload);
    return true;
  } catch (e) {
    log.warn("a watched collection could not be woken", { instanceId, detail: describeFailure(e) });
    return false;
  }
}
