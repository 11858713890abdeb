/**
 * The governor's state: one small JSON document per tenant, rewritten whole under an ETag condition.
 * Every entry carries its own expiry, and {@link pruneDocument} drops what can no longer affect an
 * answer, so the document stays bounded however long the app runs (the queues are capped too).
 */
import type { GovernorLimits } from "./governorLimits";

/** The MDE endpoints with a per-minute and per-hour budget of their own (100 and 1,500 each). */
export const READ_ENDPOINTS = ["downloadLink", "getMachineAction", "listMachineActions", "cancel"] as const;
export type ReadEndpoint = (typeof READ_ENDPOINTS)[number];

/** Every endpoint the governor meters: the reads and POST runliveresponse. */
export type GovernedEndpoint = ReadEndpoint | "runLiveResponse";

/** A holder (an orchestration instance id) and the instant (ms since the epoch) its entry ends. */
export interface HolderEntry {
  holder: string;
  until: number;
}

/** A future submission place, claimable from `at` to `at` plus the grace. */
export interface Reservation {
  holder: string;
  at: number;
}

/** Calls counted per bucket: `[bucket index, calls]`, a bucket being `floor(ms / bucket size)`. */
export type BucketCounts = [number, number][];

export interface ReadCounts {
  /** 1-second buckets, for the minute budget. */
  seconds: BucketCounts;
  /** 1-minute buckets, for the hour budget. */
  minutes: BucketCounts;
}

export interface GovernorDocument {
  version: 1;
  /** Instants of granted submissions that can still share a 60-second window with a future one. */
  submissions: number[];
  /** Submission places handed out and not yet claimed, in arrival order (so in order of `at`). */
  reservations: Reservation[];
  /** Session slot leases; at most `maxSessions`. */
  sessions: HolderEntry[];
  /** Holders waiting for a session slot, in arrival order; each forgotten at `until` unless it asks again. */
  sessionWaiters: HolderEntry[];
  reads: Partial<Record<ReadEndpoint, ReadCounts>>;
  /** After a 429 the whole tenant leaves the endpoint alone until this instant. */
  backoffUntil: Partial<Record<GovernedEndpoint, number>>;
}

export const SECOND_IN_MS = 1_000;
export const MINUTE_IN_MS = 60 * SECOND_IN_MS;
export const HOUR_IN_MS = 60 * MINUTE_IN_MS;

export function emptyDocument(): GovernorDocument {
  return { version: 1, submissions: [], reservations: [], sessions: [], sessionWaiters: [], reads: {}, backoffUntil: {} };
}

const isInstant = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isHolderEntry = (v: unknown): v is HolderEntry =>
  typeof v === "object" && v !== null && typeof (v as HolderEntry).holder === "string" && isInstant((v as HolderEntry).until);
const isReservation = (v: unknown): v is Reservation =>
  typeof v === "object" && v !== null && typeof (v as Reservation).holder === "string" && isInstant((v as Reservation).at);
const isBuckets = (v: unknown): v is BucketCounts =>
  Array.isArray(v) && v.every((b) => Array.isArray(b) && b.length === 2 && Number.isInteger(b[0]) && Number.isInteger(b[1]) && b[1] > 0);
const isRecordOf = <T>(v: unknown, keys: readonly string[], isValue: (x: unknown) => x is T): boolean =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.entries(v).every(([k, x]) => keys.includes(k) && isValue(x));

/**
 * The stored document if it has the expected shape, else undefined (the governor then starts afresh:
 * forgetting a minute of grants is better than refusing every collection for good).
 */
export function parseDocument(value: unknown): GovernorDocument | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const d = value as Partial<GovernorDocument>;
  const valid =
    d.version === 1 &&
    Array.isArray(d.submissions) &&
    d.submissions.every(isInstant) &&
    Array.isArray(d.reservations) &&
    d.reservations.every(isReservation) &&
    Array.isArray(d.sessions) &&
    d.sessions.every(isHolderEntry) &&
    Array.isArray(d.sessionWaiters) &&
    d.sessionWaiters.every(isHolderEntry) &&
    isRecordOf(
      d.reads,
      READ_ENDPOINTS,
      (x): x is ReadCounts =>
        typeof x === "object" && x !== null && isBuckets((x as ReadCounts).seconds) && isBuckets((x as ReadCounts).minutes),
    ) &&
    isRecordOf(d.backoffUntil, [...READ_ENDPOINTS, "runLiveResponse"], isInstant);
  return valid ? (d as GovernorDocument) : undefined;
}

/**
 * Drops every entry that can no longer affect an answer at `now` or later: submissions out of any
 * window a new one could share, reservations past their grace, expired leases and waiters, read
 * buckets out of their windows, past backoffs.
 */
export function pruneDocument(doc: GovernorDocument, now: number, limits: GovernorLimits): void {
  const { windowMarginMs: margin } = limits;
  doc.submissions = doc.submissions.filter((g) => g + margin + MINUTE_IN_MS > now - margin);
  doc.reservations = doc.reservations.filter((r) => now <= r.at + limits.reservationGraceMs);
  doc.sessions = doc.sessions.filter((s) => now <= s.until);
  doc.sessionWaiters = doc.sessionWaiters.filter((w) => now <= w.until);
  for (const endpoint of READ_ENDPOINTS) {
    const counts = doc.reads[endpoint];
    if (!counts) continue;
    counts.seconds = counts.seconds.filter(([k]) => overlapsWindow(k, SECOND_IN_MS, MINUTE_IN_MS + margin, now));
    counts.minutes = counts.minutes.filter(([k]) => overlapsWindow(k, MINUTE_IN_MS, HOUR_IN_MS + margin, now));
    if (counts.seconds.length === 0 && counts.minutes.length === 0) delete doc.reads[endpoint];
  }
  for (const [endpoint, until] of Object.entries(doc.backoffUntil) as [GovernedEndpoint, number][]) {
    if (until <= now) delete doc.backoffUntil[endpoint];
  }
}

/** Whether bucket `k` of `bucketMs` overlaps the window of `windowMs` ending at `now` (or any later one). */
export function overlapsWindow(k: number, bucketMs: number, windowMs: number, now: number): boolean {
  return (k + 1) * bucketMs > now - windowMs;
}
