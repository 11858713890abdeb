/**
 * The governor's rules as pure functions over its document: each takes `now` from the caller, changes
 * the document in place and answers. {@link Governor} runs them inside a read-modify-write.
 */
import type { BackoffAnswer, GovernorAnswer, ReleaseAnswer, RenewAnswer } from "./governorAnswers";
import type { GovernedEndpoint, GovernorDocument, HolderEntry, ReadEndpoint } from "./governorDocument";
import type { GovernorLimits } from "./governorLimits";
import { countRead, readWaitMs } from "./readBudgets";
import { extendLease, forgetHolder, queueForSlot, slotWaitMs, takeSlot } from "./sessionSlots";
import { earliestPlace, fits, occupancies } from "./submissionWindow";

/** An answer and whether the document changed (an unchanged document is not written back). */
export interface Decision<A> {
  answer: A;
  changed: boolean;
}

/**
 * A submission needs a session slot (the one the holder holds, so a re-submission never takes a
 * second) and a place in the submission window. A holder that must wait for the window gets a
 * reservation: the earliest instant with room after every earlier reservation; it keeps its slot
 * meanwhile, and coming back at or after that instant (within the grace) it is let through.
 */
export function decideSubmission(
  doc: GovernorDocument,
  holder: string,
  now: number,
  limits: GovernorLimits,
  options: { wakeable?: boolean } = {},
): Decision<GovernorAnswer> {
  const slot = takeSlot(doc, holder, now, limits);
  if ("waiting" in slot) {
    if (!slot.queued && doc.sessionWaiters.length >= limits.maxWaiters) {
      return { answer: queueFull("the queue for session slots is full", limits.maxSlotRecheckMs), changed: false };
    }
    // A wakeable holder keeps its place while it sleeps: the poller wakes it when its turn comes.
    const waitMs = options.wakeable ? limits.wakeableSlotWaitMs : slotWaitMs(doc, slot.rank, now, limits);
    queueForSlot(doc, holder, now + waitMs + limits.waiterGraceMs);
    return { answer: { kind: "wait", waitMs, reason: "sessionSlot" }, changed: true };
  }
  const { held: lease, taken: tookSlot } = slot;
  const reservation = doc.reservations.find((r) => r.holder === holder);
  if (reservation && now < reservation.at) {
    return { answer: wait(reservation.at - now, "submissionWindow", limits), changed: tookSlot };
  }
  if (reservation) {
    doc.reservations.splice(doc.reservations.indexOf(reservation), 1);
    return { answer: grant(doc, lease, now, limits), changed: true };
  }
  const backoffUntil = doc.backoffUntil.runLiveResponse ?? -Infinity;
  const lastPlace = doc.reservations.at(-1)?.at ?? -Infinity;
  const others = occupancies(doc, limits);
  const m = limits.windowMarginMs;
  if (backoffUntil <= now && lastPlace <= now && fits(others, now - m, now + m, limits.submissionsPerMinute)) {
    return { answer: grant(doc, lease, now, limits), changed: true };
  }
  if (doc.reservations.length >= limits.maxReservations) {
    if (tookSlot) doc.sessions.splice(doc.sessions.indexOf(lease), 1);
    return { answer: queueFull("too many submissions are reserved", limits.slotRecheckMs), changed: tookSlot };
  }
  const at = earliestPlace(others, Math.max(now, lastPlace, backoffUntil), limits.reservationGraceMs, limits);
  doc.reservations.push({ holder, at });
  extendLease(lease, at + limits.reservationGraceMs);
  return { answer: wait(at - now, at === backoffUntil ? "backoff" : "submissionWindow", limits), changed: true };
}

function grant(doc: GovernorDocument, lease: HolderEntry, now: number, limits: GovernorLimits): GovernorAnswer {
  doc.submissions.push(now);
  extendLease(lease, now + limits.sessionLeaseMs);
  return { kind: "granted", sessionUntil: lease.until };
}

