import type { ChunkedCopyState, EvidenceRecord } from "../activities/contracts";
import type { CancelRequest, CollectionOutcome, CollectionPolicy, CollectionRequest } from "../shared/collection";
import type { MachineAction } from "../shared/mde/models";

/** Everything an execution hands to the next one through continueAsNew. */
export interface CollectionProgress {
  startedAt: string;
  /** 1 for the first execution, +1 at each continueAsNew. */
  execution: number;
  submitAttempts: number;
  /** Submissions in a row that found the device busy with another session (drives their backoff). */
  busyStreak: number;
  action?: MachineAction;
  /** ISO 8601: the accepted action's own deadline (acceptance + the policy's action window). */
  actionDeadline?: string;
  /** Consecutive polls that saw the same action status (drives the backoff). */
  pollsInStatus: number;
  totalPolls: number;
  throttled: number;
  /** Consecutive rounds in which MDE kept failing after the activity's own retries (5xx, network). */
  transientFailures: number;
  collected: EvidenceRecord[];
  /** Results being copied in chunks: where each copy stands, by command index. */
  chunks: Record<number, ChunkedCopyState>;
  /** Collection rounds that failed, per command index; a command gives up after a few. */
  collectAttempts: Record<number, number>;
  collectionErrors: { index: number; code: string; message: string }[];
  cancellation?: CancelRequest;
}

export type Phase =
  /** A scheduled collection waiting for its staggered start (policy.startAfter). */
  | "waitingToStart"
  | "submitting"
  | "deviceBusy"
  | "throttled"
  | "retrying"
  | "queuedOnDevice"
  | "running"
  | "collecting"
  | "cancelling"
  | "writingManifest"
  | "completed"
  | "failed"
  | "timedOut"
  | "cancelled";

/** Custom status: what a person following the status URL sees. Never holds SAS links or evidence content. */
export interface CollectionStatus {
  phase: Phase;
  machineId: string;
  actionId: string | null;
  actionStatus: string | null;
  deadline: string;
  nextCheckAt: string | null;
  submitAttempts: number;
  polls: number;
  commands: { index: number; type: string; status: string }[];
  evidence: { index: number; type: string; blobUrl: string; size: number; sha256: string }[];
  message?: string;
}

export interface CollectionSummary {
  outcome: CollectionOutcome;
  outcomeReason: string;
  complete: boolean;
  machineId: string;
  actionId: string | null;
  actionStatus: string | null;
  manifest: { blobName: string; blobUrl: string; sha256: string } | null;
  evidence: CollectionStatus["evidence"];
  errors: { index: number; code: string; message: string }[];
  rejection?: { statusCode?: number; code: string; message: string; target?: string };
}

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
