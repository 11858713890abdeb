/**
 * Where a submission may go so that no 60-second window holds more than N of them, counting each
 * granted or reserved submission over every instant it may reach MDE: a grant a margin either side of
 * its instant, a reservation from its instant to the end of its grace (plus the margins). A window
 * (t - 60 s, t] may hold a call that may reach MDE in [from, to] when from <= t and to > t - 60 s.
 */
import { MINUTE_IN_MS, type GovernorDocument } from "./governorDocument";
import type { GovernorLimits } from "./governorLimits";

/** The instants at which a submission may reach MDE. */
export interface Occupancy {
  from: number;
  to: number;
}

/** Every granted and reserved submission, as the instants it may reach MDE. */
export function occupancies(doc: GovernorDocument, limits: GovernorLimits): Occupancy[] {
  const m = limits.windowMarginMs;
  return [
    ...doc.submissions.map((g) => ({ from: g - m, to: g + m })),
    ...doc.reservations.map((r) => ({ from: r.at - m, to: r.at + limits.reservationGraceMs + m })),
  ];
}

/**
 * Whether one more call, reaching MDE somewhere in [from, to], keeps every 60-second window at or
 * under `limit` beside `others`. The count in the window ending at t only rises at another call's
 * `from`, so checking t = from and each later `from` the new call's windows cover is enough.
 */
export function fits(others: Occupancy[], from: number, to: number, limit: number): boolean {
  const ends = [from, ...others.map((o) => o.from).filter((f) => f > from && f < to + MINUTE_IN_MS)];
  return ends.every((t) => others.filter((o) => o.from <= t && o.to > t - MINUTE_IN_MS).length < limit);
}

/**
 * The earliest instant at or after `notBefore` where a call claimable for `widthMs` from it fits.
 * Moving later only helps once another call leaves the window, so the candidates are `notBefore`
 * and each instant a call leaves; the last of them always fits.
 */
export function earliestPlace(others: Occupancy[], notBefore: number, widthMs: number, limits: GovernorLimits): number {
  const m = limits.windowMarginMs;
  const candidates = [notBefore, ...others.map((o) => o.to + MINUTE_IN_MS + m).filter((x) => x > notBefore)].sort((a, b) => a - b);
  const place = candidates.find((x) => fits(others, x - m, x + widthMs + m, limits.submissionsPerMinute));
  return place ?? candidates[candidates.length - 1];
}
