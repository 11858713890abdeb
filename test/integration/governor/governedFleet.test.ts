/**
 * Issue 14's proof, with real collections: many concurrent collections through the registered app
 * (test/support/collectorHarness.ts) against the MDE simulator, which enforces MDE's limits and answers
 * 429 past them. Under the tenant-wide governor no more sessions than MDE_MAX_SESSIONS run at once, no
 * 60-second window holds more than 10 submissions, no budget is exceeded (zero 429s), and a terminated
 * collection's slot returns after its lease. GOVERNED_FLEET_SIZE sets the fleet: 50 in `npm test` (about 10 s), 200 for the issue's figure (about 40 s on 2 cores).
 */
import { BlobGovernorStore, governorBlobName } from "../../../shared/governor/blobGovernorStore";
import { Governor } from "../../../shared/governor/governor";
import type { GovernorDocument } from "../../../shared/governor/governorDocument";
import { governorLimits } from "../../../shared/governor/governorLimits";
import { createStateContainer } from "../../../shared/stateStorage";
import { DAY, MINUTE, machine, startCollectorHarness, type CollectorHarness } from "../../support/collectorHarness";

const N = Number.parseInt(process.env.GOVERNED_FLEET_SIZE ?? "50", 10);
const commands = [
  { type: "RunScript", params: [{ key: "ScriptName", value: "triage.ps1" }] },
  { type: "GetFile", params: [{ key: "Path", value: "C:\\Windows\\Temp\\triage.zip" }] },
];
const online = Array.from({ length: N }, () => machine({ onlineAfterMs: 0, commandDurationMs: 5_000 }));
const neverOnline = machine({ onlineAfterMs: null });

let h: CollectorHarness;
beforeAll(async () => {
  h = await startCollectorHarness({
    machines: [...online, neverOnline],
    settings: { COLLECTIONS_MAX_IN_FLIGHT: String(N + 10), COLLECTIONS_MAX_IN_FLIGHT_PER_CALLER: String(N + 10) },
  });
});
afterAll(async () => h?.stop());

/** The app's governor document, in the harness's state container (the evidence Azurite under LOCAL_DEVELOPMENT). */
function governorStore(): BlobGovernorStore {
  const container = createStateContainer(h.config.state, () => {
    throw new Error("the harness uses a connection string");
  });
  return new BlobGovernorStore(container, governorBlobName());
}

async function governorDocument(): Promise<GovernorDocument> {
  return (await governorStore().read())!.document as GovernorDocument;
}

/** Most intervals [from, to) open at once. */
function maxOverlap(intervals: [number, number][]): number {
  const edges = intervals.flatMap(([from, to]): [number, number][] => [
    [from, 1],
    [to, -1],
  ]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let most = 0;
  for (const [, d] of edges) most = Math.max(most, (open += d));
  return most;
}

/** Most instants within any 60-second window. */
function maxPerMinute(instants: number[]): number {
  const sorted = [...instants].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= MINUTE) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

it(`runs ${N} concurrent collections within MDE's limits: sessions, submissions per minute, read budgets, zero 429s`, async () => {
  const ids: string[] = [];
  for (const d of online) {
    const res = await h.start({ machineId: d.machineId, commands });
    expect(res.status).toBe(202);
    ids.push((res.jsonBody as { id: string }).id);
  }
  await h.engine.runUntilIdle({ maxVirtualTimeMs: 2 * DAY });

  const outcomes = ids.map((id) => (h.engine.getStatus(id)?.output as { outcome?: string } | undefined)?.outcome);
  expect(outcomes.filter((o) => o === "Completed")).toHaveLength(N);
  const stats = h.simulator.stats();
  expect(stats.tooManyRequests).toBe(0);
  // Submit first: exactly one POST per device, and no lookup of earlier attempts (a list call each).
  // The list calls left are the action poller's rounds, one for all watched actions at a time.
  expect(stats.calls.runLiveResponse).toBe(N);
  expect(stats.calls.listMachineActions).toBeLessThan(N / 2);

  const actions = h.simulator.actions() as { creationDateTimeUtc: string; lastUpdateDateTimeUtc: string }[];
  expect(actions).toHaveLength(N);
  const sessions = actions.map((a): [number, number] => [Date.parse(a.creationDateTimeUtc), Date.parse(a.lastUpdateDateTimeUtc)]);
  expect(maxOverlap(sessions)).toBeLessThanOrEqual(h.config.governor.maxSessions);
  expect(maxPerMinute(sessions.map(([created]) => created))).toBeLessThanOrEqual(10);
  // Every collection gave its slot back at its end.
  expect((await governorDocument()).sessions).toEqual([]);
}, 300_000);

it("gives a terminated collection's slot back after its lease", async () => {
  const res = await h.start({ machineId: neverOnline.machineId, commands });
  const id = (res.jsonBody as { id: string }).id;
  await h.engine.runUntilIdle({
    until: () => (h.simulator.actions() as { machineId: string }[]).some((a) => a.machineId === neverOnline.machineId),
  });
  expect((await governorDocument()).sessions.map((s) => s.holder)).toContain(id);
  h.engine.terminate(id, "test: operator gave up");
  // Nobody releases it (the orchestration never reaches its manifest): only the lease ends it.
  const lease = (await governorDocument()).sessions.find((s) => s.holder === id)!;
  const governor = new Governor(governorStore(), governorLimits(h.config.governor));
  const others = h.config.governor.maxSessions - 1;
  for (let i = 0; i < others; i++) await governor.acquireSubmission(`other-${i}`, lease.until - 1_000);
  // Every slot is taken just before the lease ends...
  expect(await governor.acquireSubmission("late", lease.until - 1_000)).toMatchObject({ kind: "wait", reason: "sessionSlot" });
  // ...and the terminated collection's slot is the late one's once it has.
  expect(await governor.acquireSubmission("late", lease.until + 1)).not.toMatchObject({ reason: "sessionSlot" });
  const holders = (await governorDocument()).sessions.map((s) => s.holder);
  expect(holders).toContain("late");
  expect(holders).not.toContain(id);
});
