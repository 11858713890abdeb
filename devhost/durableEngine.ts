/**
 * The devhost's stand-in for the Durable Functions extension: instances, histories, activities
 * and durable timers, driving the app's REAL registered orchestrator handlers (see episode.ts).
 *
 * Two modes, one code path; only the clock differs:
 * - {@link VirtualClock} (tests): nothing runs by itself; {@link DurableEngine.runUntilIdle} runs
 *   all ready work, then jumps the clock to the next timer. Activities of one batch run
 *   concurrently and their results are delivered in scheduling order, so runs are reproducible.
 * - {@link WallClock} (local dev host): after {@link DurableEngine.start}, work runs as it
 *   arrives and timers are real setTimeouts.
 */
import { randomUUID } from "node:crypto";
import { isVirtualClock, type Clock } from "./clock";
import { EngineCore } from "./engineCore";
import { EventType, historyEvent, toJsonText } from "./history";
import { silentDevhostLogger, type DevhostLogger } from "./invocation";
import {
  isTerminal,
  mergeStats,
  newExecution,
  newStats,
  toStatus,
  type InstanceState,
  type InstanceStats,
  type OrchestrationStatus,
  type PendingTimer,
  type RuntimeStatus,
} from "./instanceState";
import type { DurableClientBindingData } from "./httpApiWire";
import { defaultRegistry, type FunctionRegistry } from "./registry";

export type { OrchestrationStatus, InstanceStats, RuntimeStatus, PendingTimer } from "./instanceState";

/** Options of {@link DurableEngine}. */
export interface DurableEngineOptions {
  clock: Clock;
  /** @default the registry filled by the functions-core stub */
  registry?: FunctionRegistry;
  /** @default silent */
  logger?: DevhostLogger;
}

/** Filter of {@link DurableEngine.listInstances}. */
export interface InstanceQuery {
  runtimeStatus?: RuntimeStatus[];
  createdTimeFrom?: Date;
  createdTimeTo?: Date;
  instanceIdPrefix?: string;
}

/** Options of {@link DurableEngine.runUntilIdle}. */
export interface RunOptions {
  /** Do not move the clock more than this past the call's start (it is left at the limit). */
  maxVirtualTimeMs?: number;
  /** Stop as soon as this returns true (checked between steps). */
  until?: () => boolean;
  /** Safety net against orchestrations that never settle. @default 100000 */
  maxSteps?: number;
}

/** startNew on an instance id that exists and is not terminal (the extension answers 409). */
export class InstanceExistsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InstanceExistsError";
  }
}

/** An operation on an unknown instance id (the extension answers 404). */
export class InstanceNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InstanceNotFoundError";
  }
}

/** See the module comment. */
export class DurableEngine {
  readonly clock: Clock;
  readonly registry: FunctionRegistry;
  readonly logger: DevhostLogger;
  readonly #core: EngineCore;

  constructor(options: DurableEngineOptions) {
    this.clock = options.clock;
    this.registry = options.registry ?? defaultRegistry;
    this.logger = options.logger ?? silentDevhostLogger;
    this.#core = new EngineCore(this.clock, this.registry, this.logger);
  }

  /**
   * Where activities' durable client inputs get their binding data (the Durable HTTP API serving
   * this engine calls this when it starts or is mounted). Without it those inputs are undefined.
   */
  bindDurableClient(bindingData: () => DurableClientBindingData | undefined): void {
    this.#core.durableClientBinding = bindingData;
  }

  /** True when driven by a virtual clock (then only runUntilIdle/waitForCompletion make progress). */
  get isVirtual(): boolean {
    return isVirtualClock(this.clock);
  }

  /**
   * Creates an instance (Pending until its first episode runs). A terminal instance with the
   * same id is replaced, as the extension allows by default.
   * @throws Error when no orchestrator of that name is registered
   * @throws InstanceExistsError when `instanceId` exists and is not terminal
   */
  async startNew(orchestratorName: string, options: { instanceId?: string; input?: unknown } = {}): Promise<string> {
    if (!this.registry.findFunction(orchestratorName, "orchestrationTrigger")) {
      throw new Error(`The function '${orchestratorName}' doesn't exist, is disabled, or is not an orchestrator function.`);
    }
    const instanceId = options.instanceId ?? randomUUID().replace(/-/g, "");
    const existing = this.#core.instances.get(instanceId);
    if (existing && !isTerminal(existing.runtimeStatus)) {
      throw new InstanceExistsError(
        `An Orchestration instance with the ID '${instanceId}' already exists and is ${existing.runtimeStatus}.`,
      );
    }
    const now = this.clock.now();
    const inst: InstanceState = {
      instanceId,
      name: orchestratorName,
      input: options.input === undefined ? null : (JSON.parse(JSON.stringify(options.input)) as unknown),
      createdTime: now,
      lastUpdatedTime: now,
      runtimeStatus: "Pending",
      customStatus: null,
      output: null,
      execution: newExecution(),
      inbox: [],
      busy: false,
      stats: newStats(),
    };
    this.#core.instances.set(instanceId, inst);
    this.#core.enqueueExecutionStarted(inst, now);
    this.#core.kick();
    return instanceId;
  }

