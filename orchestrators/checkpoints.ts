/**
 * The checks between two steps of a collection, in one place: a cancel request, the deadline, and
 * the hand-over to a fresh execution (continueAsNew) that keeps every history small.
 */
import type { CollectEvidenceInput } from "../shared/contract";
import { startFreshExecution } from "../shared/timing";
import { cancelAction } from "./cancel";
import {
  cancelRequested,
  checkAt,
  deadlineOfRun,
  stopRequested,
  waitOrCancel,
  type CollectionRun,
  type Durable,
  type Finished,
  type Step,
} from "./collectionRun";

/** This execution handed over to a fresh one; the orchestrator returns at once. */
export interface HandedOver {
  done: "continuedAsNew";
}

/** How a phase of the collection ended: the collection is over, or continues in a fresh execution. */
export type Ending = Finished | HandedOver;

/**
 * Ends the collection when a cancel request arrived or the deadline passed (cancelling the MDE
 * action, if any); otherwise returns undefined and the collection goes on.
 */
export function* endIfStopped(run: CollectionRun): Durable<Finished | undefined> {
  const { context, progress } = run;
  const cancel = cancelRequested(run);
  if (cancel) return yield* cancelAction(run, "Cancelled", `cancelled by ${cancel.requestedBy}: ${cancel.reason}`);
  if (context.df.currentUtcDateTime < deadlineOfRun(run)) return undefined;
  if (!progress.action && progress.busyStreak > 0) {
    const reason = "the device had another live response session (MDE allows one per device) until the deadline; nothing was submitted";
    return { done: true, outcome: "DeviceBusy", reason };
  }
  return yield* cancelAction(run, "TimedOut", "the collector's deadline passed before MDE finished the action");
}

/**
 * After a step: the step's own ending, or its wait (skipped when a cancel arrived or the deadline
 * passed while it ran, so they are acted on at once), then a hand-over after enough waits, then
 * {@link endIfStopped}. Undefined: take the next step.
 */
export function* afterStep(run: CollectionRun, step: Step): Durable<Ending | undefined> {
  if (step.done) return step;
  if (!stopRequested(run)) {
    run.publish(step.phase, { nextCheckAt: checkAt(run, step.delayInMs), message: step.message });
    yield* waitOrCancel(run, step.delayInMs);
    if (startFreshExecution(++run.waits)) return handOver(run);
  }
  return yield* endIfStopped(run);
}

/** continueAsNew, carrying only the state that matters (a cancel that arrived included). */
function handOver(run: CollectionRun): HandedOver {
  const { context, input, progress } = run;
  cancelRequested(run);
  context.df.continueAsNew({ ...input, progress: { ...progress, execution: progress.execution + 1 } } satisfies CollectEvidenceInput);
  return { done: "continuedAsNew" };
}
