import { createHash } from "node:crypto";
import type { CollectionSummary } from "../../shared/contract";
import type { Logger } from "../../shared/log";
import { HOUR, machine, startCollectorHarness, type CollectorHarness } from "../support/collectorHarness";

/**
 * Fault-injection soak: 50 investigations against a simulator that answers 10% of calls with 429,
 * 5% with 500 and drops 5% of connections (half of the POST faults after the action was created:
 * the ambiguous failure that must not become a second live response), on top of MDE's own limits
 * (10 submissions a minute, 25 sessions). Every completed command's evidence must land exactly once
 * with correct hashes.
 */
const INVESTIGATIONS = 50;
const commands = [
  { type: "RunScript", params: [{ key: "ScriptName", value: "triage.ps1" }] },
  { type: "GetFile", params: [{ key: "Path", value: "C:\\Windows\\Temp\\triage.zip" }] },
];

const clientLog: Record<string, number> = {};
const countingLogger: Logger = {
  info: (message) => void (clientLog[message] = (clientLog[message] ?? 0) + 1),
  warn: (message) => void (clientLog[message] = (clientLog[message] ?? 0) + 1),
  error: (message) => void (clientLog[message] = (clientLog[message] ?? 0) + 1),
};

let h: CollectorHarness;
beforeAll(async () => {
  h = await startCollectorHarness({
    simulator: { faults: { throttleRate: 0.1, serverErrorRate: 0.05, dropRate: 0.05, seed: 20261123, retryAfterSeconds: 2 } },
    logger: countingLogger,
  });
});
afterAll(async () => {
  await h.stop();
});

it(`lands every result of ${INVESTIGATIONS} investigations exactly once through random 429s, 500s and dropped connections`, async () => {
  const machines = Array.from({ length: INVESTIGATIONS }, (_, i) =>
    machine({ onlineAfterMs: (i % 5) * HOUR, getFileSizeBytes: 32 * 1024 + i }),
  );
  machines.forEach((m) => h.simulator.addMachine(m));
  const ids: string[] = [];
  for (const m of machines) {
    const res = await h.start({ machineId: m.machineId, commands });
    expect(res.status).toBe(202);
    ids.push((res.jsonBody as { id: string }).id);
  }
  await h.engine.runUntilIdle({ maxVirtualTimeMs: 4 * 24 * HOUR });

  const actions = h.simulator.actions();
  for (const [i, m] of machines.entries()) {
    const status = h.engine.getStatus(ids[i])!;
    expect(status.runtimeStatus).toBe("Completed");
    const summary = status.output as CollectionSummary;
    expect(summary).toMatchObject({ outcome: "Completed", complete: true });
    // One live response per device, although some submissions failed after MDE had accepted them.
    expect(actions.filter((a) => a.machineId === m.machineId)).toHaveLength(1);
    const blobs = await h.blobsOf(m.machineId);
    expect(blobs).toHaveLength(4);
    for (const e of summary.evidence) {
      const expected = await h.simulator.expectedResult(summary.actionId!, e.index);
      const stored = await h.container.getBlockBlobClient(blobs[e.index]).downloadToBuffer();
      expect(createHash("sha256").update(stored).digest("hex")).toBe(expected.sha256);
      expect(e.sha256).toBe(expected.sha256);
    }
  }

  const sim = h.simulator.stats();
  const engine = h.engine.stats();
  const totalCalls = Object.values(sim.calls).reduce((a, b) => a + b, 0);
  const faults = Object.fromEntries(
    Object.entries(sim.faultsInjected).map(([kind, where]) => [kind, Object.values(where).reduce((a, b) => a + (b ?? 0), 0)]),
  );
  console.log(
    [
      `soak: ${INVESTIGATIONS} investigations, all Completed, ${INVESTIGATIONS * 2} results landed once each`,
      `MDE calls made: ${totalCalls} ${JSON.stringify(sim.calls)}`,
      `429s seen: ${sim.tooManyRequests} (injected ${faults.tooManyRequests}, the rest MDE's own limits); faults injected: ${JSON.stringify(faults)}`,
      `client retries in-process: ${clientLog["MDE request will be retried"] ?? 0}; requests with no answer: ${clientLog["MDE request got no answer"] ?? 0}`,
      `activity runs (durable retries included): ${JSON.stringify(engine.activityCalls)}`,
      `largest history: ${engine.maxHistoryEventsPerExecution} events; episodes: ${engine.episodes}`,
    ].join("\n"),
  );
  expect(
    faults.tooManyRequests + faults.serverError + faults.drop + faults.serverErrorAfterCommit + faults.dropAfterCommit,
  ).toBeGreaterThan(20);
}, 240_000);
