/**
 * The orchestration's data contract, in one place: what a trigger hands the orchestrator (input,
 * policy), what the orchestrator carries between executions (progress), what a person sees (status,
 * summary), what each activity takes and returns, and the manifest written last. Types and constants
 * only: orchestrators, activities and triggers all import it, and it imports nothing of theirs.
 *
 * Expected activity outcomes are values (discriminated unions) because error classes do not survive
 * the activity boundary; only transient or unknown faults are thrown, and `callActivityWithRetry` retries them.
 */
import type { VerifiedCaller } from "./auth/caller";
import type { ChunkedCopyState, CopyResult } from "./evidence/types";
import type { LiveResponseCommand, MachineAction, RunScriptTranscript } from "./mde/models";

export type { ChunkedCopyState };

export const COLLECT_EVIDENCE_ORCHESTRATOR = "collectEvidence";
/** The external event the cancel endpoint raises. */
export const CANCEL_EVENT = "CancelCollection";
/**
 * Raised by the action poller (functions/actionPoller.ts) on a watched collection: its action
 * changed, or a session slot it queues for is free. Either way: look again.
 */
export const ACTION_UPDATED_EVENT = "ActionUpdated";

// ---- Input: resolved by the trigger, so the orchestrator reads no settings and a changed setting never alters a replay.

/** What started a collection; recorded in the manifest. */
export type CollectionTrigger =
  | {
      kind: "webhook";
      /**
       * Who called, as the token proved it (never a name the caller typed). Every webhook start
       * records it; absent only in collections started before the endpoints were authenticated.
       */
      caller?: VerifiedCaller;
      idempotencyKey?: string;
      receivedAt: string;
      playbook?: string;
    }
  /** A collection plan run by the `scheduledCollection` timer; `scheduledFor` is the schedule occurrence (ISO). */
  | { kind: "schedule"; plan: string; scheduledFor: string; playbook: string }
  /** An alert (Event Grid, or the Defender XDR streaming API through Event Hubs), matched by an `ALERT_RULES` rule. */
  | {
      kind: "alert";
      alertId: string;
      source: "graph" | "mde" | "sentinel" | "streaming";
      severity?: string;
      title?: string;
      playbook: string;
      rule: string;
      /**
       * Lowercase hex SHA-256 of the files the alert's evidence names (on this device, or on no
       * device in particular); the manifest and the status compare each collected file with them.
       * Absent in collections started before this was recorded, and when the alert names no hash.
       */
      expectedSha256?: string[];
    };

/**
 * `DeviceBusy`: the device had another live response session (MDE allows one) until the deadline; nothing was submitted.
 * `Terminated` and `Crashed` are written only by the `collectionSweep` timer, for an instance terminated through the
 * Durable API or failed without writing its manifest.
 */
export type CollectionOutcome = "Completed" | "Failed" | "TimedOut" | "Cancelled" | "Rejected" | "DeviceBusy" | "Terminated" | "Crashed";

/**
 * Sent as the `CancelCollection` external event by the cancel endpoint (built by
 * shared/cancelRequest.ts, which the orchestrator also uses to refuse anything else).
 */
export interface CancelRequest {
  /** The verified caller as one line: name and object id (`describeCaller`). */
  requestedBy: string;
  /** The verified caller's Entra object id; absent only in cancellations recorded before authentication. */
  requestedByObjectId?: string;
  reason: string;
  requestedAt: string;
}

export interface CollectionRequest {
  machineId: string;
  commands: LiveResponseCommand[];
  comment: string;
  trigger: CollectionTrigger;
  /**
   * The reviewed SHA-256 of each library file the RunScript and PutFile commands name (shared/library):
   * the submit activity compares them with MDE's library right before it submits. A file with no entry
   * had no reviewed hash. Absent in collections started before the check existed.
   */
  libraryFiles?: ReviewedLibraryFile[];
}

/** The SHA-256 a collection expects of one live response library file: the copy reviewed in Git. */
export interface ReviewedLibraryFile {
  fileName: string;
  /** Lowercase hex. */
  sha256: string;
  /** Pinned in the playbook (`librarySha256`), or the same-named file of the deployed `library/` folder. */
  source: "playbook" | "library";
}

/**
 * What the library check found for one file, right before submission (or `notChecked` when no submission
 * was attempted). `match`: MDE holds the reviewed bytes; `changed` and `missing` refuse the collection;
 * `unreviewed` refuses it too (no reviewed hash), unless LIBRARY_ALLOW_UNREVIEWED made it `unreviewedAllowed`.
 */
