/**
 * What every part of the orchestration shares: the run's state, the one cancel waiter of this
 * execution, activity calls whose exhausted retries come back as values, and durable waits.
 * Deterministic: only `context.df` is used for time and I/O.
 */
import * as df from "durable-functions";
import type { OrchestrationContext, Task, TimerTask } from "durable-functions";
import {
  ACTION_UPDATED_EVENT,
  CANCEL_EVENT,
  type CancelRequest,
  type CollectEvidenceInput,
  type CollectionOutcome,
} from "../shared/contract";
import type { CollectionProgress, Phase, Rejected } from "../shared/contract";
import { parseCancelRequest } from "../shared/cancelRequest";
import { activityFailureMessage } from "../shared/publicMessage";
import { ACTIVITY_RETRY, deadlineOf, nextCheckAt } from "../shared/timing";
import { buildStatus, newProgress } from "./progress";

/** Transient faults (5xx, network, storage) are retried by the Durable runtime itself, with backoff. */
const activityRetry = new df.RetryOptions(ACTIVITY_RETRY.firstRetryIntervalInMs, ACTIVITY_RETRY.maxNumberOfAttempts);
activityRetry.backoffCoefficient = ACTIVITY_RETRY.backoffCoefficient;
activityRetry.maxRetryIntervalInMilliseconds = ACTIVITY_RETRY.maxRetryIntervalInMs;

/** Orchestrator code: yields durable tasks, returns `T`. */
export type Durable<T> = Generator<Task, T, unknown>;

/** The collection is over: how it ended, for the manifest and the summary. */
export interface Finished {
  done: true;
  outcome: CollectionOutcome;
  reason: string;
  /** MDE's refusal of the submission, when that is how it ended. */
  rejection?: Rejected;
}

/** Not over yet: look again after a durable wait. */
export interface Waiting {
  done: false;
  delayInMs: number;
  phase: Phase;
  message?: string;
}

/** What one step of the collection decided. */
export type Step = Finished | Waiting;

/** One execution of one collection. */
export interface CollectionRun {
  context: OrchestrationContext;
  input: CollectEvidenceInput;
  /** Mutated as the execution goes, and carried to the next one through continueAsNew. */
  progress: CollectionProgress;
  /** Waits so far in this execution (bounded: see startFreshExecution). */
  waits: number;
  /**
   * The one cancel waiter of this execution. durable-functions hands an event to the most recently
   * opened waiter, so a fresh waiter per wait would let an abandoned one swallow a cancel raised
   * while an activity runs.
   */
  cancel: Task;
  /**
   * The one ActionUpdated waiter of this execution (watched collections only, policy.watched): the
   * action poller's wake-up ends any wait early. Re-armed each time it fires.
   */
  watch?: Task;
  /** Sets the custom status a person following the status URL sees. */
  publish(phase: Phase, extra?: { nextCheckAt?: Date; message?: string }): void;
}

/** Starts this execution's run: the input's progress (after continueAsNew) or a fresh one. */
export function beginCollectionRun(context: OrchestrationContext): CollectionRun {
  const input = context.df.getInput() as CollectEvidenceInput;
  // Progress is mutated as the execution goes; never mutate the input it came in.
  const progress = input.progress ? structuredClone(input.progress) : newProgress(context.df.currentUtcDateTime);
  return {
    context,
    input,
    progress,
    waits: 0,
    cancel: context.df.waitForExternalEvent(CANCEL_EVENT),
    ...(input.policy.watched ? { watch: context.df.waitForExternalEvent(ACTION_UPDATED_EVENT) } : {}),
    publish: (phase, extra) => context.df.setCustomStatus(buildStatus(input.request, input.policy, progress, phase, extra)),
  };
}

/** The deadline that applies now. */
export function deadlineOfRun(run: CollectionRun): Date {
  return deadlineOf(run.input.policy, run.progress);
}

/** A cancel request that has arrived, recorded in the progress (so it survives continueAsNew). */
export function cancelRequested(run: CollectionRun): CancelRequest | undefined {
  while (!run.progress.cancellation && run.cancel.isCompleted) {
    const cancel = parseCancelRequest(run.cancel.result);
    if (cancel) {
      run.progress.cancellation = cancel;
      break;
    }
    logOnce(run, "malformed cancel event ignored", { eventType: Array.isArray(run.cancel.result) ? "array" : typeof run.cancel.result });
    run.cancel = run.context.df.waitForExternalEvent(CANCEL_EVENT);
  }
  return run.progress.cancellation;
}

/** True when the run should stop what it is doing: a cancel arrived or the deadline passed. */
export function stopRequested(run: CollectionRun): boolean {
  return cancelRequested(run) !== undefined || run.context.df.currentUtcDateTime >= deadlineOfRun(run);
}

/** An activity's answer, or the failure that outlasted the Durable runtime's retries. */
export type Attempt<T> = { ok: true; value: T } | { ok: false; message: string };

/** Runs an activity with the Durable runtime's retries; a failure that outlasts them comes back as a value. */
export function* tryActivity<T>(run: CollectionRun, name: string, input: unknown): Durable<Attempt<T>> {
  try {
    const value = (yield run.context.df.callActivityWithRetry(name, activityRetry, input)) as T;
    run.progress.transientFailures = 0;
    return { ok: true, value };
  } catch (e) {
    // Durable hands over "<reason> \n <serialized exception with its stack>": keep one public line.
    return { ok: false, message: activityFailureMessage(e) };
  }
}

/** When a wait of `delayInMs` starting now ends, never past the deadline. */
export function checkAt(run: CollectionRun, delayInMs: number): Date {
  return nextCheckAt(run.context.df.currentUtcDateTime, delayInMs, deadlineOfRun(run));
}

/**
 * Waits on a durable timer, or less if a cancel request (or, for a watched collection, the action
 * poller's wake-up) arrives; the losing timer is cancelled.
 */
export function* waitOrCancel(run: CollectionRun, delayInMs: number): Durable<CancelRequest | undefined> {
  const fireAt = checkAt(run, delayInMs);
  for (;;) {
    const timer = run.context.df.createTimer(fireAt);
    const winner = yield run.context.df.Task.any(run.watch ? [timer, run.cancel, run.watch] : [timer, run.cancel]);
    if (winner === timer) return undefined;
    (timer as TimerTask).cancel();
    if (winner === run.watch) {
      // Something changed in MDE: the next step reads the poller's copy. One waiter per execution, re-armed.
      run.watch = run.context.df.waitForExternalEvent(ACTION_UPDATED_EVENT);
      return cancelRequested(run);
    }
    const cancel = cancelRequested(run);
    if (cancel) return cancel;
    // A malformed event was ignored and the waiter re-armed: wait out the rest on a fresh timer
    // (yielding the same timer in a new Task.any would schedule it twice).
  }
}

/** A plain durable wait, for the cancelling path itself and the manifest write. */
export function* sleep(run: CollectionRun, delayInMs: number): Durable<void> {
  yield run.context.df.createTimer(new Date(run.context.df.currentUtcDateTime.getTime() + delayInMs));
}

/** Logs once, not on every replay. */
export function logOnce(run: CollectionRun, message: string, properties: Record<string, unknown>): void {
  if (run.context.df.isReplaying) return;
  const { context, input } = run;
  context.log(
    JSON.stringify({ level: "info", message, instanceId: context.df.instanceId, machineId: input.request.machineId, ...properties }),
  );
}
