/**
 * Issue 14's proof at the governor level: 200 concurrent collections on a virtual clock, every decision
 * a real read-modify-write of the governor's blob on Azurite, callers at the same virtual instant
 * racing for real (Promise.all) through four governors, as four app instances would. Each collection
 * submits, holds its session for a seeded random time while its status polls renew the lease, fetches
 * a download link and releases (some twice); 30 of them are terminated after a poll or two and never
 * release. Then: never more than S sessions, never more than N submissions in a 60-second window, no
 * read budget exceeded, every terminated slot back after its lease, reservations in arrival order.
 */
import { Governor } from "../../../shared/governor/governor";
import type { GovernorAnswer } from "../../../shared/governor/governorAnswers";
import type { ReadEndpoint } from "../../../shared/governor/governorDocument";
import { governorLimits } from "../../../shared/governor/governorLimits";
import type { GovernorSettings } from "../../../shared/governor/governorSettings";
import { BlobGovernorStore, governorBlobName } from "../../../shared/governor/blobGovernorStore";
import { freshEvidenceContainer } from "../../support/azurite";
import { seededRandom } from "../../unit/shared/governor/governorFixture";

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const T0 = Date.parse("2025-01-01T00:00:00Z");
const HOLDERS = 200;
const TERMINATED = 30;
/** Read budgets far below MDE's, so that both the minute and the hour bind within the run. */
const SETTINGS: GovernorSettings = {
  maxSessions: 25,
  submissionsPerMinute: 10,
  readsPerMinute: 40,
  readsPerHour: 400,
  sessionLeaseMs: 20 * MINUTE,
  headroomPercent: 10,
  enabled: true,
};
const READS_PER_MINUTE = 36;
const READS_PER_HOUR = 360;

interface Holder {
  id: string;
  store: number;
  terminated: boolean;
  releasesTwice: boolean;
  /** How long the session runs, and how often it is polled. */
  holdMs: number;
  pollEveryMs: number;
  pollsBeforeTermination: number;
  grantedAt?: number;
  releasedAt?: number;
  lastRenewedUntil?: number;
  polls: number;
  /** Every reservation it was given: when, and for which instant. */
  reservations: { askedAt: number; at: number }[];
  /** Whether, each time it came back at its reserved instant, it was let through. */
  claims: boolean[];
  secondRelease?: boolean;
}

type Step = "submit" | "poll" | "link" | "release";

