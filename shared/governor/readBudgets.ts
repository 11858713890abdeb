/**
 * Per-endpoint read budgets, per minute and per hour, counted in buckets: 1-second buckets for the
 * minute, 1-minute buckets for the hour. Every bucket that overlaps the window (lengthened by the
 * margin) counts whole, so the count is never below what any sliding window of MDE's holds: a call is
 * granted only while the calls in the window ending now are fewer than the budget, and every window
 * ending later holds no more of the earlier calls than that one did.
 */
import {
  HOUR_IN_MS,
  MINUTE_IN_MS,
  overlapsWindow,
  SECOND_IN_MS,
  type BucketCounts,
  type GovernorDocument,
  type ReadEndpoint,
} from "./governorDocument";
import type { GovernorLimits } from "./governorLimits";

/** How long until a call fits the budget: 0 when it fits now. */
export function budgetWaitMs(buckets: BucketCounts, bucketMs: number, windowMs: number, limit: number, now: number): number {
  const counted = buckets.filter(([k]) => overlapsWindow(k, bucketMs, windowMs, now)).sort((a, b) => a[0] - b[0]);
  const total = counted.reduce((sum, [, calls]) => sum + calls, 0);
  if (total < limit) return 0;
  // The oldest buckets leave first; the call fits once enough of them have.
  let leaving = total - limit + 1;
  for (const [k, calls] of counted) {
    leaving -= calls;
    if (leaving <= 0) return (k + 1) * bucketMs + windowMs - now;
  }
  return windowMs;
}

/** How long until a read of `endpoint` fits both budgets (0: now), backoff aside. */
export function readWaitMs(doc: GovernorDocument, endpoint: ReadEndpoint, now: number, limits: GovernorLimits): number {
  const counts = doc.reads[endpoint];
  if (!counts) return 0;
  const m = limits.windowMarginMs;
  return Math.max(
    budgetWaitMs(counts.seconds, SECOND_IN_MS, MINUTE_IN_MS + m, limits.readsPerMinute, now),
    budgetWaitMs(counts.minutes, MINUTE_IN_MS, HOUR_IN_MS + m, limits.readsPerHour, now),
  );
}

/** Counts one read of `endpoint` at `now`. */
export function countRead(doc: GovernorDocument, endpoint: ReadEndpoint, now: number): void {
  const counts = (doc.reads[endpoint] ??= { seconds: [], minutes: [] });
  addToBucket(counts.seconds, Math.floor(now / SECOND_IN_MS));
  addToBucket(counts.minutes, Math.floor(now / MINUTE_IN_MS));
}

function addToBucket(buckets: BucketCounts, k: number): void {
  const bucket = buckets.find(([index]) => index === k);
  if (bucket) bucket[1]++;
  else buckets.push([k, 1]);
}
