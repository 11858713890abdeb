/** Session slots: at most S holders at once, leased and renewed, released idempotently, waiters served in arrival order. */
import { MINUTE, SECOND, storedDocument, T0, testGovernor } from "./governorFixture";

const LEASE = 20 * MINUTE;
/** The submission window never binds here: only the slots decide. */
const slotsOnly = (limits = {}) => testGovernor({ settings: { submissionsPerMinute: 1_000 }, limits });
const holders = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `h${from + i}`);

async function fill(governor: ReturnType<typeof slotsOnly>["governor"], count: number, now = T0) {
  for (const h of holders(1, count)) expect(await governor.acquireSubmission(h, now)).toMatchObject({ kind: "granted" });
}

describe("session slots", () => {
  it("lets at most S holders hold a session; the next ones wait for a slot", async () => {
    const { governor, store } = slotsOnly();
    await fill(governor, 25);
    expect(await governor.acquireSubmission("h26", T0)).toMatchObject({ kind: "wait", reason: "sessionSlot" });
    expect(storedDocument(store).sessions).toHaveLength(25);
  });

  it("honours MDE_MAX_SESSIONS = 50", async () => {
    const { governor } = testGovernor({ settings: { maxSessions: 50, submissionsPerMinute: 1_000 } });
    await fill(governor, 50);
    expect(await governor.acquireSubmission("h51", T0)).toMatchObject({ kind: "wait", reason: "sessionSlot" });
  });

  it("serves waiters in arrival order: a freed slot goes to the first waiter, not to one that asks first", async () => {
    const { governor } = slotsOnly();
    await fill(governor, 25);
    await governor.acquireSubmission("h26", T0 + SECOND);
    await governor.acquireSubmission("h27", T0 + 2 * SECOND);
    await governor.releaseSession("h1", T0 + 3 * SECOND);
    expect(await governor.acquireSubmission("h27", T0 + 4 * SECOND)).toMatchObject({ kind: "wait", reason: "sessionSlot" });
    expect(await governor.acquireSubmission("h26", T0 + 5 * SECOND)).toMatchObject({ kind: "granted" });
    await governor.releaseSession("h2", T0 + 6 * SECOND);
    expect(await governor.acquireSubmission("h27", T0 + 7 * SECOND)).toMatchObject({ kind: "granted" });
  });

  it("returns the slot of a holder that stops renewing (terminated) once its lease has run out, not before", async () => {
    const { governor } = slotsOnly();
    await fill(governor, 25);
    for (const h of holders(2, 25)) await governor.renewSession(h, T0 + 10 * MINUTE);
    expect(await governor.acquireSubmission("h26", T0 + LEASE)).toMatchObject({ kind: "wait", reason: "sessionSlot" });
    expect(await governor.acquireSubmission("h26", T0 + LEASE + 1)).toMatchObject({ kind: "granted" });
    // The terminated holder, should it ever come back, finds its slot taken.
    expect(await governor.renewSession("h1", T0 + LEASE + 2)).toEqual({ kind: "lost" });
  });

  it("extends the lease from each renewal", async () => {
    const { governor } = slotsOnly();
    await fill(governor, 25);
    expect(await governor.renewSession("h1", T0 + 15 * MINUTE)).toEqual({
      kind: "renewed",
      until: T0 + 15 * MINUTE + LEASE,
      readmitted: false,
    });
    for (const h of holders(2, 25)) await governor.renewSession(h, T0 + 15 * MINUTE);
    expect(await governor.acquireSubmission("h26", T0 + 30 * MINUTE)).toMatchObject({ kind: "wait", reason: "sessionSlot" });
  });

  it("gives a lapsed lease back to a holder still renewing when a slot is free", async () => {
    const { governor } = slotsOnly();
    await fill(governor, 1);
    expect(await governor.renewSession("h1", T0 + LEASE + MINUTE)).toEqual({
      kind: "renewed",
      until: T0 + 2 * LEASE + MINUTE,
      readmitted: true,
    });
  });

  it("releases idempotently: twice, or a slot never held, changes nothing", async () => {
    const { governor, store } = slotsOnly();
    await fill(governor, 2);
    expect(await governor.releaseSession("h1", T0 + SECOND)).toEqual({ kind: "released", held: true });
    const writes = governor.stats.writes;
    expect(await governor.releaseSession("h1", T0 + 2 * SECOND)).toEqual({ kind: "released", held: false });
    expect(await governor.releaseSession("never", T0 + 2 * SECOND)).toEqual({ kind: "released", held: false });
    expect(governor.stats.writes).toBe(writes);
    expect(storedDocument(store).sessions.map((s) => s.holder)).toEqual(["h2"]);
  });

  it("forgets a waiter that stopped asking once its wait and grace are over, and serves the next", async () => {
    const { governor, store } = slotsOnly();
    await fill(governor, 25);
    const first = await governor.acquireSubmission("gone", T0);
    expect(first).toMatchObject({ kind: "wait", reason: "sessionSlot" });
    await governor.acquireSubmission("next", T0 + SECOND);
    await governor.releaseSession("h1", T0 + 2 * SECOND);
    const waitMs = first.kind === "wait" ? first.waitMs : 0;
    // Still within the first waiter's grace: the slot is kept for it.
    expect(await governor.acquireSubmission("next", T0 + waitMs + 29 * SECOND)).toMatchObject({ kind: "wait" });
    expect(await governor.acquireSubmission("next", T0 + waitMs + 31 * SECOND)).toMatchObject({ kind: "granted" });
    expect(storedDocument(store).sessionWaiters).toEqual([]);
  });

  it("answers a sensible wait: a re-check growing with the rank, bounded, never past the lease that frees the slot", async () => {
    const { governor } = slotsOnly();
    await fill(governor, 25);
    const waits: number[] = [];
    for (const h of holders(26, 125)) {
      const a = await governor.acquireSubmission(h, T0);
      waits.push(a.kind === "wait" ? a.waitMs : -1);
    }
    // 15 s at the front, 15 s more for every 5 places (a fifth of the slots) further back, at most 5 minutes.
    expect(waits.slice(0, 5)).toEqual(Array(5).fill(15 * SECOND));
    expect(waits[5]).toBe(30 * SECOND);
    expect(waits[25]).toBe(90 * SECOND);
    expect(waits[99]).toBe(5 * MINUTE);
    const deep = slotsOnly({ slotRecheckMs: 10 * MINUTE, maxSlotRecheckMs: 10 * MINUTE });
    await fill(deep.governor, 25);
    // Every lease runs out at T0 + 20 min: asked at T0 + 19 min 57 s, the wait is the 3 s (and 1 ms) left.
    expect(await deep.governor.acquireSubmission("h26", T0 + LEASE - 3 * SECOND)).toEqual({
      kind: "wait",
      waitMs: 3 * SECOND + 1,
      reason: "sessionSlot",
    });
  });

  it("refuses with QueueFull past the queue's cap, but keeps answering those already queued", async () => {
    const { governor } = slotsOnly({ maxWaiters: 2 });
    await fill(governor, 25);
    await governor.acquireSubmission("w1", T0);
    await governor.acquireSubmission("w2", T0);
    expect(await governor.acquireSubmission("w3", T0)).toMatchObject({ kind: "refused", code: "QueueFull" });
    expect(await governor.acquireSubmission("w1", T0 + SECOND)).toMatchObject({ kind: "wait", reason: "sessionSlot" });
  });

  it("keeps the slot of a holder waiting for its reservation, and gives it back when the reservation lapses", async () => {
    const { governor, store } = testGovernor({ settings: { submissionsPerMinute: 1 } });
    await governor.acquireSubmission("h1", T0);
    const reserved = await governor.acquireSubmission("h2", T0);
    expect(reserved).toMatchObject({ kind: "wait", reason: "submissionWindow" });
    expect(storedDocument(store).sessions.map((s) => s.holder)).toEqual(["h1", "h2"]);
    const at = T0 + (reserved.kind === "wait" ? reserved.waitMs : 0);
    await governor.acquireSubmission("h3", at + 5 * SECOND + 1);
    expect(storedDocument(store).sessions.map((s) => s.holder)).toEqual(["h1", "h3"]);
  });
});

