/**
 * One orchestrator episode: deliver one new event to the REAL durable-functions replay code,
 * then turn the actions it returns into scheduled work, mirroring the Durable extension.
 *
 * Task ids are never sent to the library: it numbers tasks itself (a per-execution counter in
 * yield order) and matches completions by those numbers. The engine therefore keeps a mirror of
 * that counter and must allocate ids at exactly the moments the library does, including the
 * ids the library takes on its own while processing an event (retry timers, retry attempts,
 * long-timer parts). Delivering one event per episode keeps both counters in step.
 */
import {
  ActionType,
  assertDeterministic,
  describeAction,
  leafActions,
  parseOrchestrationFailure,
  parseOrchestratorState,
  topLevelActions,
  type WireAction,
  type WireOrchestratorState,
  type WireRetryOptions,
} from "./actions";
import { activityInputFromAction } from "./activityInvoker";
import { EventType, historyEvent, jsonRoundTrip, type HistoryEvent } from "./history";
import { createInvocationContext, type DevhostLogger } from "./invocation";
import type { InboxItem, InstanceState } from "./instanceState";
import type { FunctionRegistry } from "./registry";

const DAY_IN_MS = 24 * 60 * 60 * 1000;
/** Timers longer than this are split (the extension's default maximumShortTimerDuration, 6 days). */
export const MAXIMUM_SHORT_TIMER_IN_MS = 6 * DAY_IN_MS;
/** Length of each part of a split timer (default longRunningTimerIntervalDuration, 3 days). */
export const LONG_RUNNING_TIMER_INTERVAL_IN_MS = 3 * DAY_IN_MS;

/** What the engine supplies to an episode: where to look handlers up and how to schedule work. */
export interface EpisodeHost {
  readonly registry: FunctionRegistry;
  readonly logger: DevhostLogger;
  scheduleActivity(inst: InstanceState, taskId: number, functionName: string, input: unknown): void;
  scheduleTimer(inst: InstanceState, timerId: number, fireAtMs: number): void;
  cancelTimer(inst: InstanceState, timerId: number): void;
}

/** How the episode left the instance. */
export type EpisodeOutcome =
  | { kind: "running" }
  | { kind: "completed"; output: unknown }
  | { kind: "failed"; message: string }
  | { kind: "continuedAsNew"; input: unknown };

/**
 * Delay before the next attempt, as DurableTask.Core's RetryInterceptor computes it:
 * first * coefficient^(failedAttempt-1), capped by maxRetryIntervalInMilliseconds.
 */
export function retryDelayInMs(options: WireRetryOptions, failedAttempt: number): number {
  const coefficient = options.backoffCoefficient && options.backoffCoefficient > 0 ? options.backoffCoefficient : 1;
  const delay = options.firstRetryIntervalInMilliseconds * Math.pow(coefficient, failedAttempt - 1);
  const max = options.maxRetryIntervalInMilliseconds;
  return max !== undefined && max > 0 && delay > max ? max : delay;
}

function nextTimerPart(finalFireAtMs: number, nowMs: number): number {
  return finalFireAtMs - nowMs > MAXIMUM_SHORT_TIMER_IN_MS ? nowMs + LONG_RUNNING_TIMER_INTERVAL_IN_MS : finalFireAtMs;
}

function timerCreated(now: Date, timerId: number, fireAtMs: number): HistoryEvent {
  return historyEvent(EventType.TimerCreated, now, { FireAt: new Date(fireAtMs).toISOString() }, timerId);
}

function taskScheduled(now: Date, taskId: number, name: string, input: unknown): HistoryEvent {
  return historyEvent(EventType.TaskScheduled, now, { Name: name, Input: JSON.stringify(input) }, taskId);
}

/**
 * Ids the library takes by itself while it processes `event` (RetryableTask and LongTimerTask
 * add child tasks); the extension creates the matching timers and retries at the same moment.
 */
