/** Builders of the orchestration's progress and of the status a person sees. Pure. */
import type { CollectionPolicy, CollectionProgress, CollectionRequest, CollectionStatus, EvidenceRecord, Phase } from "../shared/contract";

export function newProgress(now: Date): CollectionProgress {
  return { startedAt: now.toISOString(), execution: 1, submitAttempts: 0, busyStreak: 0, pollsInStatus: 0, totalPolls: 0, throttled: 0, transientFailures: 0, collected: [], chunks: {}, collectAttempts: {}, collectionErrors: [] };
}

export function buildStatus(
  request: CollectionRequest,
  policy: CollectionPolicy,
  p: CollectionProgress,
  phase: Phase,
  extra: { nextCheckAt?: Date; message?: string } = {},
): CollectionStatus {
  const status: CollectionStatus = {
    phase,
    machineId: request.machineId,
    actionId: p.action?.id ?? null,
    actionStatus: p.action?.status ?? null,
    deadline: p.actionDeadline ?? policy.deadline,
    nextCheckAt: extra.nextCheckAt?.toISOString() ?? null,
    submitAttempts: p.submitAttempts,
    polls: p.totalPolls,
    commands: request.commands.map((c, index) => ({
      index,
      type: c.type,
      status: p.action?.commands.find((s) => s.index === index)?.commandStatus ?? "NotSubmitted",
    })),
    evidence: evidenceSummary(p.collected),
  };
  if (extra.message) status.message = extra.message;
  return status;
}

export function evidenceSummary(collected: EvidenceRecord[]): CollectionStatus["evidence"] {
  return collected.map((r) => ({ index: r.index, type: r.type, blobUrl: r.blobUrl, size: r.size, sha256: r.sha256 }));
}
