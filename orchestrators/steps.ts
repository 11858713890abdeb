/**
 * The orchestrator's steps as generator functions. Deterministic: only `context.df` is used for
 * time and I/O; every decision about delays and outcomes is a pure helper.
 */
import * as df from "durable-functions";
import type { OrchestrationContext, Task } from "durable-functions";
import {
  ActivityNames,
  type CancelInput,
  type CancelOutput,
  type CollectInput,
  type CollectOutput,
  type GetActionInput,
  type GetActionOutput,
  type SubmitInput,
  type SubmitOutput,
} from "../activities/contracts";
import { CANCEL_EVENT, type CancelRequest, type CollectEvidenceInput, type CollectionOutcome } from "../shared/collection";
import { producesResult } from "../shared/evidence/manifest";
import { isFinalActionStatus } from "../shared/mde/models";
import { outcomeOfFinalAction } from "./outcome";
import { clampToDeadline, nextPollDelayInMs } from "./pollPlan";
import { buildStatus, type CollectionProgress, type Phase } from "./progress";

/** Transient faults (5xx, network, storage) are retried by the Durable runtime itself, with backoff. */
export const activityRetry = new df.RetryOptions(5_000, 4);
activityRetry.backoffCoefficient = 2;
activityRetry.maxRetryIntervalInMilliseconds = 60_000;

/** A result whose copy keeps failing after this many rounds is recorded as an error, not retried forever. */
export const MAX_COLLECT_ROUNDS = 3;

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

type Gen<T> = Generator<Task, T, unknown>;

export interface Run {
  context: OrchestrationContext;
  input: CollectEvidenceInput;
  p: CollectionProgress;
  deadline: Date;
  publish(phase: Phase, extra?: { nextCheckAt?: Date; message?: string }): void;
}

export function publisher(context: OrchestrationContext, input: CollectEvidenceInput, p: CollectionProgress): Run["publish"] {
  return (phase, extra) => context.df.setCustomStatus(buildStatus(input.request, input.policy, p, phase, extra));
}

/** Submits the live response once; an earlier attempt's action is found and reused by the activity. */
export function* submit(run: Run): Gen<StepResult> {
  const { context, input, p } = run;
  const { request, policy } = input;
  run.publish("submitting");
  p.submitAttempts++;
  const marker = `[collector:${context.df.instanceId}]`;
  const submitInput: SubmitInput = {
    machineId: request.machineId,
    commands: request.commands,
    comment: `${request.comment} ${marker}`,
    correlationMarker: marker,
    notBefore: new Date(new Date(p.startedAt).getTime() - 5 * 60_000).toISOString(),
  };
  const attempt = yield* tryActivity<SubmitOutput>(run, ActivityNames.submitLiveResponse, submitInput);
  if (!attempt.ok) return transientFailure(run, attempt.message);
  const r = attempt.value;
  switch (r.kind) {
    case "submitted":
      p.action = r.action;
      p.pollsInStatus = 0;
      return { done: false, delayInMs: policy.pollInitialDelayInMs, phase: "queuedOnDevice" };
    case "rejected":
      return { done: true, outcome: "Rejected", reason: `MDE refused the live response: ${r.code}: ${r.message}`, rejection: r };
    case "deviceBusy":
      return { done: false, delayInMs: policy.busyRetryDelayInMs, phase: "deviceBusy", message: "the device already has a live response session (MDE allows one per device); retrying" };
    case "throttled":
      p.throttled++;
      return { done: false, delayInMs: r.retryAfterInMs ?? policy.throttleDelayInMs, phase: "throttled", message: "MDE rate limit reached; waiting as MDE asked" };
  }
}

