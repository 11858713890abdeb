import { ActivityNames, type CollectionOutcome, type CollectionSummary, type Manifest, type Phase } from "../shared/contract";
import type { WriteManifestInput, WriteManifestOutput } from "../shared/contract";
import { buildManifest } from "../shared/evidence/manifest";
import { afterFailedRound } from "../shared/timing";
import { logOnce, sleep, tryActivity, type CollectionRun, type Durable, type Finished } from "./collectionRun";
import { evidenceSummary } from "./progress";

const PHASE_OF_OUTCOME: Record<CollectionOutcome, Phase> = {
  Completed: "completed",
  Failed: "failed",
  Rejected: "failed",
  TimedOut: "timedOut",
  Cancelled: "cancelled",
  DeviceBusy: "failed",
  // Written by the collectionSweep timer, never by this orchestrator.
  Terminated: "failed",
  Crashed: "failed",
};

/**
 * Writes the manifest beside the evidence, last, and returns the summary.
 * @throws Error when the manifest cannot be written even after every round of retries (the instance fails)
 */
export function* finish(run: CollectionRun, finished: Finished): Durable<CollectionSummary> {
  const { context, input, progress } = run;
  run.publish("writingManifest");
  const manifest = buildManifest({
    instanceId: context.df.instanceId,
    trigger: input.request.trigger,
    request: { machineId: input.request.machineId, comment: input.request.comment, commands: input.request.commands },
    outcome: finished.outcome,
    outcomeReason: finished.reason,
    startedAt: progress.startedAt,
    finishedAt: context.df.currentUtcDateTime.toISOString(),
    cancellation: progress.cancellation,
    action: progress.action,
    collected: progress.collected,
    collectionErrors: progress.collectionErrors,
    reviewedLibraryFiles: input.request.libraryFiles,
    libraryFiles: progress.libraryFiles,
  });
  const written = yield* writeManifest(run, manifest);
  run.publish(PHASE_OF_OUTCOME[finished.outcome], { message: finished.reason });
  logOnce(run, "collection finished", { actionId: progress.action?.id ?? null, outcome: finished.outcome });
  const summary: CollectionSummary = {
    outcome: finished.outcome,
    outcomeReason: finished.reason,
    complete: manifest.complete,
    machineId: input.request.machineId,
    actionId: progress.action?.id ?? null,
    actionStatus: progress.action?.status ?? null,
    manifest: { blobName: written.blobName, blobUrl: written.blobUrl, sha256: written.sha256 },
    evidence: evidenceSummary(progress.collected),
    errors: progress.collectionErrors,
  };
  if (manifest.alertFileHashes) summary.alertFileHashes = manifest.alertFileHashes;
  if (finished.rejection) {
    const { kind: _kind, ...rejection } = finished.rejection;
    summary.rejection = rejection;
  }
  return summary;
}

/** The evidence is already safe; keep trying to put the manifest beside it through a storage outage. */
function* writeManifest(run: CollectionRun, manifest: Manifest): Durable<WriteManifestOutput> {
  for (let round = 1; ; round++) {
    const attempt = yield* tryActivity<WriteManifestOutput>(run, ActivityNames.writeManifest, { manifest } satisfies WriteManifestInput);
    if (attempt.ok) return attempt.value;
    const decision = afterFailedRound(round);
    if (!decision.retry) throw new Error(`the manifest could not be written after ${round} rounds: ${attempt.message}`);
    yield* sleep(run, decision.delayInMs);
  }
}
