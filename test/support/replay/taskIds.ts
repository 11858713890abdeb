/**
 * Which task id each replayed action takes, checked against the ids the recorded history holds.
 *
 * durable-functions numbers tasks per execution in the order they are first yielded, and matches
 * TaskCompleted/TimerFired events to tasks by those numbers only: an upgrade that yields a task in
 * another place hands an in-flight instance's results to the wrong task. The extension wrote a
 * TaskScheduled or TimerCreated event (EventId = task id) for every task it scheduled; this mirror
 * of the library's numbering (the same rules devhost/episode.ts follows) says which events the
 * replayed actions should have produced.
 */
import { ActionType, EventType, leafActions, type HistoryEvent, type WireAction, type WireRetryOptions } from "../../../devhost";

/** A scheduled task as the history records it. */
export interface ScheduledTask {
  id: number;
  kind: "activity" | "timer";
  /** Activity name; absent for timers and retry bookkeeping. */
  name?: string;
  fireAt?: string;
}

interface RetryGroup {
  options: WireRetryOptions;
  attempt: number;
}

/** Follows one execution episode by episode; feed it each episode's replayed actions in order. */
export class TaskIdMirror {
  #nextId = 0;
  #leafCount = 0;
  readonly #retryByTask = new Map<number, RetryGroup>();
  readonly #retryByTimer = new Map<number, RetryGroup>();

  /**
   * The tasks episode `delivered` should have scheduled, given the cumulative actions it returned:
   * first the ids the library takes by itself for a retried activity, then one per new leaf action.
   * @throws Error for an action kind the collector never uses (sub-orchestrations, entities, HTTP)
   */
  expectedTasks(delivered: HistoryEvent, actions: WireAction[]): ScheduledTask[] {
    const tasks: ScheduledTask[] = [];
    if (delivered.EventType === EventType.TaskFailed && delivered.TaskScheduledId !== undefined) {
      const group = this.#retryByTask.get(delivered.TaskScheduledId);
      if (group) {
        // The library waits on a retry timer after every failed attempt, the last one included.
        group.attempt++;
        const id = this.#nextId++;
        this.#retryByTimer.set(id, group);
        tasks.push({ id, kind: "timer" });
      }
    } else if (delivered.EventType === EventType.TimerFired && delivered.TimerId !== undefined) {
      const group = this.#retryByTimer.get(delivered.TimerId);
      if (group && group.attempt <= group.options.maxNumberOfAttempts) {
        const id = this.#nextId++;
        this.#retryByTask.set(id, group);
        tasks.push({ id, kind: "activity" });
      }
    }
    const leaves = leafActions(actions);
    for (const leaf of leaves.slice(this.#leafCount)) {
      switch (leaf.actionType) {
        case ActionType.CallActivity:
        case ActionType.CallActivityWithRetry: {
          const id = this.#nextId++;
          if (leaf.retryOptions) this.#retryByTask.set(id, { options: leaf.retryOptions, attempt: 1 });
          tasks.push({ id, kind: "activity", name: leaf.functionName });
          break;
        }
        case ActionType.CreateTimer: {
          const id = this.#nextId++;
          // A timer cancelled in the episode that created it takes an id but is never scheduled.
          if (!leaf.isCanceled) tasks.push({ id, kind: "timer", fireAt: leaf.fireAt });
          break;
        }
        case ActionType.WaitForExternalEvent:
        case ActionType.ContinueAsNew:
          break;
        default:
          throw new Error(`action type ${leaf.actionType} is not one the collector's orchestrator uses`);
      }
    }
    this.#leafCount = leaves.length;
    return tasks;
  }
}

/**
 * The tasks the extension scheduled in the episode whose OrchestratorStarted is at `start`, as the
 * history records them; retry bookkeeping (no name) is compared by id and kind only.
 */
export function recordedTasks(history: HistoryEvent[], start: number): ScheduledTask[] {
  const tasks: ScheduledTask[] = [];
  for (let i = start + 2; i < history.length && history[i]!.EventType !== EventType.OrchestratorStarted; i++) {
    const e = history[i]!;
    // Inputs are not compared: the extension matches a history's tasks by id and name only.
    if (e.EventType === EventType.TaskScheduled) tasks.push({ id: e.EventId, kind: "activity", name: e.Name });
    if (e.EventType === EventType.TimerCreated) tasks.push({ id: e.EventId, kind: "timer", fireAt: e.FireAt });
  }
  return tasks;
}

/** Drops what the mirror cannot know (retry timers' and retry attempts' details) from a recorded task. */
export function comparable(recorded: ScheduledTask, expected: ScheduledTask): ScheduledTask {
  if (expected.name === undefined && expected.fireAt === undefined) return { id: recorded.id, kind: recorded.kind };
  return recorded;
}