export interface LibraryFileCheck {
  fileName: string;
  expectedSha256: string | null;
  expectedFrom: ReviewedLibraryFile["source"] | null;
  /** The SHA-256 MDE's library listed, or null when the file was missing (or not checked). */
  observedSha256: string | null;
  verdict: "match" | "changed" | "missing" | "unreviewed" | "unreviewedAllowed" | "notChecked";
  /** When the library was listed (the activity's clock), or null when it was not. */
  checkedAt: string | null;
}

/** Timing the orchestrator follows, fixed when the collection starts. */
export interface CollectionPolicy {
  /**
   * ISO 8601: past it the collector gives up submitting (a device that stays busy with another
   * session) or, once MDE accepted the action, cancels it and keeps what completed.
   */
  deadline: string;
  /**
   * Once MDE accepts the action, its own deadline is this long after acceptance (queue window +
   * command timeout + margin), so time spent waiting for a busy device does not eat MDE's queue window.
   */
  actionWindowInMs?: number;
  pollInitialDelayInMs: number;
  pollMaxDelayInMs: number;
  busyRetryDelayInMs: number;
  /** Used when a 429 carries no Retry-After. */
  throttleDelayInMs: number;
  /**
   * ISO 8601: the orchestrator waits on a durable timer until then before its first submission.
   * Scheduled runs stagger their collections with it so the tenant's runliveresponse rate limit is not
   * spent on 429s. Absent: submit at once.
   */
  startAfter?: string;
  /**
   * Batched status polling (functions/actionPoller.ts): the collection waits for the poller's
   * ActionUpdated event, with a slow fallback timer, and takes the poller's copy of the action.
   * Absent in collections started before it, which keep polling on their own.
   */
  watched?: true;
}

export interface CollectEvidenceInput {
  request: CollectionRequest;
  policy: CollectionPolicy;
  /** Present only after continueAsNew: what the previous execution already did. */
  progress?: CollectionProgress;
}

// ---- Progress and status

/** Everything an execution hands to the next one through continueAsNew. */
export interface CollectionProgress {
  startedAt: string;
  /** 1 for the first execution, +1 at each continueAsNew. */
  execution: number;
  submitAttempts: number;
  /** Submissions in a row that found the device busy with another session (drives their backoff). */
  busyStreak: number;
  /** A submission found the device busy with another session (watched collections: the action then gets its own window). */
  deviceWasBusy?: true;
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
  /** What the library check found at the last submission that reached it (RunScript and PutFile only). */
  libraryFiles?: LibraryFileCheck[];
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
  /** Present when an alert started the collection and named file hashes: each collected file compared with them. */
  alertFileHashes?: AlertFileHashCheck;
  message?: string;
}

/**
 * The collected files compared with the SHA-256 the alert named: each GetFile result's decompressed
 * SHA-256 (gzip) or raw SHA-256. `matched`: at least one collected file is one the alert names.
 */
export interface AlertFileHashCheck {
  expected: string[];
  results: { index: number; sha256: string; compared: "decompressed" | "raw"; match: boolean }[];
  matched: boolean;
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
  alertFileHashes?: AlertFileHashCheck;
}

// ---- Activities

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
  /**
   * The library check of this submission, when it got that far. A refusal by the collector itself has no
   * statusCode and a code LibraryFileChanged, LibraryFileMissing, LibraryFileUnreviewed (or MDE's code when
   * it refused to list the library): nothing was submitted.
   */
  libraryFiles?: LibraryFileCheck[];
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
  /** The request's reviewed library hashes (CollectionRequest.libraryFiles); absent for collections started before the check. */
  libraryFiles?: ReviewedLibraryFile[];
  /** The collection is watched (policy.watched): an accepted action goes on the action poller's watch list. */
  watchedBy?: string;
}
export type SubmitOutput =
  | {
      kind: "submitted";
      action: MachineAction;
      /** true when an earlier attempt's action was found and reused */
      reused: boolean;
      /** The library check of this submission, when the request names library files. */
      libraryFiles?: LibraryFileCheck[];
    }
  | { kind: "deviceBusy"; message: string }
  | Throttled
  | Rejected;

/**
 * The lookup half of a submission: the action an earlier attempt created, if MDE accepted it although
 * its answer was lost. `rejected`: MDE refused the lookup (401, 403, 404); retrying cannot help.
 */
export type FindOutput = { kind: "found"; action: MachineAction } | { kind: "notFound" } | Throttled | Rejected;

export interface GetActionInput {
  actionId: string;
  /**
   * The collection is on the action poller's watch list (policy.watched): a fresh copy the poller
   * read stands for a read of MDE, and a read of MDE is recorded for the poller. Absent in
   * collections started before batched polling (their histories replay unchanged).
   */
  watchedBy?: string;
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
  /** The Functions invocation id of the collect activity call that committed (or found) the blob; absent in older records. */
  invocationId?: string;
}
/**
 * `inProgress`: one bounded chunk was staged; call again with `chunk` (a fresh link is fetched each
 * time, so no link outlives a chunk). `chunk` is absent when the copy must start over (the source changed).
 */