/** Reads the action, collects every newly completed result, and decides when to look again. */
export function* poll(run: Run): Gen<StepResult> {
  const { context, input, p } = run;
  const attempt = yield* tryActivity<GetActionOutput>(run, ActivityNames.getMachineAction, { actionId: p.action!.id } satisfies GetActionInput);
  p.totalPolls++;
  if (!attempt.ok) return transientFailure(run, attempt.message);
  const r = attempt.value;
  if (r.kind === "throttled") {
    p.throttled++;
    return { done: false, delayInMs: r.retryAfterInMs ?? input.policy.throttleDelayInMs, phase: "throttled" };
  }
  if (r.kind === "rejected") return { done: true, outcome: "Failed", reason: `MDE refused to report the action: ${r.code}: ${r.message}` };
  p.pollsInStatus = r.action.status === p.action!.status ? p.pollsInStatus + 1 : 0;
  p.action = r.action;

  const throttled = yield* collectCompleted(run);
  if (throttled) return throttled;
  if (isFinalActionStatus(r.action.status) && !pendingCollection(p)) return { done: true, ...outcomeOfFinalAction(r.action) };
  const phase: Phase = r.action.status === "Pending" ? "queuedOnDevice" : "running";
  return { done: false, delayInMs: nextPollDelayInMs(input.policy, r.action.status, p.pollsInStatus), phase };
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
function transientFailure(run: Run, message: string): StepResult {
  const rounds = ++run.p.transientFailures;
  if (rounds >= MAX_TRANSIENT_ROUNDS) {
    return { done: true, outcome: "Failed", reason: `MDE kept failing after ${rounds} rounds of retries; last error: ${message}` };
  }
  return { done: false, delayInMs: TRANSIENT_ROUND_DELAY_IN_MS * 2 ** (rounds - 1), phase: "retrying", message: `MDE call failed, retrying: ${message}` };
}

/** Copies each completed result not yet in the evidence container; link fetch and copy happen together in one activity. */
function* collectCompleted(run: Run): Gen<StepResult | undefined> {
  const { context, input, p } = run;
  for (const index of pendingIndexes(p)) {
    const chunk = p.chunks[index];
    run.publish("collecting", { message: `collecting the result of command ${index}${chunk ? ` (${chunk.offset} bytes so far)` : ""}` });
    const collectInput: CollectInput = { instanceId: context.df.instanceId, machineId: input.request.machineId, actionId: p.action!.id, index, command: input.request.commands[index], chunk };
    const attempt = yield* tryActivity<CollectOutput>(run, ActivityNames.collectCommandResult, collectInput);
    if (!attempt.ok) {
      // Retries exhausted on a transient fault: try again at a later poll, a bounded number of times.
      p.collectAttempts[index] = (p.collectAttempts[index] ?? 0) + 1;
      if (p.collectAttempts[index] >= MAX_COLLECT_ROUNDS) recordError(p, index, "CollectionFailed", attempt.message);
      continue;
    }
    const r = attempt.value;
    if (r.kind === "inProgress") {
      // Next chunk straight away, with a fresh link: each call is short and the state is in history.
      if (r.chunk) p.chunks[index] = r.chunk;
      else delete p.chunks[index];
      return yield* collectCompleted(run);
    }
    delete p.chunks[index];
    if (r.kind === "collected") p.collected.push(r.evidence);
    else if (r.kind === "rejected") recordError(p, index, r.code, r.message);
    else {
      p.throttled++;
      return { done: false, delayInMs: r.retryAfterInMs ?? input.policy.throttleDelayInMs, phase: "throttled" };
    }
  }
  return undefined;
}

/** Cancels the MDE action (deadline or user request), then keeps whatever completed before the cancel took effect. */
export function* cancelAction(run: Run, outcome: "TimedOut" | "Cancelled", reason: string): Gen<Done> {
  const { context, p } = run;
  if (!p.action) return { done: true, outcome, reason };
  run.publish("cancelling", { message: reason });
  const comment = outcome === "TimedOut" ? "Evidence collector deadline reached" : `Cancelled by ${p.cancellation?.requestedBy}: ${p.cancellation?.reason}`;
  const attempt = yield* tryActivity<CancelOutput>(run, ActivityNames.cancelMachineAction, { actionId: p.action.id, comment } satisfies CancelInput);
  if (!attempt.ok) return { done: true, outcome, reason: `${reason}; cancelling the MDE action failed (${attempt.message}): cancel it in the portal` };
  const r = attempt.value;
  if (r.kind === "cancelled" || r.kind === "alreadyFinal") p.action = r.action;
  yield* collectCompleted(run);
  if (r.kind === "alreadyFinal" && isFinalActionStatus(r.action.status) && r.action.status !== "Cancelled") return { done: true, ...outcomeOfFinalAction(r.action) };
  return { done: true, outcome, reason };
}

/** Waits on a durable timer, or less if a cancel request arrives; the losing timer is cancelled. */
export function* waitOrCancel(run: Run, delayInMs: number): Gen<CancelRequest | undefined> {
  const { context } = run;
  const fireAt = new Date(context.df.currentUtcDateTime.getTime() + clampToDeadline(delayInMs, context.df.currentUtcDateTime, run.deadline));
  const timer = context.df.createTimer(fireAt);
  const cancel = context.df.waitForExternalEvent(CANCEL_EVENT);
  const winner = yield context.df.Task.any([timer, cancel]);
  if (winner === timer) return undefined;
  timer.cancel();
  return normalizeCancel(cancel.result, context.df.currentUtcDateTime);
}

export function nextCheckAt(run: Run, delayInMs: number): Date {
  const now = run.context.df.currentUtcDateTime;
  return new Date(now.getTime() + clampToDeadline(delayInMs, now, run.deadline));
}

function normalizeCancel(data: unknown, now: Date): CancelRequest {
  const d = (typeof data === "object" && data !== null ? data : {}) as Partial<CancelRequest>;
  return { requestedBy: d.requestedBy || "unknown", reason: d.reason || "no reason given", requestedAt: d.requestedAt || now.toISOString() };
}

function pendingIndexes(p: CollectionProgress): number[] {
  return (p.action?.commands ?? [])
    .filter((c) => c.commandStatus === "Completed" && producesResult(c.type))
    .map((c) => c.index)
    .filter((i) => !p.collected.some((r) => r.index === i) && !p.collectionErrors.some((e) => e.index === i));
}

function pendingCollection(p: CollectionProgress): boolean {
  return pendingIndexes(p).length > 0;
}

function recordError(p: CollectionProgress, index: number, code: string, message: string): void {
  if (!p.collectionErrors.some((e) => e.index === index)) p.collectionErrors.push({ index, code, message });
}
