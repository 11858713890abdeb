/**
 * Time source of the durable engine: the only difference between tests (virtual, jumps to the
 * next timer instantly) and the local dev host (wall clock, real setTimeout).
 */
export interface Clock {
  now(): Date;
}

/** Real time. */
export class WallClock implements Clock {
  now(): Date {
    return new Date();
  }
}

/** Time that moves only when told to; never goes backwards. */
export class VirtualClock implements Clock {
  #nowInMs: number;

  /** @param start - the initial time; default 2026-01-01T00:00:00Z so runs are reproducible */
  constructor(start: Date | string | number = "2026-01-01T00:00:00.000Z") {
    this.#nowInMs = new Date(start).getTime();
    if (Number.isNaN(this.#nowInMs)) throw new RangeError(`VirtualClock: invalid start time ${String(start)}`);
  }

  now(): Date {
    return new Date(this.#nowInMs);
  }

  /** Moves to `time`; a time in the past is ignored (timers must never fire early on replay). */
  advanceTo(time: Date | number): void {
    const t = typeof time === "number" ? time : time.getTime();
    if (t > this.#nowInMs) this.#nowInMs = t;
  }

  /** Moves forward by `ms` milliseconds. */
  advanceBy(ms: number): void {
    if (ms < 0) throw new RangeError("VirtualClock cannot go backwards");
    this.#nowInMs += ms;
  }
}

/** True when the clock is a {@link VirtualClock} (the engine then runs only when driven). */
export function isVirtualClock(clock: Clock): clock is VirtualClock {
  return clock instanceof VirtualClock;
}
