/** Builders of the orchestration's progress and of the status a person sees. Pure. */
import { alertFileHashCheck } from "../shared/evidence/manifest";
import type { CollectionPolicy, CollectionProgress, CollectionRequest, CollectionStatus, EvidenceRecord, Phase } from "../shared/contract";

/** The progress of a collection that starts now. */
export function newProgress(now: Date): CollectionProgress {
  return {
    startedAt: now.toISOString(),
    execution: 1,
    submitAttempts: 0,
    busyStreak: 0,
    pollsInStatus: 0,
    totalPolls: 0,
    throttled: 0,
    transientFailures: 0,
    collected: [],
    chunks: {},
    collectAttempts: {},
    collectionErrors: [],
  };
}

/** The custom status a person following the status URL sees: never SAS links or evidence content. */
export function buildStatus(
  request: CollectionRequest,
  policy: CollectionPolicy,
  progress: CollectionProgress,
  phase: Phase,
  extra: { nextCheckAt?: Date; message?: string } = {},
): CollectionStatus {
  const status: CollectionStatus = {
    phase,
    machineId: request.machineId,
    actionId: progress.action?.id ?? null,
    actionStatus: progress.action?.status ?? null,
    deadline: progress.actionDeadline ?? policy.deadline,
    nextCheckAt: extra.nextCheckAt?.toISOString() ?? null,
    submitAttempts: progress.submitAttempts,
    polls: progress.totalPolls,
    commands: request.commands.map((c, index) => ({
      index,
      type: c.type,
      status: progress.action?.commands.find((s) => s.index === index)?.commandStatus ?? "NotSubmitted",
    })),
    evidence: evidenceSummary(progress.collected),
  };
  const alertFileHashes = alertFileHashCheck(request.trigger, progress.collected);
  if (alertFileHashes) status.alertFileHashes = alertFileHashes;
  if (extra.message) status.message = extra.message;
  return status;
}

/** What the status and the summary say about each collected result. */
export function evidenceSummary(collected: EvidenceRecord[]): CollectionStatus["evidence"] {
  return collected.map((r) => ({ index: r.index, type: r.type, blobUrl: r.blobUrl, size: r.size, sha256: r.sha256 }));
}
