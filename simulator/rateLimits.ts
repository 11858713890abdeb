/**
 * Sliding-window call limits measured on the simulator's (injectable) clock.
 * The limits themselves and their sources are in `limits.ts`.
 */

/** Outcome of asking a window (or a set of windows) for one more call. */
export type Admission = { admitted: true } | { admitted: false; retryAfterInMs: number };

/** At most `maxCalls` admitted calls in any `windowInMs` span. Rejected calls are not counted. */
export class SlidingWindow {
  private readonly admittedAt: number[] = [];
  constructor(
    readonly maxCalls: number,
    readonly windowInMs: number,
  ) {}

  /** Would one more call be admitted at `nowMs`? Does not record anything. */
  check(nowMs: number): Admission {
    this.prune(nowMs);
    if (this.admittedAt.length < this.maxCalls) return { admitted: true };
    // The call becomes possible once the oldest admitted call leaves the window.
    const oldest = this.admittedAt[this.admittedAt.length - this.maxCalls]!;
    return { admitted: false, retryAfterInMs: Math.max(1, oldest + this.windowInMs - nowMs) };
  }

  record(nowMs: number): void {
    this.admittedAt.push(nowMs);
  }

  private prune(nowMs: number): void {
    while (this.admittedAt.length > 0 && this.admittedAt[0]! <= nowMs - this.windowInMs) this.admittedAt.shift();
  }
}

/**
 * Several windows guarding one endpoint (e.g. 100/min and 1,500/h): a call is admitted only if every
 * window admits it, and is then recorded in all of them. Retry-After is the longest wait.
 */
export class RateLimiter {
  private readonly windows: SlidingWindow[];
  constructor(limits: ReadonlyArray<{ maxCalls: number; windowInMs: number }>) {
    this.windows = limits.map((l) => new SlidingWindow(l.maxCalls, l.windowInMs));
  }

  tryAdmit(nowMs: number): Admission {
    let wait = 0;
    for (const w of this.windows) {
      const a = w.check(nowMs);
      if (!a.admitted) wait = Math.max(wait, a.retryAfterInMs);
    }
    if (wait > 0) return { admitted: false, retryAfterInMs: wait };
    for (const w of this.windows) w.record(nowMs);
    return { admitted: true };
  }
}