describe("observeSessions (the batched status poll)", () => {
  it("renews the leases of running sessions and releases final ones in one write", async () => {
    const { governor, store } = slotsOnly();
    await fill(governor, 3);
    const before = governor.stats.writes;
    expect(await governor.observeSessions({ renew: ["h1", "h2"], release: ["h3"] }, T0 + 15 * MINUTE)).toEqual({
      kind: "observed",
      wake: [],
    });
    expect(governor.stats.writes - before).toBe(1);
    const doc = storedDocument(store);
    expect(doc.sessions.map((s) => s.holder).sort()).toEqual(["h1", "h2"]);
    expect(doc.sessions.every((s) => s.until === T0 + 15 * MINUTE + LEASE)).toBe(true);
    // Past the first lease the renewed holders still hold their slots.
    expect(await governor.renewSession("h1", T0 + LEASE + 5 * MINUTE)).toMatchObject({ kind: "renewed", readmitted: false });
  });

  it("is idempotent and refuses an invalid holder without writing", async () => {
    const { governor } = slotsOnly();
    await fill(governor, 1);
    await governor.observeSessions({ renew: [], release: ["h1"] }, T0);
    const writes = governor.stats.writes;
    await governor.observeSessions({ renew: [], release: ["h1"] }, T0);
    expect(governor.stats.writes).toBe(writes);
    expect(await governor.observeSessions({ renew: [""], release: [] }, T0)).toMatchObject({ kind: "refused", code: "InvalidHolder" });
  });
});

describe("wakeable waiters (collections the action poller wakes)", () => {
  it("sleep long in the queue, keep their place, and are named to be woken when slots free, in arrival order", async () => {
    const { governor } = slotsOnly();
    await fill(governor, 25);
    const answers = [];
    for (const h of ["w1", "w2", "w3"]) answers.push(await governor.acquireSubmission(h, T0 + SECOND, { wakeable: true }));
    expect(answers.every((a) => a.kind === "wait" && a.reason === "sessionSlot" && a.waitMs === 2 * 60 * MINUTE)).toBe(true);
    // An hour later (far past a plain waiter's re-check) two sessions end: the first two waiters are named.
    const observed = await governor.observeSessions({ renew: holders(3, 25), release: ["h1", "h2"] }, T0 + 60 * MINUTE);
    expect(observed).toEqual({ kind: "observed", wake: ["w1", "w2"] });
    expect(await governor.acquireSubmission("w2", T0 + 60 * MINUTE + SECOND, { wakeable: true })).toMatchObject({ kind: "granted" });
  });
});