  /** Status of one instance, or undefined when unknown. */
  getStatus(instanceId: string, options: { showHistory?: boolean } = {}): OrchestrationStatus | undefined {
    const inst = this.#core.instances.get(instanceId);
    return inst && toStatus(inst, options.showHistory);
  }

  /** Statuses of all instances matching `query`, oldest first. */
  listInstances(query: InstanceQuery = {}): OrchestrationStatus[] {
    return [...this.#core.instances.values()]
      .filter((i) => !query.runtimeStatus?.length || query.runtimeStatus.includes(i.runtimeStatus))
      .filter((i) => !query.createdTimeFrom || i.createdTime >= query.createdTimeFrom)
      .filter((i) => !query.createdTimeTo || i.createdTime <= query.createdTimeTo)
      .filter((i) => !query.instanceIdPrefix || i.instanceId.startsWith(query.instanceIdPrefix))
      .map((i) => toStatus(i));
  }

  /**
   * Queues an external event. Events raised before the orchestrator waits for them are kept in
   * its history and matched later by the library, as with the real extension.
   * @returns false when the instance is terminal (the event is dropped)
   * @throws InstanceNotFoundError when the instance is unknown
   */
  raiseEvent(instanceId: string, eventName: string, data?: unknown): boolean {
    const inst = this.#require(instanceId);
    if (isTerminal(inst.runtimeStatus)) return false;
    const input = data === undefined ? {} : { Input: toJsonText(data) };
    this.#core.enqueue(inst, historyEvent(EventType.EventRaised, this.clock.now(), { Name: eventName, ...input }));
    return true;
  }

  /** Terminates a non-terminal instance (output = reason). @returns false when already terminal */
  terminate(instanceId: string, reason = ""): boolean {
    const inst = this.#require(instanceId);
    if (isTerminal(inst.runtimeStatus)) return false;
    const now = this.clock.now();
    inst.execution.history.push(historyEvent(EventType.ExecutionTerminated, now, { Input: JSON.stringify(reason) }));
    this.#core.finish(inst, "Terminated", reason, now);
    return true;
  }

  /** Stops delivering messages to an instance until {@link resume}. @returns false when terminal */
  suspend(instanceId: string): boolean {
    const inst = this.#require(instanceId);
    if (isTerminal(inst.runtimeStatus)) return false;
    inst.runtimeStatus = "Suspended";
    inst.lastUpdatedTime = this.clock.now();
    return true;
  }

  /** Resumes a suspended instance. @returns false when terminal */
  resume(instanceId: string): boolean {
    const inst = this.#require(instanceId);
    if (isTerminal(inst.runtimeStatus)) return false;
    if (inst.runtimeStatus === "Suspended") inst.runtimeStatus = inst.stats.episodes > 0 ? "Running" : "Pending";
    inst.lastUpdatedTime = this.clock.now();
    this.#core.kick();
    return true;
  }

  /**
   * Deletes a terminal instance and its history.
   * @returns "purged", "notFound" or "notTerminal" (the extension answers 200, 404, 412)
   */
  purge(instanceId: string): "purged" | "notFound" | "notTerminal" {
    const inst = this.#core.instances.get(instanceId);
    if (!inst) return "notFound";
    if (!isTerminal(inst.runtimeStatus)) return "notTerminal";
    this.#core.instances.delete(instanceId);
    return "purged";
  }

  /** Replay counters of one instance, or summed over all instances. */
  stats(instanceId?: string): InstanceStats {
    if (instanceId !== undefined) return structuredClone(this.#require(instanceId).stats);
    return mergeStats([...this.#core.instances.values()].map((i) => i.stats));
  }

  /** Pending durable timers, earliest first (diagnostics and tests). */
  pendingTimers(): ReadonlyArray<Readonly<PendingTimer>> {
    return this.#core.pendingTimers();
  }

  /**
   * Work that runs every `intervalMs` of virtual time while orchestrations wait on timers, as a
   * timer trigger would in the host (the harness registers the action poller this way). It never
   * keeps an otherwise idle engine running. Virtual clock only: on the wall clock the devhost's
   * TimerScheduler fires timer triggers itself.
   */
  addPeriodicWork(intervalMs: number, run: () => Promise<void>): void {
    if (!isVirtualClock(this.clock)) throw new Error("DurableEngine.addPeriodicWork: virtual clock only");
    const now = this.clock.now().getTime();
    this.#periodic.push({ intervalMs, run, nextAtMs: Math.floor(now / intervalMs) * intervalMs + intervalMs });
  }

  readonly #periodic: { intervalMs: number; run: () => Promise<void>; nextAtMs: number }[] = [];

  /** Runs the periodic work due at or before `untilMs` (the next durable timer), if any; true when some ran. */
  async #runPeriodicBefore(untilMs: number): Promise<boolean> {
    const due = this.#periodic.filter((p) => p.nextAtMs <= untilMs).sort((a, b) => a.nextAtMs - b.nextAtMs)[0];
    if (!due || !isVirtualClock(this.clock)) return false;
    if (due.nextAtMs > this.clock.now().getTime()) this.clock.advanceTo(due.nextAtMs);
    const now = this.clock.now().getTime();
    due.nextAtMs = Math.floor(now / due.intervalMs) * due.intervalMs + due.intervalMs;
    await due.run();
    return true;
  }

  /**
   * Runs all ready work; when nothing is runnable, moves the virtual clock to the earliest
   * pending timer and fires it; returns when nothing is left, `until` holds, or the time limit
   * is reached. With a wall clock it sleeps until timers are due instead (do not combine with start()).
   * @throws Error after `maxSteps` steps (an orchestration that never settles)
   */
  async runUntilIdle(options: RunOptions = {}): Promise<void> {
    const limitMs = options.maxVirtualTimeMs === undefined ? Infinity : this.clock.now().getTime() + options.maxVirtualTimeMs;
    const maxSteps = options.maxSteps ?? 100_000;
    for (let steps = 0; ; steps++) {
      if (options.until?.()) return;
      if (steps > maxSteps) throw new Error(`DurableEngine.runUntilIdle: still busy after ${maxSteps} steps`);
      if (await this.#core.step()) continue;
      const next = this.#core.pendingTimers()[0];
      if (!next) return;
      if (await this.#runPeriodicBefore(Math.min(next.fireAtMs, limitMs))) continue;
      if (next.fireAtMs > limitMs) {
        if (isVirtualClock(this.clock)) this.clock.advanceTo(limitMs);
        return;
      }
      if (isVirtualClock(this.clock)) this.clock.advanceTo(next.fireAtMs);
      else await sleep(next.fireAtMs - this.clock.now().getTime());
      this.#core.fireDueTimers();
    }
  }

  /**
   * Resolves with the status once the instance is terminal. With a virtual clock (or a wall
   * clock without start()) this drives the engine; after start() it waits for the pump.
   * @throws InstanceNotFoundError when the instance is unknown
   * @throws Error after `timeoutMs` (started wall-clock engine only; default 30 s)
   */
  async waitForCompletion(instanceId: string, options: { timeoutMs?: number } & RunOptions = {}): Promise<OrchestrationStatus> {
    const done = (): boolean => isTerminal(this.#require(instanceId).runtimeStatus);
    if (!this.#core.running) {
      await this.runUntilIdle({ ...options, until: () => done() || (options.until?.() ?? false) });
    } else if (!done()) {
      const timeoutMs = options.timeoutMs ?? 30_000;
      await new Promise<void>((resolve, reject) => {
        const timeout = setTimeout(() => reject(new Error(`Instance ${instanceId} did not finish within ${timeoutMs} ms`)), timeoutMs);
        this.#core.onTerminal(instanceId, () => {
          clearTimeout(timeout);
          resolve();
        });
      });
    }
    return this.getStatus(instanceId)!;
  }

  /**
   * Wall-clock mode: run work as it arrives, timers as real setTimeouts.
   * @throws Error with a virtual clock (drive it with runUntilIdle instead)
   */
  start(): void {
    if (this.isVirtual) throw new Error("DurableEngine.start() needs a wall clock; drive a virtual clock with runUntilIdle()");
    this.#core.startPump();
  }

  /** Stops the wall-clock mode and waits for episodes and activities in flight. */
  stop(): Promise<void> {
    return this.#core.stopPump();
  }

  #require(instanceId: string): InstanceState {
    const inst = this.#core.instances.get(instanceId);
    if (!inst) throw new InstanceNotFoundError(`No instance with ID '${instanceId}' found.`);
    return inst;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