/**
 * A status poll renews the lease. A holder whose lease lapsed (a storage outage longer than the lease)
 * is still running in MDE, so it gets a free slot back ahead of the queue; with none free it has lost it.
 */
export function decideRenewal(doc: GovernorDocument, holder: string, now: number, limits: GovernorLimits): Decision<RenewAnswer> {
  const lease = doc.sessions.find((s) => s.holder === holder);
  if (lease) {
    extendLease(lease, now + limits.sessionLeaseMs);
    return { answer: { kind: "renewed", until: lease.until, readmitted: false }, changed: true };
  }
  if (doc.sessions.length >= limits.maxSessions) return { answer: { kind: "lost" }, changed: false };
  doc.sessionWaiters = doc.sessionWaiters.filter((w) => w.holder !== holder);
  const until = now + limits.sessionLeaseMs;
  doc.sessions.push({ holder, until });
  return { answer: { kind: "renewed", until, readmitted: true }, changed: true };
}

/** The waiters at the head of the queue that a free slot could take now, in arrival order. */
export function headWaiters(doc: GovernorDocument, limits: GovernorLimits): string[] {
  const free = Math.max(0, limits.maxSessions - doc.sessions.length);
  return doc.sessionWaiters.slice(0, free).map((w) => w.holder);
}

/** Idempotent: releasing twice, or what was never held, changes nothing. */
export function decideRelease(doc: GovernorDocument, holder: string): Decision<ReleaseAnswer> {
  const held = forgetHolder(doc, holder);
  return { answer: { kind: "released", held }, changed: held };
}

/** A read fits when both budgets of its endpoint have room and no backoff holds it. */
export function decideRead(doc: GovernorDocument, endpoint: ReadEndpoint, now: number, limits: GovernorLimits): Decision<GovernorAnswer> {
  const backoffMs = (doc.backoffUntil[endpoint] ?? now) - now;
  const budgetMs = readWaitMs(doc, endpoint, now, limits);
  if (backoffMs > 0 || budgetMs > 0) {
    return { answer: wait(Math.max(backoffMs, budgetMs), backoffMs >= budgetMs ? "backoff" : "readBudget", limits), changed: false };
  }
  countRead(doc, endpoint, now);
  return { answer: { kind: "granted" }, changed: true };
}

/**
 * MDE answered 429 anyway (another tool of the tenant, or a limit lower than the settings): the whole
 * tenant leaves the endpoint alone until then. Reservations that fall inside the backoff move after it,
 * in their order; their holders come back early and are told the new instant.
 */
export function decideThrottled(
  doc: GovernorDocument,
  endpoint: GovernedEndpoint,
  retryAfterMs: number,
  now: number,
  limits: GovernorLimits,
): Decision<BackoffAnswer> {
  const until = Math.max(doc.backoffUntil[endpoint] ?? now, now + Math.max(0, retryAfterMs));
  doc.backoffUntil[endpoint] = until;
  if (endpoint === "runLiveResponse") {
    const queued = doc.reservations;
    doc.reservations = [];
    for (const r of queued) {
      const notBefore = Math.max(r.at, until, doc.reservations.at(-1)?.at ?? -Infinity);
      const at = earliestPlace(occupancies(doc, limits), notBefore, limits.reservationGraceMs, limits);
      doc.reservations.push({ holder: r.holder, at });
      const lease = doc.sessions.find((s) => s.holder === r.holder);
      if (lease) extendLease(lease, at + limits.reservationGraceMs);
    }
  }
  return { answer: { kind: "backedOff", until }, changed: true };
}

function wait(waitMs: number, reason: "submissionWindow" | "readBudget" | "backoff", limits: GovernorLimits): GovernorAnswer {
  return { kind: "wait", waitMs: Math.max(1, Math.min(waitMs, limits.maxWaitMs)), reason };
}

function queueFull(message: string, retryAfterMs: number): GovernorAnswer {
  return { kind: "refused", code: "QueueFull", message, retryAfterMs };
}
