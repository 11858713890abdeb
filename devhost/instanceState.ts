/**
 * Per-instance bookkeeping of the durable engine and the status shapes it reports.
 */
import { randomUUID } from "node:crypto";
import type { WireAction, WireRetryOptions } from "./actions";
import { eventTypeName, type HistoryEvent } from "./history";

/** Runtime statuses the engine reports (the Durable extension's names). */
export type RuntimeStatus = "Pending" | "Running" | "Completed" | "Failed" | "Terminated" | "Suspended";

/** Statuses after which an instance never runs again. */
export const TERMINAL_STATUSES: readonly RuntimeStatus[] = ["Completed", "Failed", "Terminated"];

/** True for Completed, Failed and Terminated. */
export function isTerminal(status: RuntimeStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Status of one instance, shaped like durable-functions' DurableOrchestrationStatus (times as ISO strings). */
export interface OrchestrationStatus {
  name: string;
  instanceId: string;
  createdTime: string;
  lastUpdatedTime: string;
  input: unknown;
  output: unknown;
  runtimeStatus: RuntimeStatus;
  customStatus: unknown;
  /** Current execution's history, EventType as its name; only with `showHistory`. */
  history?: Array<Omit<HistoryEvent, "EventType"> & { EventType: string }>;
}

/** Counters that make replay costs visible to tests. */
export interface InstanceStats {
  /** Orchestrator invocations (one per delivered event). */
  episodes: number;
  /** continueAsNew count + 1. */
  executions: number;
  /** Largest history length any execution reached. */
  maxHistoryEventsPerExecution: number;
  /** Activity invocations per activity name (each retry attempt counts). */
  activityCalls: Record<string, number>;
  /** Durable timers created (user timers, retry timers and long-timer parts). */
  timersCreated: number;
}

/** A callActivityWithRetry in flight: the extension, not the library, re-runs the activity. */
export interface RetryGroup {
  functionName: string;
  input: unknown;
  options: WireRetryOptions;
  /** Attempts that have failed so far + 1, as durable-functions' RetryableTask counts. */
  attemptNumber: number;
}

/** A timer longer than maximumShortTimerDuration, fired as a chain of shorter timers. */
export interface LongTimerGroup {
  finalFireAtMs: number;
  /** Id of the sub-timer now pending (cancellation targets it). */
  currentTimerId: number;
}

/** A pending durable timer. */
export interface PendingTimer {
  instanceId: string;
  executionId: string;
  timerId: number;
  fireAtMs: number;
}

/** One execution (continueAsNew starts a new one with a fresh history and id counter). */
export interface Execution {
  executionId: string;
  history: HistoryEvent[];
  /** Top-level actions already scheduled, for the determinism check. */
  scheduled: WireAction[];
  /** Task id given to each scheduled leaf action, in leaf order (undefined: no id, e.g. external events). */
  leafIds: Array<number | undefined>;
  /** Mirror of the library's per-execution task sequence number. */
  nextId: number;
  retryByTaskId: Map<number, RetryGroup>;
  retryByTimerId: Map<number, RetryGroup>;
  longTimerByTimerId: Map<number, LongTimerGroup>;
  longTimerByLeafId: Map<number, LongTimerGroup>;
}

/** A message waiting to be delivered to an orchestrator, one per episode. */
export interface InboxItem {
  executionId: string;
  event: HistoryEvent;
}

/** Everything the engine knows about one instance. */
export interface InstanceState {
  instanceId: string;
  name: string;
  input: unknown;
  createdTime: Date;
  lastUpdatedTime: Date;
  runtimeStatus: RuntimeStatus;
  customStatus: unknown;
  output: unknown;
  execution: Execution;
  inbox: InboxItem[];
  /** An episode is running (wall-clock mode runs instances concurrently, each one at a time). */
  busy: boolean;
  stats: InstanceStats;
}

/** A fresh execution record. */
export function newExecution(): Execution {
  return {
    executionId: randomUUID().replace(/-/g, ""),
    history: [],
    scheduled: [],
    leafIds: [],
    nextId: 0,
    retryByTaskId: new Map(),
    retryByTimerId: new Map(),
    longTimerByTimerId: new Map(),
    longTimerByLeafId: new Map(),
  };
}

/** A zeroed stats record. */
export function newStats(): InstanceStats {
  return { episodes: 0, executions: 1, maxHistoryEventsPerExecution: 0, activityCalls: {}, timersCreated: 0 };
}

/** The public status of an instance. */
export function toStatus(inst: InstanceState, showHistory = false): OrchestrationStatus {
  const status: OrchestrationStatus = {
    name: inst.name,
    instanceId: inst.instanceId,
    createdTime: inst.createdTime.toISOString(),
    lastUpdatedTime: inst.lastUpdatedTime.toISOString(),
    input: inst.input ?? null,
    output: inst.output ?? null,
    runtimeStatus: inst.runtimeStatus,
    customStatus: inst.customStatus ?? null,
  };
  if (showHistory) {
    status.history = inst.execution.history.map((e) => ({ ...e, EventType: eventTypeName(e.EventType) }));
  }
  return status;
}

/** Sums per-instance stats (max for the history size). */
export function mergeStats(all: InstanceStats[]): InstanceStats {
  const out: InstanceStats = { episodes: 0, executions: 0, maxHistoryEventsPerExecution: 0, activityCalls: {}, timersCreated: 0 };
  for (const s of all) {
    out.episodes += s.episodes;
    out.executions += s.executions;
    out.maxHistoryEventsPerExecution = Math.max(out.maxHistoryEventsPerExecution, s.maxHistoryEventsPerExecution);
    out.timersCreated += s.timersCreated;
    for (const [name, n] of Object.entries(s.activityCalls)) out.activityCalls[name] = (out.activityCalls[name] ?? 0) + n;
  }
  return out;
}
