/**
 * The orchestration's input and output: what a trigger resolves before starting a collection, so
 * the orchestrator itself reads no settings and a changed setting never alters a replay.
 */
import type { CollectionSettings } from "./config";
import type { LiveResponseCommand } from "./mde/models";

/** What started a collection; recorded in the manifest. */
export type CollectionTrigger = { kind: "webhook"; caller?: string; idempotencyKey?: string; receivedAt: string };

export type CollectionOutcome = "Completed" | "Failed" | "TimedOut" | "Cancelled" | "Rejected";

/** Sent as the `CancelCollection` external event by the cancel endpoint. */
export interface CancelRequest {
  requestedBy: string;
  reason: string;
  requestedAt: string;
}

export interface CollectionRequest {
  machineId: string;
  commands: LiveResponseCommand[];
  comment: string;
  trigger: CollectionTrigger;
}

/** Timing the orchestrator follows, fixed when the collection starts. */
export interface CollectionPolicy {
  /** ISO 8601: past it the collector cancels the action and keeps what completed. */
  deadline: string;
  pollInitialDelayInMs: number;
  pollMaxDelayInMs: number;
  busyRetryDelayInMs: number;
  /** Used when a 429 carries no Retry-After. */
  throttleDelayInMs: number;
}

export interface CollectEvidenceInput {
  request: CollectionRequest;
  policy: CollectionPolicy;
  /** Present only after continueAsNew: what the previous execution already did. */
  progress?: import("../orchestrators/progress").CollectionProgress;
}

/** The deadline covers MDE's queue window, the commands' own time limit and a margin. */
export function buildCollectionPolicy(settings: CollectionSettings, now: Date): CollectionPolicy {
  return {
    deadline: new Date(now.getTime() + settings.queueWindowInMs + settings.commandTimeoutInMs + settings.deadlineMarginInMs).toISOString(),
    pollInitialDelayInMs: settings.pollInitialDelayInMs,
    pollMaxDelayInMs: settings.pollMaxDelayInMs,
    busyRetryDelayInMs: settings.busyRetryDelayInMs,
    throttleDelayInMs: 60_000,
  };
}

export const CANCEL_EVENT = "CancelCollection";
export const COLLECT_EVIDENCE_ORCHESTRATOR = "collectEvidence";
