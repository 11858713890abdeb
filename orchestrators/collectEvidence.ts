/**
 * One live response collection, as the mission reads: wait for the start → submit until MDE
 * accepts → poll and collect until the action is final → finish (the manifest, last). Between any
 * two steps the collection may end (a cancel request, the deadline) or continue in a fresh
 * execution (continueAsNew): see checkpoints.ts.
 *
 * Replay: instances live up to three days, so this yield sequence is a contract with the histories
 * already written; test/integration/orchestrators/replayCompat.test.ts replays recorded ones. A
 * change that alters the sequence registers a new orchestrator name (README, "Upgrading").
 */
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import { startDelayInMs } from "../shared/timing";
import { afterStep, endIfStopped, type Ending } from "./checkpoints";
import { beginCollectionRun, waitOrCancel, type CollectionRun, type Durable } from "./collectionRun";
import { finish } from "./finish";
import { pollAndCollect, submit } from "./steps";

export const collectEvidence: OrchestrationHandler = function* (context: OrchestrationContext) {
  const run = beginCollectionRun(context);
  yield* waitForStart(run);
  const ending = (yield* endIfStopped(run)) ?? (yield* submitUntilAccepted(run)) ?? (yield* pollAndCollectUntilFinal(run));
  if (ending.done === "continuedAsNew") return undefined;
  return yield* finish(run, ending);
};

/**
 * A staggered start (scheduled runs): one durable timer before the first submission, only in the
 * first execution; a cancel request during the wait is acted on by the first check.
 */
function* waitForStart(run: CollectionRun): Durable<void> {
  const { context, input } = run;
  if (input.progress) return;
  const delayInMs = startDelayInMs(input.policy, context.df.currentUtcDateTime);
  if (delayInMs === undefined) return;
  run.publish("waitingToStart", { nextCheckAt: new Date(input.policy.startAfter!), message: "waiting for its staggered start" });
  yield* waitOrCancel(run, delayInMs);
}

/** Submits until MDE accepts the action (waiting out a busy device, throttling and outages); undefined once accepted. */
function* submitUntilAccepted(run: CollectionRun): Durable<Ending | undefined> {
  while (!run.progress.action) {
    const ending = yield* afterStep(run, yield* submit(run));
    if (ending) return ending;
  }
  return undefined;
}

/** Polls the action and collects each result as its command completes, until the action is final and every result is in. */
function* pollAndCollectUntilFinal(run: CollectionRun): Durable<Ending> {
  for (;;) {
    const ending = yield* afterStep(run, yield* pollAndCollect(run));
    if (ending) return ending;
  }
}
