import { ActivityNames, type CancelInput, type CancelOutput, type FindOutput } from "../shared/contract";
import { isFinalActionStatus } from "../shared/mde/models";
import { afterThrottledCancel, collectAgainAfterCancel } from "../shared/timing";
import { collectCompleted, pendingIndexes, recordError } from "./collectResults";
import { sleep, tryActivity, type CollectionRun, type Durable, type Finished } from "./collectionRun";
import { outcomeOfFinalAction } from "./outcome";
import { refusal, submitInputOf } from "./steps";

/**
 * Ends the collection on a cancel request or at the deadline: cancels the MDE action (so the device's
 * one session is freed), then keeps whatever completed before the cancel took effect. When MDE does
 * not confirm the cancel, the outcome's reason says so and what to do.
 */
export function* cancelAction(run: CollectionRun, outcome: "TimedOut" | "Cancelled", reason: string): Durable<Finished> {
  const { progress } = run;
  const lookupNote = !progress.action && progress.submitAttempts > 0 ? yield* adoptLostAction(run) : undefined;
  if (!progress.action) return { done: true, outcome, reason: lookupNote ? `${reason}; ${lookupNote}` : reason };

  run.publish("cancelling", { message: reason });
  const note = yield* requestCancel(run, outcome);
  yield* collectRemaining(run);
  const action = progress.action;
  // MDE finished the action on its own before the cancel took effect: that is the outcome.
  if (isFinalActionStatus(action.status) && action.status !== "Cancelled") return { done: true, ...outcomeOfFinalAction(action) };
  return { done: true, outcome, reason: note ? `${reason}; ${note}` : reason };
}

/**
 * An action MDE accepted although the answer to the submission was lost. Returns a note when the
 * lookup could not be made, since such an action may still hold the device's one session.
 */
function* adoptLostAction(run: CollectionRun): Durable<string | undefined> {
  const attempt = yield* tryActivity<FindOutput>(run, ActivityNames.findLiveResponse, submitInputOf(run));
  if (!attempt.ok)
    return `looking for a submission whose answer was lost failed (${attempt.message}): check the device's actions in the portal`;
  const answer = attempt.value;
  if (answer.kind === "found") run.progress.action = answer.action;
  if (answer.kind === "rejected")
    return `MDE refused the lookup of a submission whose answer was lost (${refusal(answer)}): check the device's actions in the portal`;
  if (answer.kind === "throttled")
    return "MDE throttled the lookup of a submission whose answer was lost: check the device's actions in the portal";
  return undefined;
}

/** Asks MDE to cancel, waiting out throttling a bounded number of times; returns a note when the cancel is not confirmed. */
function* requestCancel(run: CollectionRun, outcome: "TimedOut" | "Cancelled"): Durable<string | undefined> {
  const { progress, input } = run;
  const { cancellation } = progress;
  const comment =
    outcome === "TimedOut" ? "Evidence collector deadline reached" : `Cancelled by ${cancellation?.requestedBy}: ${cancellation?.reason}`;
  for (let round = 1; ; round++) {
    const cancelInput: CancelInput = { actionId: progress.action!.id, comment };
    const attempt = yield* tryActivity<CancelOutput>(run, ActivityNames.cancelMachineAction, cancelInput);
    if (!attempt.ok) return `cancelling the MDE action failed (${attempt.message}): cancel it in the portal`;
    const answer = attempt.value;
    if (answer.kind === "throttled") {
      const decision = afterThrottledCancel(input.policy, round, answer.retryAfterInMs);
      if (!decision.retry) return "MDE kept throttling the cancel request: cancel the action in the portal";
      yield* sleep(run, decision.delayInMs);
      continue;
    }
    if (answer.kind === "rejected") return `MDE refused the cancel (${refusal(answer)}): cancel the action in the portal`;
    progress.action = answer.action;
    return isFinalActionStatus(answer.action.status)
      ? undefined
      : `MDE did not cancel the action (still ${answer.action.status}): cancel it in the portal`;
  }
}

/** Collects what completed, through throttling; anything left is recorded, so the manifest says what is missing. */
function* collectRemaining(run: CollectionRun): Durable<void> {
  for (let round = 1; ; round++) {
    const throttled = yield* collectCompleted(run, { stopOnRequest: false });
    if (!throttled) break;
    yield* sleep(run, throttled.delayInMs);
    if (!collectAgainAfterCancel(round)) break;
  }
  for (const index of pendingIndexes(run.progress)) {
    recordError(run.progress, index, "NotCollected", "the collection ended before this result could be copied");
  }
}
