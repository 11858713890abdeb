/**
 * The moving parts behind {@link DurableEngine}: instance table, activity queue, durable timers,
 * episode dispatch and the wall-clock pump. The engine's public API lives in durableEngine.ts.
 */
import { runActivity, type ActivityOutcome } from "./activityInvoker";
import type { Clock } from "./clock";
import { runEpisode, type EpisodeHost, type EpisodeOutcome } from "./episode";
import { EventType, historyEvent, toJsonText, type HistoryEvent } from "./history";
import type { DevhostLogger } from "./invocation";
import { isTerminal, newExecution, type InstanceState, type PendingTimer, type RuntimeStatus } from "./instanceState";
import type { DurableClientBindingData } from "./httpApiWire";
import type { FunctionRegistry } from "./registry";

interface ActivityWork {
  instanceId: string;
  executionId: string;
  taskId: number;
  functionName: string;
  input: unknown;
}

// setTimeout cannot wait longer than 2^31-1 ms; longer timers re-arm.
const MAX_SET_TIMEOUT_MS = 2_147_483_647;

/** Internal state machine of the engine (not exported from the devhost API). */
export class EngineCore {
  readonly instances = new Map<string, InstanceState>();
  #timers: PendingTimer[] = [];
  #activities: ActivityWork[] = [];
  #waiters = new Map<string, Array<() => void>>();
  #running = false;
  #pumpScheduled = false;
  #wakeTimer: NodeJS.Timeout | undefined;
  #inFlight = new Set<Promise<void>>();
  readonly #host: EpisodeHost;
  /** Binding data for activities' durable client inputs: set by the Durable HTTP API that serves this engine. */
  durableClientBinding: (() => DurableClientBindingData | undefined) | undefined;

