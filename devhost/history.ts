/**
 * Orchestration history as the Durable extension hands it to an out-of-process orchestrator:
 * PascalCase events, `Input`/`Result` as JSON strings (durable-functions `JSON.parse`s them).
 */

/** HistoryEventType of DurableTask.Core, as numbered on the wire. */
export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  GenericEvent: 17,
  HistoryState: 18,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;
export type EventTypeValue = (typeof EventType)[keyof typeof EventType];

const eventTypeNames = Object.fromEntries(Object.entries(EventType).map(([k, v]) => [v, k])) as Record<number, string>;

/** Name of an event type (`"TaskCompleted"`), for readable status output. */
export function eventTypeName(type: number): string {
  return eventTypeNames[type] ?? `Unknown(${type})`;
}

/** One history event. Per-type fields are optional; Timestamp is an ISO string on the wire. */
export interface HistoryEvent {
  EventType: EventTypeValue;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  Name?: string;
  Input?: string;
  Result?: string;
  TaskScheduledId?: number;
  TimerId?: number;
  FireAt?: string;
  Reason?: string;
  Details?: string;
  OrchestrationStatus?: string;
  OrchestrationInstance?: { InstanceId: string; ExecutionId: string };
}

type EventFields = Omit<HistoryEvent, "EventType" | "EventId" | "IsPlayed" | "Timestamp">;

/** Builds an event; `EventId` is -1 except for TaskScheduled/TimerCreated (their task id). */
export function historyEvent(type: EventTypeValue, timestamp: Date, fields: EventFields = {}, eventId = -1): HistoryEvent {
  return { EventType: type, EventId: eventId, IsPlayed: false, Timestamp: timestamp.toISOString(), ...fields };
}

/** JSON text of a value as the extension stores it; `undefined` becomes `null` (JSON has no undefined). */
export function toJsonText(value: unknown): string {
  // JSON.stringify answers undefined for functions and symbols: those become null too.
  return JSON.stringify(value === undefined ? null : value) ?? "null";
}

/** Parses stored JSON text; absent text is `null`. */
export function fromJsonText(text: string | undefined): unknown {
  return text === undefined || text === "" ? null : (JSON.parse(text) as unknown);
}

/**
 * The worker's conversion of a string binding value: JSON if it parses, else the string itself.
 * durable-functions JSON-stringifies string inputs of activities, and this undoes it.
 */
export function tryJsonParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Passes a value through JSON, as crossing the host does (drops functions, Dates become strings). */
export function jsonRoundTrip(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value) ?? "null") as unknown);
}
