/**
 * The numbers the governor's rules work with: the settings (MDE's limits, headroom applied) and the
 * few timing choices that are not settings, each with why it has its default.
 */
import type { GovernorSettings } from "./governorSettings";

export interface GovernorLimits {
  /** Submissions in any 60-second window. */
  submissionsPerMinute: number;
  maxSessions: number;
  sessionLeaseMs: number;
  /** Per read endpoint, headroom already taken off. */
  readsPerMinute: number;
  readsPerHour: number;
  /**
   * Slack on every instant the governor counts: the call reaches MDE a little after the grant, and
   * callers' clocks differ a little. Every window is counted as if it were this much longer at each end.
   */
  windowMarginMs: number;
  /**
   * How late after its instant a holder may still claim its reservation. A durable timer fires at or a
   * little after its time; the place is kept free for this long, so each minute of reservations costs
   * this much throughput: 60 s of 10 submissions take 60 s + grace + 2 margins.
   */
  reservationGraceMs: number;
  /** A holder waiting for a slot asks again after this, times 1 + its rank beyond the free slots in groups of maxSessions / 5. */
  slotRecheckMs: number;
  /** ...and never later than this. */
  maxSlotRecheckMs: number;
  /** A waiter that has not asked again this long after the wait it was given loses its place in the queue. */
  waiterGraceMs: number;
  /** Holders queued for a slot; past this the answer is QueueFull. */
  maxWaiters: number;
  /** Reservations held at once; each needs a slot too, so this never binds before maxSessions. */
  maxReservations: number;
  /** No wait answered is longer (a holder re-asks, which also renews its lease). Shorter than the lease. */
  maxWaitMs: number;
  /**
   * The wait for a slot of a holder that is woken when one frees (the action poller wakes the head of
   * the queue): this is only its fallback, so hundreds of queued collections do not re-ask every few minutes.
   */
  wakeableSlotWaitMs: number;
  /** An orchestration instance id is far shorter; longer holder ids are refused so the document stays small. */
  maxHolderLength: number;
}

/** The defaults of the limits that are not settings. */
export const GOVERNOR_TIMING = {
  windowMarginMs: 500,
  reservationGraceMs: 5_000,
  slotRecheckMs: 15_000,
  maxSlotRecheckMs: 5 * 60_000,
  waiterGraceMs: 30_000,
  maxWaiters: 1_000,
  maxWaitMs: 10 * 60_000,
  wakeableSlotWaitMs: 2 * 60 * 60_000,
  maxHolderLength: 200,
} as const;

/** The governor's limits from its settings: headroom taken off the read budgets, never below one call. */
export function governorLimits(settings: GovernorSettings, overrides: Partial<GovernorLimits> = {}): GovernorLimits {
  const share = (limit: number) => Math.max(1, Math.floor((limit * (100 - settings.headroomPercent)) / 100));
  return {
    submissionsPerMinute: settings.submissionsPerMinute,
    maxSessions: settings.maxSessions,
    sessionLeaseMs: settings.sessionLeaseMs,
    readsPerMinute: share(settings.readsPerMinute),
    readsPerHour: share(settings.readsPerHour),
    ...GOVERNOR_TIMING,
    maxReservations: settings.maxSessions,
    maxWaitMs: Math.min(GOVERNOR_TIMING.maxWaitMs, Math.floor(settings.sessionLeaseMs / 2)),
    ...overrides,
  };
}
