import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import { ActivityNames, type WriteManifestInput, type WriteManifestOutput } from "../shared/contract";
import type { CollectEvidenceInput, CollectionOutcome } from "../shared/contract";
import { buildManifest } from "../shared/evidence/manifest";
import { evidenceSummary, newProgress } from "./progress";
import type { CollectionSummary, Phase } from "../shared/contract";
import { cancelAction } from "./cancel";
import { cancelRequested, createRun, deadlineOf, MAX_TRANSIENT_ROUNDS, nextCheckAt, stopRequested, TRANSIENT_ROUND_DELAY_IN_MS, tryActivity, waitOrCancel, type Done, type Run, type StepResult } from "./run";
import { poll, submit } from "./steps";

/**
 * Waits per execution before continueAsNew. Each wait costs about 10 history events (timer, event
 * wait, activity, episode markers), so no execution's history exceeds a few hundred events however
 * long the device stays offline.
 */
export const MAX_WAITS_PER_EXECUTION = 20;

const PHASE_OF_OUTCOME: Record<CollectionOutcome, Phase> = {
  Completed: "completed",
  Failed: "failed",
  Rejected: "failed",
  TimedOut: "timedOut",
  Cancelled: "cancelled",
  DeviceBusy: "failed",
};

/**
 * One live response collection: submit, wait through MDE's queue window on durable timers with
 * backoff, copy each result as soon as its command completes, write the manifest last.
 */
export const collectEvidence: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput() as CollectEvidenceInput;
  // Progress is mutated as the execution goes; never mutate the input it came in.
  const p = input.progress ? structuredClone(input.progress) : newProgress(context.df.currentUtcDateTime);
  const run = createRun(context, input, p);

  // A staggered start (scheduled runs): one durable timer before the first submission, only in the
  // first execution; a cancel request during the wait is honoured like any other.
  const startAfter = input.policy.startAfter ? new Date(input.policy.startAfter) : undefined;
  if (!input.progress && startAfter && startAfter > context.df.currentUtcDateTime) {
    run.publish("waitingToStart", { nextCheckAt: startAfter, message: "waiting for its staggered start" });
    yield* waitOrCancel(run, startAfter.getTime() - context.df.currentUtcDateTime.getTime());
  }

  let done: Done;
  for (let waits = 0; ; ) {
    const cancel = cancelRequested(run);
    if (cancel) {
      done = yield* cancelAction(run, "Cancelled", `cancelled by ${cancel.requestedBy}: ${cancel.reason}`);
      break;
    }
    if (context.df.currentUtcDateTime >= deadlineOf(run)) {
      done =
        !p.action && p.busyStreak > 0
          ? { done: true, outcome: "DeviceBusy", reason: "the device had another live response session (MDE allows one per device) until the deadline; nothing was submitted" }
          : yield* cancelAction(run, "TimedOut", "the collector's deadline passed before MDE finished the action");
      break;
    }
    const hadAction = p.action !== undefined;
    const result: StepResult = p.action ? yield* poll(run) : yield* submit(run);
    if (!hadAction && p.action && !context.df.isReplaying) {
      context.log(JSON.stringify({ level: "info", message: "live response submitted", instanceId: context.df.instanceId, machineId: input.request.machineId, actionId: p.action.id }));
    }
    if (result.done) {
      done = result;
      break;
    }
    // A cancel that arrived while an activity ran, or the deadline, is acted on at once.
    if (stopRequested(run)) continue;

    run.publish(result.phase, { nextCheckAt: nextCheckAt(run, result.delayInMs), message: result.message });
    yield* waitOrCancel(run, result.delayInMs);
    if (++waits >= MAX_WAITS_PER_EXECUTION) {
      // Bounded history: start a fresh execution carrying only the state that matters (a cancel included).
      cancelRequested(run);
      context.df.continueAsNew({ ...input, progress: { ...p, execution: p.execution + 1 } } satisfies CollectEvidenceInput);
      return undefined;
    }
  }
  return yield* finish(run, done);
};

function* finish(run: Run, result: Done): Generator<import("durable-functions").Task, CollectionSummary, unknown> {
  const { context, input, p } = run;
  run.publish("writingManifest");
  const manifest = buildManifest({
    instanceId: context.df.instanceId,
    trigger: input.request.trigger,
    request: { machineId: input.request.machineId, comment: input.request.comment, commands: input.request.commands },
    outcome: result.outcome,
    outcomeReason: result.reason,
    startedAt: p.startedAt,
    finishedAt: context.df.currentUtcDateTime.toISOString(),
    cancellation: p.cancellation,
    action: p.action,
    collected: p.collected,
    collectionErrors: p.collectionErrors,
  });
  let written: WriteManifestOutput | undefined;
  for (let round = 1; !written; round++) {
    // The evidence is already safe; keep trying to put the manifest beside it through a storage outage.
    const attempt = yield* tryActivity<WriteManifestOutput>(run, ActivityNames.writeManifest, { manifest } satisfies WriteManifestInput);
    if (attempt.ok) written = attempt.value;
    else if (round >= MAX_TRANSIENT_ROUNDS) throw new Error(`the manifest could not be written after ${round} rounds: ${attempt.message}`);
    else yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + TRANSIENT_ROUND_DELAY_IN_MS * 2 ** (round - 1)));
  }
  run.publish(PHASE_OF_OUTCOME[result.outcome], { message: result.reason });
  if (!context.df.isReplaying) {
    context.log(JSON.stringify({ level: "info", message: "collection finished", instanceId: context.df.instanceId, machineId: input.request.machineId, actionId: p.action?.id ?? null, outcome: result.outcome }));
  }
  const summary: CollectionSummary = {
    outcome: result.outcome,
    outcomeReason: result.reason,
    complete: manifest.complete,
    machineId: input.request.machineId,
    actionId: p.action?.id ?? null,
    actionStatus: p.action?.status ?? null,
    manifest: { blobName: written.blobName, blobUrl: written.blobUrl, sha256: written.sha256 },
    evidence: evidenceSummary(p.collected),
    errors: p.collectionErrors,
  };
  if (result.rejection) {
    const { kind: _kind, ...rejection } = result.rejection;
    summary.rejection = rejection;
  }
  return summary;
}
