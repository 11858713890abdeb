/**
 * The orchestration's input and output: what a trigger resolves before starting a collection, so
 * the orchestrator itself reads no settings and a changed setting never alters a replay.
 */
import type { CollectionSettings } from "./config";
import type { LiveResponseCommand } from "./mde/models";

/** What started a collection; recorded in the manifest. */
export type CollectionTrigger =
  | { kind: "webhook"; caller?: string; idempotencyKey?: string; receivedAt: string; playbook?: string }
  /** A collection plan run by the `scheduledCollection` timer; `scheduledFor` is the schedule occurrence (ISO). */
  | { kind: "schedule"; plan: string; scheduledFor: string; playbook: string }
  /** An alert delivered through Event Grid, matched by an `ALERT_RULES` rule. */
  | { kind: "alert"; alertId: string; source: "graph" | "mde" | "sentinel"; severity?: string; title?: string; playbook: string; rule: string };

/** `DeviceBusy`: the device had another live response session (MDE allows one) until the deadline; nothing was submitted. */
export type CollectionOutcome = "Completed" | "Failed" | "TimedOut" | "Cancelled" | "Rejected" | "DeviceBusy";

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
}

export interface CollectEvidenceInput {
  request: CollectionRequest;
  policy: CollectionPolicy;
  /** Present only after continueAsNew: what the previous execution already did. */
  progress?: import("../orchestrators/progress").CollectionProgress;
}

/**
 * The deadline covers MDE's queue window, the commands' own time limit and a margin, counted from
 * `startAfter` when the collection waits before its first submission.
 */
export function buildCollectionPolicy(settings: CollectionSettings, now: Date, startAfter?: Date): CollectionPolicy {
  const start = startAfter && startAfter > now ? startAfter : now;
  const actionWindowInMs = settings.queueWindowInMs + settings.commandTimeoutInMs + settings.deadlineMarginInMs;
  return {
    ...(start !== now ? { startAfter: start.toISOString() } : {}),
    deadline: new Date(start.getTime() + actionWindowInMs).toISOString(),
    actionWindowInMs,
    pollInitialDelayInMs: settings.pollInitialDelayInMs,
    pollMaxDelayInMs: settings.pollMaxDelayInMs,
    busyRetryDelayInMs: settings.busyRetryDelayInMs,
    throttleDelayInMs: 60_000,
  };
}

export const CANCEL_EVENT = "CancelCollection";
export const COLLECT_EVIDENCE_ORCHESTRATOR = "collectEvidence";
