/**
 * Names and input/output types of every activity. Orchestrators import this file only (types and
 * names, no I/O). Expected outcomes are returned as values because error classes do not survive the
 * activity boundary; only transient or unknown faults are thrown, and `callActivityWithRetry` retries them.
 */
import type { ChunkedCopyState, CopyResult } from "../shared/evidence/types";
import type { LiveResponseCommand, MachineAction, RunScriptTranscript } from "../shared/mde/models";

export const ActivityNames = {
  submitLiveResponse: "submitLiveResponse",
  findLiveResponse: "findLiveResponse",
  getMachineAction: "getMachineAction",
  collectCommandResult: "collectCommandResult",
  cancelMachineAction: "cancelMachineAction",
  writeManifest: "writeManifest",
} as const;

/** MDE answered 429: wait `retryAfterInMs` (or a backoff) on a durable timer, never inside an activity. */
export interface Throttled {
  kind: "throttled";
  retryAfterInMs?: number;
}

/** MDE refused for good (400 validation, 401, 403, 404): retrying cannot help. */
export interface Rejected {
  kind: "rejected";
  statusCode?: number;
  code: string;
  message: string;
  /** MDE's correlation id, what Microsoft support asks for. */
  target?: string;
}

export interface SubmitInput {
  machineId: string;
  commands: LiveResponseCommand[];
  /** The comment sent to MDE, already carrying the correlation marker. */
  comment: string;
  /** Text unique to this orchestration inside the comment, used to find an action a lost answer created. */
  correlationMarker: string;
  /** Only actions created after this (ISO 8601) can belong to this orchestration. */
  notBefore: string;
}
export type SubmitOutput =
  | { kind: "submitted"; action: MachineAction; /** true when an earlier attempt's action was found and reused */ reused: boolean }
  | { kind: "deviceBusy"; message: string }
  | Throttled
  | Rejected;

/** The lookup half of a submission: the action an earlier attempt created, if MDE accepted it although its answer was lost. */
export type FindOutput = { kind: "found"; action: MachineAction } | { kind: "notFound" } | Throttled;

export interface GetActionInput {
  actionId: string;
}
export type GetActionOutput = { kind: "action"; action: MachineAction } | Throttled | Rejected;

export interface CollectInput {
  instanceId: string;
  machineId: string;
  actionId: string;
  index: number;
  command: LiveResponseCommand;
  /** Where the previous call stopped, for a result copied in chunks; absent on the first call. */
  chunk?: ChunkedCopyState;
}

/** One command result as it landed in the evidence container. */
export interface EvidenceRecord extends Omit<CopyResult, "head"> {
  index: number;
  type: string;
  /** RunScript only: the parsed transcript (long outputs truncated here; the blob holds them whole). */
  transcript?: RunScriptTranscript & { truncated?: boolean };
  transcriptError?: string;
}
/**
 * `inProgress`: one bounded chunk was staged; call again with `chunk` (a fresh link is fetched each
 * time, so no link outlives a chunk). `chunk` is absent when the copy must start over (the source changed).
 */
export type CollectOutput = { kind: "collected"; evidence: EvidenceRecord } | { kind: "inProgress"; chunk?: ChunkedCopyState } | Throttled | Rejected;
export type { ChunkedCopyState };

export interface CancelInput {
  actionId: string;
  comment: string;
}
/** `action` is re-read after cancelling: a cancel can race with completion and completed results are kept. */
export type CancelOutput = { kind: "cancelled" | "alreadyFinal"; action: MachineAction } | Throttled | Rejected;

export interface WriteManifestInput {
  manifest: import("../shared/evidence/manifest").Manifest;
}
export interface WriteManifestOutput {
  blobName: string;
  blobUrl: string;
  sha256: string;
  created: boolean;
}
