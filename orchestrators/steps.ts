/**
 * The two steps the orchestrator alternates with its waits: submitting the live response, then
 * polling the action and collecting results. Every delay and outcome decision is a pure helper.
 */
import { ActivityNames, type GetActionInput, type GetActionOutput, type SubmitInput, type SubmitOutput } from "../shared/contract";
import { isFinalActionStatus } from "../shared/mde/models";
import { collectCompleted, pendingIndexes } from "./collectResults";
import { outcomeOfFinalAction } from "./outcome";
import { nextPollDelayInMs } from "./pollPlan";
import type { Phase } from "../shared/contract";
import { transientFailure, tryActivity, type Gen, type Run, type StepResult } from "./run";

/** The submission, or the lookup of an action an earlier attempt created: identified by a marker in the comment. */
export function submitInputOf(run: Run): SubmitInput {
  const { request } = run.input;
  const marker = `[collector:${run.context.df.instanceId}]`;
  return {
    machineId: request.machineId,
    commands: request.commands,
    comment: `${request.comment} ${marker}`,
    correlationMarker: marker,
    notBefore: new Date(new Date(run.p.startedAt).getTime() - 5 * 60_000).toISOString(),
  };
}

/** Submits the live response once; an earlier attempt's action is found and reused by the activity. */
export function* submit(run: Run): Gen<StepResult> {
  const { context, input, p } = run;
  const { policy } = input;
  run.publish("submitting");
  p.submitAttempts++;
  const attempt = yield* tryActivity<SubmitOutput>(run, ActivityNames.submitLiveResponse, submitInputOf(run));
  if (!attempt.ok) return transientFailure(run, attempt.message);
  const r = attempt.value;
  if (r.kind !== "deviceBusy") p.busyStreak = 0;
  switch (r.kind) {
    case "submitted":
      p.action = r.action;
      p.pollsInStatus = 0;
      if (policy.actionWindowInMs) p.actionDeadline = new Date(context.df.currentUtcDateTime.getTime() + policy.actionWindowInMs).toISOString();
      return { done: false, delayInMs: policy.pollInitialDelayInMs, phase: "queuedOnDevice" };
    case "rejected":
      return { done: true, outcome: "Rejected", reason: `MDE refused the live response: ${r.code}: ${r.message}`, rejection: r };
    case "deviceBusy": {
      // Backs off like polling does, so days of a busy device cost a few hundred calls.
      const delayInMs = Math.min(Math.max(policy.busyRetryDelayInMs, policy.pollMaxDelayInMs), policy.busyRetryDelayInMs * 2 ** Math.min(p.busyStreak++, 10));
      return { done: false, delayInMs, phase: "deviceBusy", message: "the device already has a live response session (MDE allows one per device); retrying" };
    }
    case "throttled":
      p.throttled++;
      return { done: false, delayInMs: r.retryAfterInMs ?? policy.throttleDelayInMs, phase: "throttled", message: "MDE rate limit reached; waiting as MDE asked" };
  }
}

/** Reads the action, collects every newly completed result, and decides when to look again. */
export function* poll(run: Run): Gen<StepResult> {
  const { input, p } = run;
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

  const throttled = yield* collectCompleted(run, { stopOnRequest: true });
  if (throttled) return throttled;
  if (isFinalActionStatus(r.action.status) && pendingIndexes(p).length === 0) return { done: true, ...outcomeOfFinalAction(r.action) };
  const phase: Phase = r.action.status === "Pending" ? "queuedOnDevice" : "running";
  return { done: false, delayInMs: nextPollDelayInMs(input.policy, r.action.status, p.pollsInStatus), phase };
}
