/**
 * Session slots: at most maxSessions holders hold one at once, each as a lease that status polls
 * renew; holders wait for a free slot in arrival order.
 */
import type { GovernorDocument, HolderEntry } from "./governorDocument";
import type { GovernorLimits } from "./governorLimits";

/** The holder's lease (`taken`: just now), taking a free slot if its place in the queue allows; else its rank among those still waiting. */
export type SlotOutcome = { held: HolderEntry; taken: boolean } | { waiting: true; rank: number; queued: boolean };

/**
 * The holder's slot: the one it holds, or a free one when no earlier waiter still claims it. Waiters
 * ahead that stopped asking are forgotten at their own expiry, so they block a free slot only that long.
 */
export function takeSlot(doc: GovernorDocument, holder: string, now: number, limits: GovernorLimits): SlotOutcome {
  const held = doc.sessions.find((s) => s.holder === holder);
  if (held) return { held, taken: false };
  const free = limits.maxSessions - doc.sessions.length;
  const index = doc.sessionWaiters.findIndex((w) => w.holder === holder);
  const place = index < 0 ? doc.sessionWaiters.length : index;
  if (place < free) {
    if (index >= 0) doc.sessionWaiters.splice(index, 1);
    const lease = { holder, until: now };
    doc.sessions.push(lease);
    return { held: lease, taken: true };
  }
  return { waiting: true, rank: place - Math.max(free, 0), queued: index >= 0 };
}

/**
 * How long a waiter of `rank` (0: next in line) waits before asking again: until as many leases as it
 * needs may have expired, but no later than a re-check, which grows with its distance from the front
 * (slots are mostly freed by releases, which nobody announces).
 */
export function slotWaitMs(doc: GovernorDocument, rank: number, now: number, limits: GovernorLimits): number {
  // A fifth of the slots is about what frees up between two re-checks of the front: further back, a waiter
  // cannot get a slot before those ahead of it, and asking less often saves a replay each time.
  const group = Math.max(1, Math.floor(limits.maxSessions / 5));
  const recheck = Math.min(limits.maxSlotRecheckMs, limits.slotRecheckMs * (1 + Math.floor(rank / group)));
  const expiries = doc.sessions.map((s) => s.until).sort((a, b) => a - b);
  const expiry = expiries.length > 0 ? expiries[Math.min(rank, expiries.length - 1)] + 1 - now : recheck;
  return Math.max(1, Math.min(recheck, expiry, limits.maxWaitMs));
}

/** Puts the holder in the queue (or keeps its place), remembered until it should have asked again. */
export function queueForSlot(doc: GovernorDocument, holder: string, until: number): void {
  const waiter = doc.sessionWaiters.find((w) => w.holder === holder);
  if (waiter) waiter.until = until;
  else doc.sessionWaiters.push({ holder, until });
}

/** Extends the lease to `until` (never shortens it). */
export function extendLease(lease: HolderEntry, until: number): void {
  lease.until = Math.max(lease.until, until);
}

/** Forgets the holder everywhere: its lease, its reservation, its place in the queue. True when it had any. */
export function forgetHolder(doc: GovernorDocument, holder: string): boolean {
  const before = doc.sessions.length + doc.reservations.length + doc.sessionWaiters.length;
  doc.sessions = doc.sessions.filter((s) => s.holder !== holder);
  doc.reservations = doc.reservations.filter((r) => r.holder !== holder);
  doc.sessionWaiters = doc.sessionWaiters.filter((w) => w.holder !== holder);
  return doc.sessions.length + doc.reservations.length + doc.sessionWaiters.length !== before;
}