export type CollectOutput =
  { kind: "collected"; evidence: EvidenceRecord } | { kind: "inProgress"; chunk?: ChunkedCopyState } | Throttled | Rejected;

export interface CancelInput {
  actionId: string;
  comment: string;
}
/** `action` is re-read after cancelling: a cancel can race with completion and completed results are kept. */
export type CancelOutput = { kind: "cancelled" | "alreadyFinal"; action: MachineAction } | Throttled | Rejected;

export interface WriteManifestInput {
  manifest: Manifest;
}
export interface WriteManifestOutput {
  blobName: string;
  blobUrl: string;
  sha256: string;
  created: boolean;
  /**
   * Set when the manifest's usual name (or its signature's) was already taken by a document this
   * collection did not write: the manifest then went to `manifest-{instanceId}.json`, recording it.
   */
  integrityError?: { code: "IntegrityError"; message: string };
  /** With MANIFEST_TIMESTAMP_URL: the RFC 3161 token stored beside the manifest (`manifest.timestamp.tsr`). */
  timestamp?: { blobName: string; genTime: string; created: boolean };
  /** With MANIFEST_TIMESTAMP_URL: why no token is stored (the TSA failed, refused or answered wrongly); the manifest stands. */
  timestampWarning?: { code: "TimestampUnavailable"; reason: string; message: string };
}

// ---- Manifest

/** Written last, at `{prefix}/{machineId}/{actionId}/manifest.json`: its presence means the collection is finished. */
export interface Manifest {
  schema: "mde-live-response-evidence-manifest/v1";
  instanceId: string;
  trigger: CollectionTrigger;
  request: { machineId: string; comment: string; commands: LiveResponseCommand[] };
  outcome: CollectionOutcome;
  /** Why the collection ended this way, in words a SOC engineer can act on. */
  outcomeReason: string;
  /** true when every command that produces a result has its evidence blob. */
  complete: boolean;
  startedAt: string;
  finishedAt: string;
  cancellation?: CancelRequest;
  /** The machine action as MDE last returned it. */
  machineAction: MachineAction | null;
  commands: ManifestCommand[];
  /** Documents found at this collection's names that it did not write (a pre-planted manifest or signature). */
  integrityErrors?: { blobName: string; code: "IntegrityError"; message: string }[];
  /** Set when an alert started the collection and named file hashes. */
  alertFileHashes?: AlertFileHashCheck;
  /**
   * Set when RunScript or PutFile named library files: each file's reviewed SHA-256 and the one MDE's
   * library held right before submission (shared/library/libraryCheck.ts).
   */
  libraryFiles?: LibraryFileCheck[];
  /**
   * The final machine action exactly as MDE returned it (GET /api/machineactions/{id}, every field,
   * `requestSource`, `externalId`, `troubleshootInfo`, `title`, `scope` included), re-read by the
   * manifest writer; `unavailable` says why it could not be read (throttled, refused, no action).
   */
  machineActionAsReturned?: Record<string, unknown> | { unavailable: string };
  /** Who wrote this manifest and when, on the collector's clock (beside MDE's times in `machineAction`). */
  collector?: CollectorRecord;
  /** Set by the collectionSweep timer: what the Durable runtime reported for an instance that ended without its own manifest. */
  sweep?: { runtimeStatus: string; lastUpdatedTime: string; cancelAction: string; detail?: string };
}

/** The collector's side of a manifest: its build, the writer's invocation, its clock. */
export interface CollectorRecord {
  /** package.json version. */
  version: string;
  /** Git commit the deployed build came from, or "unknown". */
  commit: string;
  /** Functions invocation id of the call that wrote the manifest (writeManifest activity or collectionSweep timer). */
  manifestInvocationId: string;
  /** When the manifest was written, on the collector's clock (ISO 8601). */
  manifestWrittenAt: string;
}

export interface ManifestCommand {
  index: number;
  type: string;
  params: LiveResponseCommand["params"];
  /** MDE's commandStatus; `Created` after a failed command means MDE never ran it. */
  status: string;
  executed: boolean;
  errors: string[];
  startTime: string | null;
  endTime: string | null;
  evidence?: Omit<EvidenceRecord, "index" | "type" | "transcript" | "transcriptError" | "created">;
  transcript?: EvidenceRecord["transcript"];
  transcriptError?: string;
  collectionError?: { code: string; message: string };
}