function mirrorLibraryAllocations(host: EpisodeHost, inst: InstanceState, event: HistoryEvent, now: Date, out: HistoryEvent[]): void {
  const exec = inst.execution;
  const nowMs = now.getTime();
  if (event.EventType === EventType.TaskCompleted && event.TaskScheduledId !== undefined) {
    exec.retryByTaskId.delete(event.TaskScheduledId);
  } else if (event.EventType === EventType.TaskFailed && event.TaskScheduledId !== undefined) {
    const group = exec.retryByTaskId.get(event.TaskScheduledId);
    if (!group) return;
    exec.retryByTaskId.delete(event.TaskScheduledId);
    // Even after the last attempt the library waits on one more timer before failing the task.
    const delay = retryDelayInMs(group.options, group.attemptNumber);
    group.attemptNumber++;
    const timerId = exec.nextId++;
    exec.retryByTimerId.set(timerId, group);
    out.push(timerCreated(now, timerId, nowMs + delay));
    host.scheduleTimer(inst, timerId, nowMs + delay);
  } else if (event.EventType === EventType.TimerFired && event.TimerId !== undefined) {
    const retry = exec.retryByTimerId.get(event.TimerId);
    if (retry) {
      exec.retryByTimerId.delete(event.TimerId);
      if (retry.attemptNumber > retry.options.maxNumberOfAttempts) return;
      const taskId = exec.nextId++;
      exec.retryByTaskId.set(taskId, retry);
      out.push(taskScheduled(now, taskId, retry.functionName, retry.input));
      host.scheduleActivity(inst, taskId, retry.functionName, retry.input);
      return;
    }
    const long = exec.longTimerByTimerId.get(event.TimerId);
    if (long) {
      exec.longTimerByTimerId.delete(event.TimerId);
      if (long.finalFireAtMs <= nowMs) return;
      const timerId = exec.nextId++;
      const fireAtMs = nextTimerPart(long.finalFireAtMs, nowMs);
      long.currentTimerId = timerId;
      exec.longTimerByTimerId.set(timerId, long);
      out.push(timerCreated(now, timerId, fireAtMs));
      host.scheduleTimer(inst, timerId, fireAtMs);
    }
  }
}

/** Turns the new leaf actions of this replay into work; returns an error message for unsupported ones. */
function scheduleNewLeaves(
  host: EpisodeHost,
  inst: InstanceState,
  leaves: WireAction[],
  now: Date,
  out: HistoryEvent[],
): string | undefined {
  const exec = inst.execution;
  const nowMs = now.getTime();
  for (const leaf of leaves) {
    switch (leaf.actionType) {
      case ActionType.CallActivity:
      case ActionType.CallActivityWithRetry: {
        const taskId = exec.nextId++;
        exec.leafIds.push(taskId);
        const name = leaf.functionName ?? "";
        if (leaf.actionType === ActionType.CallActivityWithRetry && leaf.retryOptions) {
          exec.retryByTaskId.set(taskId, { functionName: name, input: leaf.input, options: leaf.retryOptions, attemptNumber: 1 });
        }
        out.push(taskScheduled(now, taskId, name, leaf.input));
        host.scheduleActivity(inst, taskId, name, leaf.input);
        break;
      }
      case ActionType.CreateTimer: {
        const timerId = exec.nextId++;
        exec.leafIds.push(timerId);
        const finalFireAtMs = Date.parse(leaf.fireAt ?? "");
        if (Number.isNaN(finalFireAtMs)) return `CreateTimer action without a valid fireAt: ${JSON.stringify(leaf)}`;
        const fireAtMs = nextTimerPart(finalFireAtMs, nowMs);
        if (fireAtMs !== finalFireAtMs) {
          const group = { finalFireAtMs, currentTimerId: timerId };
          exec.longTimerByTimerId.set(timerId, group);
          exec.longTimerByLeafId.set(timerId, group);
        }
        // A timer cancelled in the episode that created it still took its id, but never fires.
        if (!leaf.isCanceled) {
          out.push(timerCreated(now, timerId, fireAtMs));
          host.scheduleTimer(inst, timerId, fireAtMs);
        }
        break;
      }
      case ActionType.WaitForExternalEvent:
      case ActionType.ContinueAsNew:
        exec.leafIds.push(undefined);
        break;
      default:
        return `${describeAction(leaf)} is not supported by devhost (only activities, timers, external events, Task.all/any and continueAsNew are)`;
    }
  }
  return undefined;
}