  constructor(
    readonly clock: Clock,
    readonly registry: FunctionRegistry,
    readonly logger: DevhostLogger,
  ) {
    this.#host = {
      registry,
      logger,
      scheduleActivity: (inst, taskId, functionName, input) => {
        inst.stats.activityCalls[functionName] = (inst.stats.activityCalls[functionName] ?? 0) + 1;
        this.#activities.push({ instanceId: inst.instanceId, executionId: inst.execution.executionId, taskId, functionName, input });
      },
      scheduleTimer: (inst, timerId, fireAtMs) => {
        inst.stats.timersCreated++;
        this.#timers.push({ instanceId: inst.instanceId, executionId: inst.execution.executionId, timerId, fireAtMs });
      },
      cancelTimer: (inst, timerId) => {
        this.#timers = this.#timers.filter(
          (t) => !(t.instanceId === inst.instanceId && t.executionId === inst.execution.executionId && t.timerId === timerId),
        );
      },
    };
  }

  /** Whether the wall-clock pump runs. */
  get running(): boolean {
    return this.#running;
  }

  /** Pending timers, earliest first. */
  pendingTimers(): PendingTimer[] {
    return [...this.#timers].sort((a, b) => a.fireAtMs - b.fireAtMs || a.timerId - b.timerId);
  }

  /** Queues the ExecutionStarted message of the instance's current execution (always first). */
  enqueueExecutionStarted(inst: InstanceState, now: Date): void {
    const event = historyEvent(EventType.ExecutionStarted, now, {
      Name: inst.name,
      Input: toJsonText(inst.input),
      OrchestrationInstance: { InstanceId: inst.instanceId, ExecutionId: inst.execution.executionId },
    });
    inst.inbox.unshift({ executionId: inst.execution.executionId, event });
  }

  /** Queues a message for the instance's current execution and wakes the pump. */
  enqueue(inst: InstanceState, event: HistoryEvent): void {
    inst.inbox.push({ executionId: inst.execution.executionId, event });
    this.kick();
  }

  /** Calls `callback` once the instance reaches a terminal status. */
  onTerminal(instanceId: string, callback: () => void): void {
    const list = this.#waiters.get(instanceId) ?? [];
    list.push(callback);
    this.#waiters.set(instanceId, list);
  }

  /** Moves an instance to a terminal status and drops its pending work. */
  finish(inst: InstanceState, status: RuntimeStatus, output: unknown, now: Date): void {
    inst.runtimeStatus = status;
    inst.output = output ?? null;
    inst.lastUpdatedTime = now;
    inst.inbox = [];
    this.#dropWork(inst);
    const waiters = this.#waiters.get(inst.instanceId) ?? [];
    this.#waiters.delete(inst.instanceId);
    waiters.forEach((w) => w());
  }

  /** Virtual mode: one round of episodes, else one batch of activities. @returns whether work was done */
  async step(): Promise<boolean> {
    const ready = [...this.instances.values()].filter((i) => this.#runnable(i));
    if (ready.length > 0) {
      for (const inst of ready) await this.#episode(inst);
      return true;
    }
    if (this.#activities.length > 0) {
      // Run the batch concurrently but deliver results in scheduling order: reproducible runs.
      const batch = this.#activities.splice(0);
      const outcomes = await Promise.all(batch.map((w) => this.#invokeActivity(w)));
      batch.forEach((w, i) => this.#deliverActivityResult(w, outcomes[i]!));
      return true;
    }
    return false;
  }

  /** Turns every timer due at the clock's now into a TimerFired message. */
  fireDueTimers(): void {
    const nowMs = this.clock.now().getTime();
    const due = this.pendingTimers().filter((t) => t.fireAtMs <= nowMs);
    this.#timers = this.#timers.filter((t) => t.fireAtMs > nowMs);
    for (const t of due) {
      const inst = this.instances.get(t.instanceId);
      if (!inst || isTerminal(inst.runtimeStatus) || inst.execution.executionId !== t.executionId) continue;
      const event = historyEvent(EventType.TimerFired, new Date(nowMs), { TimerId: t.timerId, FireAt: new Date(t.fireAtMs).toISOString() });
      inst.inbox.push({ executionId: t.executionId, event });
    }
    if (due.length > 0) this.kick();
  }

  /** Wall-clock mode: run work as it arrives. */
  startPump(): void {
    this.#running = true;
    this.kick();
  }

  /** Stops the pump and waits for episodes and activities in flight. */
  async stopPump(): Promise<void> {
    this.#running = false;
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Wall-clock mode: schedule a pump pass (no-op otherwise). */
  kick(): void {
    if (!this.#running || this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #runnable(inst: InstanceState): boolean {
    return !inst.busy && inst.inbox.length > 0 && !isTerminal(inst.runtimeStatus) && inst.runtimeStatus !== "Suspended";
  }

  async #episode(inst: InstanceState): Promise<void> {
    const item = inst.inbox.shift();
    if (!item) return;
    // Messages of an execution that ended with continueAsNew are stale (external events are carried over).
    if (item.executionId !== inst.execution.executionId) return;
    inst.busy = true;
    const now = this.clock.now();
    let outcome: EpisodeOutcome;
    try {
      outcome = await runEpisode(this.#host, inst, item, now);
    } finally {
      inst.busy = false;
    }
    // A terminate that arrived while the episode ran wins.
    if (isTerminal(inst.runtimeStatus)) return;
    inst.lastUpdatedTime = now;
    if (inst.runtimeStatus === "Pending") inst.runtimeStatus = "Running";
    switch (outcome.kind) {
      case "running":
        return;
      case "completed":
        inst.execution.history.push(
          historyEvent(EventType.ExecutionCompleted, now, { OrchestrationStatus: "Completed", Result: toJsonText(outcome.output) }),
        );
        this.finish(inst, "Completed", outcome.output, now);
        return;
      case "failed":
        this.logger({ level: "error", functionName: inst.name, instanceId: inst.instanceId, message: outcome.message });
        this.finish(inst, "Failed", outcome.message, now);
        return;
      case "continuedAsNew":
        this.#continueAsNew(inst, outcome.input, now);
    }
  }

  #continueAsNew(inst: InstanceState, input: unknown, now: Date): void {
    this.#dropWork(inst);
    const carried = inst.inbox.filter((m) => m.event.EventType === EventType.EventRaised);
    inst.execution = newExecution();
    inst.input = input ?? null;
    inst.stats.executions++;
    // External events raised during the switch belong to the new execution, not the old one.
    inst.inbox = carried.map((m) => ({ ...m, executionId: inst.execution.executionId }));
    this.enqueueExecutionStarted(inst, now);
    this.kick();
  }

  #dropWork(inst: InstanceState): void {
    this.#timers = this.#timers.filter((t) => t.instanceId !== inst.instanceId);
    this.#activities = this.#activities.filter((a) => a.instanceId !== inst.instanceId);
  }

  #invokeActivity(work: ActivityWork): Promise<ActivityOutcome> {
    return runActivity(this.registry, work.functionName, work.input, this.logger, work.instanceId, this.durableClientBinding?.());
  }

  #deliverActivityResult(work: ActivityWork, outcome: ActivityOutcome): void {
    const inst = this.instances.get(work.instanceId);
    if (!inst || isTerminal(inst.runtimeStatus) || inst.execution.executionId !== work.executionId) return;
    const now = this.clock.now();
    const event = outcome.ok
      ? historyEvent(EventType.TaskCompleted, now, { TaskScheduledId: work.taskId, Result: outcome.resultJson })
      : historyEvent(EventType.TaskFailed, now, { TaskScheduledId: work.taskId, Reason: outcome.reason, Details: outcome.details });
    this.enqueue(inst, event);
  }

  #track(p: Promise<void>): void {
    this.#inFlight.add(p);
    void p.finally(() => {
      this.#inFlight.delete(p);
      this.kick();
    });
  }

  #pump(): void {
    if (!this.#running) return;
    for (const inst of this.instances.values()) {
      if (this.#runnable(inst)) this.#track(this.#episode(inst));
    }
    for (const work of this.#activities.splice(0)) {
      this.#track(this.#invokeActivity(work).then((outcome) => this.#deliverActivityResult(work, outcome)));
    }
    this.fireDueTimers();
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    const next = this.pendingTimers()[0];
    if (next) {
      const delay = Math.min(Math.max(0, next.fireAtMs - this.clock.now().getTime()), MAX_SET_TIMEOUT_MS);
      this.#wakeTimer = setTimeout(() => this.kick(), delay);
    }
  }
}