/** The most instants any half-open window of `windowMs` holds. */
function busiestWindow(instants: number[], windowMs: number): number {
  const sorted = [...instants].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** The most intervals [from, to) overlapping at one instant. */
function mostAtOnce(intervals: [number, number][]): number {
  const edges = intervals.flatMap(([from, to]) => [[from, 1] as const, [to, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, delta] of edges) most = Math.max(most, (now += delta));
  return most;
}

describe("the governor under 200 concurrent collections (virtual clock, Azurite)", () => {
  it("keeps every limit, returns terminated slots after their lease, serves reservations in arrival order", async () => {
    const container = await freshEvidenceContainer("governor");
    const limits = governorLimits(SETTINGS);
    const random = seededRandom(2024);
    // Four stores, as four app instances; a governor per call, so that each call's storage work is counted on its own.
    const stores = Array.from({ length: 4 }, () => new BlobGovernorStore(container, governorBlobName()));
    const jitter = seededRandom(99);
    const cost: Record<"submission" | "read" | "release", { calls: number; roundTrips: number; conflicts: number; most: number }> = {
      submission: { calls: 0, roundTrips: 0, conflicts: 0, most: 0 },
      read: { calls: 0, roundTrips: 0, conflicts: 0, most: 0 },
      release: { calls: 0, roundTrips: 0, conflicts: 0, most: 0 },
    };
    const governorFor = (holder: Holder, kind: keyof typeof cost) => {
      const governor = new Governor(stores[holder.store], limits, { random: jitter, maxAttempts: 60 });
      return {
        governor,
        done() {
          const c = cost[kind];
          c.calls++;
          c.roundTrips += governor.stats.reads + governor.stats.writes;
          c.conflicts += governor.stats.conflicts;
          c.most = Math.max(c.most, governor.stats.reads + governor.stats.writes);
        },
      };
    };
    const holders: Holder[] = Array.from({ length: HOLDERS }, (_, i) => ({
      id: `collection-${String(i).padStart(3, "0")}-${Math.floor(random() * 1e9).toString(36)}`,
      store: i % 4,
      terminated: i % Math.floor(HOLDERS / TERMINATED) === 3 && i < TERMINATED * Math.floor(HOLDERS / TERMINATED),
      releasesTwice: i % 5 === 0,
      holdMs: Math.round(MINUTE + random() * 3 * MINUTE),
      pollEveryMs: Math.round(60 * SECOND + random() * 60 * SECOND),
      pollsBeforeTermination: 1 + Math.floor(random() * 2),
      polls: 0,
      reservations: [],
      claims: [],
    }));
    expect(holders.filter((h) => h.terminated)).toHaveLength(TERMINATED);

    // The event queue: virtual instants (whole seconds, so that many callers share one) to the steps due then.
    const due = new Map<number, [Holder, Step][]>();
    const schedule = (at: number, holder: Holder, step: Step) => {
      const instant = Math.ceil(at / SECOND) * SECOND;
      due.set(instant, [...(due.get(instant) ?? []), [holder, step]]);
    };
    // A burst of 50 at once, the rest over the first two minutes.
    holders.forEach((h, i) => schedule(i < 50 ? T0 : T0 + Math.floor(random() * 2 * MINUTE), h, "submit"));

    const grants: number[] = [];
    const reads: Record<ReadEndpoint, number[]> = { downloadLink: [], getMachineAction: [], listMachineActions: [], cancel: [] };
    const decisions = { submissions: 0, waits: 0, refusals: 0 };
    const later = (now: number, answer: GovernorAnswer) =>
      now + (answer.kind === "wait" ? answer.waitMs : answer.kind === "refused" ? answer.retryAfterMs : 0);

    async function run(holder: Holder, step: Step, now: number): Promise<void> {
      if (step === "submit") {
        decisions.submissions++;
        const call = governorFor(holder, "submission");
        const answer = await call.governor.acquireSubmission(holder.id, now);
        call.done();
        const reserved = holder.reservations.at(-1);
        if (reserved && now >= reserved.at && now <= reserved.at + limits.reservationGraceMs) holder.claims.push(answer.kind === "granted");
        if (answer.kind === "granted") {
          holder.grantedAt = now;
          holder.lastRenewedUntil = answer.sessionUntil;
          grants.push(now);
          return schedule(now + holder.pollEveryMs, holder, "poll");
        }
        if (answer.kind === "wait" && answer.reason === "submissionWindow" && !(reserved && reserved.at === now + answer.waitMs)) {
          holder.reservations.push({ askedAt: now, at: now + answer.waitMs });
        }
        if (answer.kind === "refused") decisions.refusals++;
        else decisions.waits++;
        return schedule(later(now, answer), holder, "submit");
      }
      if (step === "poll") {
        if (holder.terminated && holder.polls >= holder.pollsBeforeTermination) return;
        const call = governorFor(holder, "read");
        const answer = await call.governor.acquireRead("getMachineAction", now, { renewSessionOf: holder.id });
        call.done();
        if (answer.renewal?.kind === "renewed") holder.lastRenewedUntil = answer.renewal.until;
        expect(answer.renewal?.kind).toBe("renewed");
        if (answer.kind !== "granted") return schedule(later(now, answer), holder, "poll");
        reads.getMachineAction.push(now);
        holder.polls++;
        // A terminated collection stops after its last poll: no link, no release, no more renewals.
        const done = !holder.terminated && now - holder.grantedAt! >= holder.holdMs;
        return schedule(done ? now : now + holder.pollEveryMs, holder, done ? "link" : "poll");
      }
      if (step === "link") {
        const call = governorFor(holder, "read");
        const answer = await call.governor.acquireRead("downloadLink", now, { renewSessionOf: holder.id });
        call.done();
        if (answer.kind !== "granted") return schedule(later(now, answer), holder, "link");
        reads.downloadLink.push(now);
        return schedule(now, holder, "release");
      }
      const call = governorFor(holder, "release");
      const released = await call.governor.releaseSession(holder.id, now);
      call.done();
      expect(released).toEqual({ kind: "released", held: true });
      holder.releasedAt = now;
      if (holder.releasesTwice) {
        const [again, alsoAgain] = await Promise.all([
          governorFor(holder, "release").governor.releaseSession(holder.id, now),
          governorFor({ ...holder, store: (holder.store + 1) % 4 }, "release").governor.releaseSession(holder.id, now + SECOND),
        ]);
        holder.secondRelease = again.kind === "released" && !again.held && alsoAgain.kind === "released" && !alsoAgain.held;
      }
    }

    const started = process.hrtime.bigint();
    let now = T0;
    let mostConcurrent = 0;
    while (due.size > 0) {
      now = Math.min(...due.keys());
      const steps = due.get(now)!;
      due.delete(now);
      mostConcurrent = Math.max(mostConcurrent, steps.length);
      await Promise.all(steps.map(([holder, step]) => run(holder, step, now)));
    }
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;

    const live = holders.filter((h) => !h.terminated);
    const terminated = holders.filter((h) => h.terminated);
    // Every collection got its session, and every live one finished: with 30 terminated and 25 slots, the
    // run could not have ended had a terminated slot never come back.
    expect(holders.filter((h) => h.grantedAt === undefined)).toEqual([]);
    expect(live.filter((h) => h.releasedAt === undefined)).toEqual([]);
    // Sessions held at once: a live one until its release, a terminated one until its last lease ran out.
    const held: [number, number][] = [
      ...live.map((h): [number, number] => [h.grantedAt!, h.releasedAt!]),
      ...terminated.map((h): [number, number] => [h.grantedAt!, h.lastRenewedUntil! + 1]),
    ];
    expect(mostAtOnce(held)).toBeLessThanOrEqual(SETTINGS.maxSessions);
    expect(mostAtOnce(held)).toBe(SETTINGS.maxSessions);
    // A terminated slot came back after its lease: some collection was granted a slot after a terminated one's lease ran out.
    const leaseEnds = terminated.map((h) => h.lastRenewedUntil!);
    expect(grants.some((g) => leaseEnds.some((end) => g > end))).toBe(true);
    expect(busiestWindow(grants, MINUTE)).toBeLessThanOrEqual(SETTINGS.submissionsPerMinute);
    expect(busiestWindow(grants, MINUTE)).toBe(SETTINGS.submissionsPerMinute);
    for (const endpoint of ["getMachineAction", "downloadLink"] as const) {
      expect(busiestWindow(reads[endpoint], MINUTE)).toBeLessThanOrEqual(READS_PER_MINUTE);
      expect(busiestWindow(reads[endpoint], 60 * MINUTE)).toBeLessThanOrEqual(READS_PER_HOUR);
    }
    expect(busiestWindow(reads.getMachineAction, 60 * MINUTE)).toBe(READS_PER_HOUR);
    // Reservations: given in arrival order, and honoured when claimed at their instant.
    const given = holders.flatMap((h) => h.reservations).sort((a, b) => a.askedAt - b.askedAt || a.at - b.at);
    expect(given.length).toBeGreaterThanOrEqual(15);
    given.forEach((r, i) => i > 0 && expect(r.at).toBeGreaterThanOrEqual(given[i - 1].at));
    expect(holders.flatMap((h) => h.claims).every(Boolean)).toBe(true);
    expect(live.filter((h) => h.releasesTwice).every((h) => h.secondRelease)).toBe(true);

    const line = (kind: keyof typeof cost) => {
      const c = cost[kind];
      return `${kind}: ${c.calls} calls, ${(c.roundTrips / c.calls).toFixed(2)} storage round trips and ${(c.conflicts / c.calls).toFixed(2)} 412/409 retries per call (most ${c.most} round trips)`;
    };
    console.log(
      [
        `governor fleet: ${HOLDERS} collections, virtual span ${((now - T0) / MINUTE).toFixed(1)} min, wall ${(wallMs / 1000).toFixed(1)} s, up to ${mostConcurrent} callers at one instant`,
        line("submission"),
        line("read"),
        line("release"),
        `submission asks per grant: ${(decisions.submissions / grants.length).toFixed(2)} (${decisions.waits} waits, ${decisions.refusals} refusals, ${grants.length} grants)`,
      ].join("\n"),
    );
  }, 600_000);
});