/** Cancels the pending timers of earlier-scheduled CreateTimer actions now marked isCanceled. */
function applyCancellations(host: EpisodeHost, inst: InstanceState, previousLeaves: WireAction[]): void {
  const exec = inst.execution;
  previousLeaves.forEach((leaf, i) => {
    const id = exec.leafIds[i];
    if (leaf.actionType !== ActionType.CreateTimer || !leaf.isCanceled || id === undefined) return;
    host.cancelTimer(inst, exec.longTimerByLeafId.get(id)?.currentTimerId ?? id);
  });
}

function orchestratorInput(inst: InstanceState, history: HistoryEvent[]): Record<string, unknown> {
  return {
    // The library turns Timestamp strings into Dates in place: hand it its own copy.
    history: JSON.parse(JSON.stringify(history)) as unknown,
    // The host deserializes the input afresh for every episode; an orchestrator that mutates it must not see its own changes on replay.
    input: inst.input === undefined ? null : (JSON.parse(JSON.stringify(inst.input)) as unknown),
    instanceId: inst.instanceId,
    isReplaying: inst.execution.history.length > 0,
    upperSchemaVersion: 1,
    upperSchemaVersionNew: 2, // ReplaySchema.V3, what current extension bundles advertise
    longRunningTimerIntervalDuration: "3.00:00:00",
    maximumShortTimerDuration: "6.00:00:00",
    defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
  };
}

function record(inst: InstanceState, events: HistoryEvent[]): void {
  const exec = inst.execution;
  exec.history.push(...events);
  inst.stats.maxHistoryEventsPerExecution = Math.max(inst.stats.maxHistoryEventsPerExecution, exec.history.length);
}

/**
 * Runs one episode for `item` at time `now`. Never throws for orchestrator faults: they come
 * back as a `failed` outcome (with the user's message, not the library's wrapper).
 */
export async function runEpisode(host: EpisodeHost, inst: InstanceState, item: InboxItem, now: Date): Promise<EpisodeOutcome> {
  const exec = inst.execution;
  const started = historyEvent(EventType.OrchestratorStarted, now);
  const delivered: HistoryEvent = { ...item.event };
  const tail: HistoryEvent[] = [];
  inst.stats.episodes++;

  const fail = (message: string): EpisodeOutcome => {
    record(inst, [
      started,
      delivered,
      ...tail,
      historyEvent(EventType.ExecutionCompleted, now, { OrchestrationStatus: "Failed", Result: JSON.stringify(message) }),
    ]);
    return { kind: "failed", message };
  };

  mirrorLibraryAllocations(host, inst, delivered, now, tail);
  const fn = host.registry.findFunction(inst.name, "orchestrationTrigger");
  if (!fn) return fail(`The function '${inst.name}' doesn't exist, is disabled, or is not an orchestrator function.`);

  const past = exec.history.map((e) => ({ ...e, IsPlayed: true }));
  let state: WireOrchestratorState;
  try {
    const context = createInvocationContext(fn, host.logger, { instanceId: inst.instanceId });
    state = parseOrchestratorState(await fn.handler(orchestratorInput(inst, [...past, started, delivered]), context));
  } catch (error) {
    const parsed = parseOrchestrationFailure(error instanceof Error ? error.message : String(error));
    if (parsed.state) inst.customStatus = jsonRoundTrip(parsed.state.customStatus) ?? null;
    return fail(parsed.message);
  }

  inst.customStatus = state.customStatus ?? null;
  const actions = topLevelActions(state);
  try {
    assertDeterministic(exec.scheduled, actions);
  } catch (error) {
    return fail((error as Error).message);
  }
  const previousLeafCount = exec.leafIds.length;
  const allLeaves = leafActions(actions);
  const unsupported = scheduleNewLeaves(host, inst, leafActions(actions.slice(exec.scheduled.length)), now, tail);
  if (unsupported) return fail(unsupported);
  applyCancellations(host, inst, allLeaves.slice(0, previousLeafCount));
  exec.scheduled = actions;
  record(inst, [started, delivered, ...tail, historyEvent(EventType.OrchestratorCompleted, now)]);

  if (!state.isDone) return { kind: "running" };
  const continueAsNew = actions.find((a) => a.actionType === ActionType.ContinueAsNew);
  if (continueAsNew) return { kind: "continuedAsNew", input: activityInputFromAction(continueAsNew.input) };
  return { kind: "completed", output: state.output ?? null };
}
