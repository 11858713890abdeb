import { ActivityNames, type CancelInput, type CancelOutput, type FindOutput } from "../shared/contract";
import { isFinalActionStatus } from "../shared/mde/models";
import { collectCompleted, pendingIndexes, recordError } from "./collectResults";
import { outcomeOfFinalAction } from "./outcome";
import { MAX_TRANSIENT_ROUNDS, sleep, tryActivity, type Done, type Gen, type Run } from "./run";
import { submitInputOf } from "./steps";

/**
 * Ends the collection on a cancel request or at the deadline: cancels the MDE action (so the device's
 * one session is freed), then keeps whatever completed before the cancel took effect. When MDE does
 * not confirm the cancel, the outcome's reason says so and what to do.
 */
export function* cancelAction(run: Run, outcome: "TimedOut" | "Cancelled", reason: string): Gen<Done> {
  const { p } = run;
  if (!p.action && p.submitAttempts > 0) yield* adoptLostAction(run);
  if (!p.action) return { done: true, outcome, reason };

  run.publish("cancelling", { message: reason });
  const note = yield* requestCancel(run, outcome);
  yield* collectRemaining(run);
  const action = p.action;
  // MDE finished the action on its own before the cancel took effect: that is the outcome.
  if (isFinalActionStatus(action.status) && action.status !== "Cancelled") return { done: true, ...outcomeOfFinalAction(action) };
  return { done: true, outcome, reason: note ? `${reason}; ${note}` : reason };
}

/** An action MDE accepted although the answer to the submission was lost. */
function* adoptLostAction(run: Run): Gen<void> {
  const attempt = yield* tryActivity<FindOutput>(run, ActivityNames.findLiveResponse, submitInputOf(run));
  if (attempt.ok && attempt.value.kind === "found") run.p.action = attempt.value.action;
}

/** Asks MDE to cancel, waiting out throttling a bounded number of times; returns a note when the cancel is not confirmed. */
function* requestCancel(run: Run, outcome: "TimedOut" | "Cancelled"): Gen<string | undefined> {
  const { p, input } = run;
  const comment = outcome === "TimedOut" ? "Evidence collector deadline reached" : `Cancelled by ${p.cancellation?.requestedBy}: ${p.cancellation?.reason}`;
  for (let round = 1; ; round++) {
    const attempt = yield* tryActivity<CancelOutput>(run, ActivityNames.cancelMachineAction, { actionId: p.action!.id, comment } satisfies CancelInput);
    if (!attempt.ok) return `cancelling the MDE action failed (${attempt.message}): cancel it in the portal`;
    const r = attempt.value;
    if (r.kind === "throttled") {
      if (round >= MAX_TRANSIENT_ROUNDS) return "MDE kept throttling the cancel request: cancel the action in the portal";
      yield* sleep(run, r.retryAfterInMs ?? input.policy.throttleDelayInMs);
      continue;
    }
    if (r.kind === "rejected") return `MDE refused the cancel (${r.code}: ${r.message}): cancel the action in the portal`;
    p.action = r.action;
    return isFinalActionStatus(r.action.status) ? undefined : `MDE did not cancel the action (still ${r.action.status}): cancel it in the portal`;
  }
}

/** Collects what completed, through throttling; anything left is recorded, so the manifest says what is missing. */
function* collectRemaining(run: Run): Gen<void> {
  for (let round = 1; round <= MAX_TRANSIENT_ROUNDS; round++) {
    const throttled = yield* collectCompleted(run, { stopOnRequest: false });
    if (!throttled || throttled.done) break;
    yield* sleep(run, throttled.delayInMs);
  }
  for (const index of pendingIndexes(run.p)) recordError(run.p, index, "NotCollected", "the collection ended before this result could be copied");
}
