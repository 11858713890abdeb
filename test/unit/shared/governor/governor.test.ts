/** The read-modify-write around the rules: conflicts, storage failures, an unreadable document, bounds, concurrency. */
import type { GovernorStore, StoredDocument } from "../../../../shared/governor/governorStore";
import { MemoryGovernorStore } from "../../../../shared/governor/governorStore";
import { MINUTE, SECOND, seededRandom, storedDocument, T0, testGovernor } from "./governorFixture";

/** The in-memory store with faults: the next reads or writes fail, or every write conflicts. */
class FaultyStore implements GovernorStore {
  readonly inner = new MemoryGovernorStore();
  failReads = 0;
  failWrites = 0;
  alwaysConflict = false;
  async read(): Promise<StoredDocument | undefined> {
    if (this.failReads-- > 0) throw Object.assign(new Error("service unavailable"), { statusCode: 503 });
    return this.inner.read();
  }
  async write(document: unknown, etag: string | undefined): Promise<"written" | "conflict"> {
    if (this.alwaysConflict) return "conflict";
    if (this.failWrites-- > 0) throw Object.assign(new Error("service unavailable"), { statusCode: 503 });
    return this.inner.write(document, etag);
  }
}

describe("the governor's read-modify-write", () => {
  it("agrees across many concurrent callers: every conflicting write is retried, no grant is lost or doubled", async () => {
    // Four processes (a Governor each) over one store; no real sleep between attempts, so the last of n
    // concurrent callers may need n attempts.
    const { governor: first, store } = testGovernor({ settings: { maxSessions: 50 }, maxAttempts: 200 });
    const governors = [first, ...[1, 2, 3].map(() => testGovernor({ settings: { maxSessions: 50 }, maxAttempts: 200, store }).governor)];
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => governors[i % 4]!.acquireSubmission(`h${i}`, T0)));
    expect(answers.filter((a) => a.kind === "granted")).toHaveLength(10);
    expect(answers.filter((a) => a.kind === "wait")).toHaveLength(30);
    expect(governors.reduce((n, g) => n + g.stats.conflicts, 0)).toBeGreaterThan(0);
    const reads = await Promise.all(Array.from({ length: 120 }, (_, i) => governors[i % 4]!.acquireRead("downloadLink", T0)));
    expect(reads.filter((a) => a.kind === "granted")).toHaveLength(90);
  });

  it("runs one process's decisions one at a time: concurrent callers of one Governor never collide on the ETag", async () => {
    const { governor } = testGovernor({ settings: { maxSessions: 50 } });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => governor.acquireSubmission(`h${i}`, T0)));
    expect(answers.filter((a) => a.kind === "granted")).toHaveLength(10);
    expect(governor.stats).toMatchObject({ decisions: 40, conflicts: 0 });
  });

  it("rides out a storage failure, and answers GovernorUnavailable (with a jittered retry) when storage keeps failing", async () => {
    const store = new FaultyStore();
    const { governor } = testGovernor({ store });
    store.failReads = 1;
    store.failWrites = 1;
    expect(await governor.acquireSubmission("h1", T0)).toMatchObject({ kind: "granted" });
    store.failReads = 3;
    const refused = await governor.acquireSubmission("h2", T0);
    expect(refused).toMatchObject({ kind: "refused", code: "GovernorUnavailable" });
    expect(refused.kind === "refused" && refused.retryAfterMs).toBeGreaterThanOrEqual(30 * SECOND);
    expect(governor.stats.storageFailures).toBe(5);
  });

  it("answers GovernorUnavailable when other writers keep winning past the attempts allowed", async () => {
    const store = new FaultyStore();
    store.alwaysConflict = true;
    const { governor } = testGovernor({ store, maxAttempts: 5 });
    expect(await governor.acquireRead("cancel", T0)).toMatchObject({ kind: "refused", code: "GovernorUnavailable" });
    expect(governor.stats.conflicts).toBe(5);
  });

  it("starts afresh, and says so, when the stored document is not one of its own", async () => {
    const store = new MemoryGovernorStore();
    await store.write({ version: 99, anything: true }, undefined);
    const warnings: string[] = [];
    const { governor } = testGovernor({ store, logger: { info() {}, error() {}, warn: (m) => warnings.push(m) } });
    expect(await governor.acquireSubmission("h1", T0)).toMatchObject({ kind: "granted" });
    expect(storedDocument(store)).toMatchObject({ version: 1, sessions: [{ holder: "h1" }] });
    expect(warnings).toEqual(["governor state unreadable, starting afresh"]);
  });

  it("does not write when nothing changed (a holder asking again before its reservation)", async () => {
    const { governor } = testGovernor({ settings: { submissionsPerMinute: 1 } });
    await governor.acquireSubmission("h1", T0);
    await governor.acquireSubmission("h2", T0);
    const writes = governor.stats.writes;
    expect(await governor.acquireSubmission("h2", T0 + SECOND)).toMatchObject({ kind: "wait" });
    expect(governor.stats.writes).toBe(writes);
  });

  it("refuses a holder id that is empty or too long", async () => {
    const { governor } = testGovernor();
    expect(await governor.acquireSubmission("", T0)).toMatchObject({ kind: "refused", code: "InvalidHolder" });
    expect(await governor.renewSession("x".repeat(201), T0)).toMatchObject({ kind: "refused", code: "InvalidHolder" });
    expect(await governor.acquireRead("cancel", T0, { renewSessionOf: "" })).toMatchObject({ kind: "refused", code: "InvalidHolder" });
  });

  it("never reads a clock: time only comes from the caller", async () => {
    const { governor } = testGovernor();
    const now = jest.spyOn(Date, "now").mockImplementation(() => {
      throw new Error("the governor read the clock");
    });
    try {
      await governor.acquireSubmission("h1", T0);
      await governor.acquireRead("downloadLink", T0);
      await governor.renewSession("h1", T0 + MINUTE);
      await governor.releaseSession("h1", T0 + 2 * MINUTE);
      expect(now).not.toHaveBeenCalled();
    } finally {
      now.mockRestore();
    }
  });

  it("keeps its document bounded: expired entries are pruned on every write and the queues are capped", async () => {
    const { governor, store } = testGovernor();
    const random = seededRandom(3);
    let now = T0;
    let largest = 0;
    // Six hours of a busy tenant: 2,000 holders arriving, polling, releasing (a tenth never do).
    for (let i = 0; i < 20_000; i++) {
      now += Math.floor(random() * 2 * SECOND);
      const holder = `collection-${Math.floor(random() * 2_000)}`;
      const roll = random();
      if (roll < 0.3) await governor.acquireSubmission(holder, now);
      else if (roll < 0.9) await governor.acquireRead("getMachineAction", now, { renewSessionOf: holder });
      else if (!holder.endsWith("7")) await governor.releaseSession(holder, now);
      largest = Math.max(largest, (store as MemoryGovernorStore).storedBytes);
    }
    const doc = storedDocument(store);
    expect(doc.sessions.length).toBeLessThanOrEqual(25);
    expect(doc.sessionWaiters.length).toBeLessThanOrEqual(1_000);
    expect(doc.sessions.every((s) => s.until >= now)).toBe(true);
    expect(doc.submissions.every((g) => g > now - 2 * MINUTE)).toBe(true);
    expect(doc.reads.getMachineAction!.seconds.length).toBeLessThanOrEqual(62);
    expect(doc.reads.getMachineAction!.minutes.length).toBeLessThanOrEqual(62);
    // 2,000 queued holders at most 1,000 of them: about 60 bytes each, plus the buckets.
    expect(largest).toBeLessThan(100_000);
  });
});
