/**
 * The two steps the orchestrator alternates with its waits: submitting the live response, then
 * polling the action and collecting results. Every delay comes from shared/timing.
 */
import {
  ActivityNames,
  type GetActionInput,
  type GetActionOutput,
  type Phase,
  type Rejected,
  type SubmitInput,
  type SubmitOutput,
} from "../shared/contract";
import { isFinalActionStatus, type MachineAction } from "../shared/mde/models";
import {
  actionDeadlineOf,
  afterFailedRound,
  busyRetryDelayInMs,
  nextPollDelayInMs,
  submissionsNotBefore,
  throttleDelayInMs,
  watchedFallbackDelayInMs,
} from "../shared/timing";
import { collectCompleted, pendingIndexes } from "./collectResults";
import { logOnce, tryActivity, type CollectionRun, type Durable, type Step } from "./collectionRun";
import { outcomeOfFinalAction } from "./outcome";

const THROTTLED_MESSAGE = "MDE rate limit reached; waiting as MDE asked";
const DEVICE_BUSY_MESSAGE = "the device already has a live response session (MDE allows one per device); retrying";

/** The submission, or the lookup of an action an earlier attempt created: identified by a marker in the comment. */
export function submitInputOf(run: CollectionRun): SubmitInput {
  const { request } = run.input;
  const marker = `[collector:${run.context.df.instanceId}]`;
  return {
    machineId: request.machineId,
    commands: request.commands,
    comment: `${request.comment} ${marker}`,
    correlationMarker: marker,
    notBefore: submissionsNotBefore(run.progress.startedAt),
    ...(request.libraryFiles ? { libraryFiles: request.libraryFiles } : {}),
    ...(run.input.policy.watched ? { watchedBy: run.context.df.instanceId } : {}),
  };
}

/** Submits the live response once; an earlier attempt's action is found and reused by the activity. */
export function* submit(run: CollectionRun): Durable<Step> {
  const { input, progress } = run;
  const { policy } = input;
  run.publish("submitting");
  progress.submitAttempts++;
  const attempt = yield* tryActivity<SubmitOutput>(run, ActivityNames.submitLiveResponse, submitInputOf(run));
  if (!attempt.ok) return retryAfterFailedRound(run, attempt.message);
  const answer = attempt.value;
  if (answer.kind !== "deviceBusy") progress.busyStreak = 0;
  if ((answer.kind === "submitted" || answer.kind === "rejected") && answer.libraryFiles) progress.libraryFiles = answer.libraryFiles;
  switch (answer.kind) {
    case "submitted":
      accept(run, answer.action);
      return { done: false, delayInMs: policy.pollInitialDelayInMs, phase: "queuedOnDevice" };
    case "rejected":
      return {
        done: true,
        outcome: "Rejected",
        reason: `${refusedBy(answer)}: ${refusal(answer)}`,
        rejection: answer,
      };
    case "deviceBusy":
      progress.deviceWasBusy = true;
      return {
        done: false,
        delayInMs: busyRetryDelayInMs(policy, progress.busyStreak++),
        phase: "deviceBusy",
        message: DEVICE_BUSY_MESSAGE,
      };
    case "throttled":
      progress.throttled++;
      return { done: false, delayInMs: throttleDelayInMs(policy, answer.retryAfterInMs), phase: "throttled", message: THROTTLED_MESSAGE };
  }
}

/** MDE took the action: polling starts, under the action's own deadline. */
function accept(run: CollectionRun, action: MachineAction): void {
  const { progress } = run;
  progress.action = action;
  progress.pollsInStatus = 0;
  const actionDeadline = actionDeadlineOf(run.input.policy, run.context.df.currentUtcDateTime, progress.deviceWasBusy);
  if (actionDeadline) progress.actionDeadline = actionDeadline;
  logOnce(run, "live response submitted", { actionId: action.id });
}

/** Reads the action, collects every newly completed result, and decides when to look again. */
export function* pollAndCollect(run: CollectionRun): Durable<Step> {
  const { input, progress } = run;
  // A watched collection takes the action poller's fresh copy when there is one (activities/getMachineAction.ts).
  const getAction: GetActionInput = {
    actionId: progress.action!.id,
    ...(input.policy.watched ? { watchedBy: run.context.df.instanceId } : {}),
  };
  const attempt = yield* tryActivity<GetActionOutput>(run, ActivityNames.getMachineAction, getAction);
  progress.totalPolls++;
  if (!attempt.ok) return retryAfterFailedRound(run, attempt.message);
  const answer = attempt.value;
  if (answer.kind === "throttled") {
    progress.throttled++;
    return { done: false, delayInMs: throttleDelayInMs(input.policy, answer.retryAfterInMs), phase: "throttled" };
  }
  if (answer.kind === "rejected") {
    return { done: true, outcome: "Failed", reason: `MDE refused to report the action: ${refusal(answer)}` };
  }
  const { action } = answer;
  progress.pollsInStatus = action.status === progress.action!.status ? progress.pollsInStatus + 1 : 0;
  progress.action = action;

  const throttled = yield* collectCompleted(run, { stopOnRequest: true });
  if (throttled) return throttled;
  if (isFinalActionStatus(action.status) && pendingIndexes(progress).length === 0) return { done: true, ...outcomeOfFinalAction(action) };
  const phase: Phase = action.status === "Pending" ? "queuedOnDevice" : "running";
  // A watched collection is woken by the poller; its timer is only the fallback for a lost wake-up.
  const delayInMs = input.policy.watched
    ? watchedFallbackDelayInMs(progress.pollsInStatus)
    : nextPollDelayInMs(input.policy, action.status, progress.pollsInStatus);
  return { done: false, delayInMs, phase };
}

/** A round of activity retries failed as a whole: wait longer each time; past the bound the collection ends with MDE's last error. */
function retryAfterFailedRound(run: CollectionRun, message: string): Step {
  const round = ++run.progress.transientFailures;
  const decision = afterFailedRound(round);
  if (!decision.retry) {
    return { done: true, outcome: "Failed", reason: `MDE kept failing after ${round} rounds of retries; last error: ${message}` };
  }
  return { done: false, delayInMs: decision.delayInMs, phase: "retrying", message: `MDE call failed, retrying: ${message}` };
}

/** Who refused: the collector's own library check (no status code: nothing reached MDE), or MDE. */
function refusedBy(answer: Rejected): string {
  const collector = answer.statusCode === undefined && answer.libraryFiles !== undefined;
  return collector ? "The collector refused to submit the live response" : "MDE refused the live response";
}

/** MDE's refusal in one line, with the correlation id Microsoft support asks for. */
export function refusal(answer: Rejected): string {
  return `${answer.code}: ${answer.message}${answer.target ? `; correlation id ${answer.target}` : ""}`;
}
