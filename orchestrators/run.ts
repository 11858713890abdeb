/**
 * What every step of the orchestration shares: the run's state, the one cancel waiter of this
 * execution, activity calls whose exhausted retries come back as values, and durable waits.
 * Deterministic: only `context.df` is used for time and I/O.
 */
import * as df from "durable-functions";
import type { OrchestrationContext, Task, TimerTask } from "durable-functions";
import type { SubmitOutput } from "../shared/contract";
import { CANCEL_EVENT, type CancelRequest, type CollectEvidenceInput, type CollectionOutcome } from "../shared/contract";
import { clampToDeadline } from "./pollPlan";
import { buildStatus } from "./progress";
import type { CollectionProgress, Phase } from "../shared/contract";

/** Transient faults (5xx, network, storage) are retried by the Durable runtime itself, with backoff. */
export const activityRetry = new df.RetryOptions(5_000, 4);
activityRetry.backoffCoefficient = 2;
activityRetry.maxRetryIntervalInMilliseconds = 60_000;

/**
 * Rounds of activity retries that may fail in a row (MDE 5xx or unreachable) before the collection
 * gives up; between rounds the orchestrator waits on a durable timer, so an MDE outage of
 * about an hour is ridden out (5 s .. 60 s inside a round, 1, 2, 4, 8, 16, 32 min between rounds).
 */
export const MAX_TRANSIENT_ROUNDS = 7;
export const TRANSIENT_ROUND_DELAY_IN_MS = 60_000;

/** What a step decided: finish with an outcome, or wait and come back. */
export type StepResult =
  | { done: true; outcome: CollectionOutcome; reason: string; rejection?: Extract<SubmitOutput, { kind: "rejected" }> }
  | { done: false; delayInMs: number; phase: Phase; message?: string };
export type Done = Extract<StepResult, { done: true }>;

export type Gen<T> = Generator<Task, T, unknown>;

export interface Run {
  context: OrchestrationContext;
  input: CollectEvidenceInput;
  p: CollectionProgress;
  /**
   * The one cancel waiter of this execution. durable-functions hands an event to the most recently
   * opened waiter, so a fresh waiter per wait would let an abandoned one swallow a cancel raised
   * while an activity runs.
   */
  cancel: Task;
  publish(phase: Phase, extra?: { nextCheckAt?: Date; message?: string }): void;
}

export function createRun(context: OrchestrationContext, input: CollectEvidenceInput, p: CollectionProgress): Run {
  return {
    context,
    input,
    p,
    cancel: context.df.waitForExternalEvent(CANCEL_EVENT),
    publish: (phase, extra) => context.df.setCustomStatus(buildStatus(input.request, input.policy, p, phase, extra)),
  };
}

/** The submission deadline, or the accepted action's own once MDE took it. */
export function deadlineOf(run: Run): Date {
  return new Date(run.p.actionDeadline ?? run.input.policy.deadline);
}

/** A cancel request that has arrived, recorded in the progress (so it survives continueAsNew). */
export function cancelRequested(run: Run): CancelRequest | undefined {
  if (!run.p.cancellation && run.cancel.isCompleted) run.p.cancellation = normalizeCancel(run.cancel.result, run.context.df.currentUtcDateTime);
  return run.p.cancellation;
}

/** True when the run should stop what it is doing: a cancel arrived or the deadline passed. */
export function stopRequested(run: Run): boolean {
  return cancelRequested(run) !== undefined || run.context.df.currentUtcDateTime >= deadlineOf(run);
}

/** Runs an activity with the Durable runtime's retries; a failure that outlasts them comes back as a value. */
export function* tryActivity<T>(run: Run, name: string, input: unknown): Gen<{ ok: true; value: T } | { ok: false; message: string }> {
  try {
    const value = (yield run.context.df.callActivityWithRetry(name, activityRetry, input)) as T;
    run.p.transientFailures = 0;
    return { ok: true, value };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

/** Waits longer after each failed round; past the bound the collection ends with MDE's last error. */
export function transientFailure(run: Run, message: string): StepResult {
  const rounds = ++run.p.transientFailures;
  if (rounds >= MAX_TRANSIENT_ROUNDS) {
    return { done: true, outcome: "Failed", reason: `MDE kept failing after ${rounds} rounds of retries; last error: ${message}` };
  }
  return { done: false, delayInMs: TRANSIENT_ROUND_DELAY_IN_MS * 2 ** (rounds - 1), phase: "retrying", message: `MDE call failed, retrying: ${message}` };
}

/** Waits on a durable timer, or less if a cancel request arrives; the losing timer is cancelled. */
export function* waitOrCancel(run: Run, delayInMs: number): Gen<CancelRequest | undefined> {
  const timer = run.context.df.createTimer(nextCheckAt(run, delayInMs));
  const winner = yield run.context.df.Task.any([timer, run.cancel]);
  if (winner === timer) return undefined;
  (timer as TimerTask).cancel();
  return cancelRequested(run);
}

/** A plain durable wait, for the cancelling path itself. */
export function* sleep(run: Run, delayInMs: number): Gen<void> {
  yield run.context.df.createTimer(new Date(run.context.df.currentUtcDateTime.getTime() + delayInMs));
}

export function nextCheckAt(run: Run, delayInMs: number): Date {
  const now = run.context.df.currentUtcDateTime;
  return new Date(now.getTime() + clampToDeadline(delayInMs, now, deadlineOf(run)));
}

function normalizeCancel(data: unknown, now: Date): CancelRequest {
  const d = (typeof data === "object" && data !== null ? data : {}) as Partial<CancelRequest>;
  return { requestedBy: d.requestedBy || "unknown", reason: d.reason || "no reason given", requestedAt: d.requestedAt || now.toISOString() };
}
