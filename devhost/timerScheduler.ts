/**
 * Fires timerTrigger functions on their NCRONTAB schedules, on the wall clock, as the host's
 * timer listener does: schedules are resolved (`%SETTING%`) and parsed at startup, so a bad one
 * stops the host with a message naming the function; `runOnStartup` fires once at start; one
 * function never overlaps itself (the next occurrence is computed after a run ends, and
 * occurrences missed meanwhile are skipped).
 */
import type { Timer } from "@azure/functions";
import { NcrontabError, parseNcrontabOrThrow, type NcrontabSchedule, type ScheduleTimeZone } from "../shared/ncrontab";
import { resolveSettingReferences } from "./localSettings";
import type { RegisteredFunction } from "./registry";
import { timerInfo } from "./triggerInvoker";

// setTimeout cannot wait longer than 2^31-1 ms; longer waits re-arm.
const MAX_SET_TIMEOUT_MS = 2_147_483_647;

/** Options of {@link TimerScheduler}. */
export interface TimerSchedulerOptions {
  /** For `%NAME%` references in schedules. */
  settings: Record<string, string | undefined>;
  /**
   * @default "utc": as in Azure (unless WEBSITE_TIME_ZONE), and as the app names occurrences.
   * Core Tools would read schedules in the machine's time zone; "local" does that.
   */
  timeZone?: ScheduleTimeZone;
  /** Runs one occurrence; its errors are the caller's to log. */
  fire: (fn: RegisteredFunction, timer: Timer) => Promise<void>;
  /** @default () => new Date() */
  now?: () => Date;
}

interface Entry {
  fn: RegisteredFunction;
  schedule: NcrontabSchedule;
  last?: Date;
  next?: Date;
  handle?: NodeJS.Timeout;
  running?: Promise<void>;
}

/** One timer per timerTrigger function; see the module comment. */
export class TimerScheduler {
  readonly #entries: Entry[];
  readonly #options: TimerSchedulerOptions;
  #stopped = true;

  /** @throws NcrontabError naming the function whose schedule cannot be resolved or parsed */
  constructor(functions: RegisteredFunction[], options: TimerSchedulerOptions) {
    this.#options = options;
    this.#entries = functions
      .filter((fn) => fn.triggerType === "timerTrigger")
      .map((fn) => {
        const raw = typeof fn.trigger.schedule === "string" ? fn.trigger.schedule : "";
        try {
          return { fn, schedule: parseNcrontabOrThrow(resolveSettingReferences(raw, options.settings), { allowFiveFields: true }) };
        } catch (e) {
          throw new NcrontabError(`Timer function '${fn.name}': the schedule '${raw}' is not valid: ${(e as Error).message}`);
        }
      });
  }

  /** Arms every timer and fires the `runOnStartup` ones. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    for (const entry of this.#entries) {
      if (entry.fn.trigger.runOnStartup === true) void this.#run(entry);
      else this.#arm(entry);
    }
  }

  /** Disarms every timer and waits for runs in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const entry of this.#entries) clearTimeout(entry.handle);
    await Promise.allSettled(this.#entries.map((e) => e.running));
  }

  /** Each timer function with its resolved schedule and next occurrence. */
  schedules(): Array<{ name: string; schedule: string; next?: Date; last?: Date }> {
    return this.#entries.map((e) => ({ name: e.fn.name, schedule: e.schedule.expression, next: e.next, last: e.last }));
  }

  /** The timer object for an on-demand run of `name` (the admin API). */
  timerFor(name: string): Timer {
    const entry = this.#entries.find((e) => e.fn.name === name);
    const now = this.#now();
    return timerInfo({ last: entry?.last, next: entry?.next ?? entry?.schedule.next(now, this.#timeZone), now });
  }

  get #timeZone(): ScheduleTimeZone {
    return this.#options.timeZone ?? "utc";
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  #arm(entry: Entry): void {
    if (this.#stopped) return;
    // A timer may fire a moment early: never schedule the occurrence that just ran again.
    const after = new Date(Math.max(this.#now().getTime(), entry.last?.getTime() ?? 0));
    const next = entry.schedule.next(after, this.#timeZone);
    entry.next = next;
    if (!next) return;
    const wait = (): void => {
      const remaining = next.getTime() - this.#now().getTime();
      if (remaining > MAX_SET_TIMEOUT_MS) entry.handle = setTimeout(wait, MAX_SET_TIMEOUT_MS);
      else entry.handle = setTimeout(() => void this.#run(entry), Math.max(0, remaining));
    };
    wait();
  }

  async #run(entry: Entry): Promise<void> {
    if (this.#stopped) return;
    const now = this.#now();
    const occurrence = entry.next && entry.next.getTime() > now.getTime() ? entry.next : now;
    const timer = timerInfo({ last: entry.last, next: entry.schedule.next(occurrence, this.#timeZone), now });
    entry.last = occurrence;
    entry.running = this.#options.fire(entry.fn, timer).catch(() => {});
    await entry.running;
    entry.running = undefined;
    this.#arm(entry);
  }
}
