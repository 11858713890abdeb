import { startCollectorHarness, machine, MINUTE, SECOND, type CollectorHarness } from "../support/collectorHarness";
import type { CollectionSummary } from "../../shared/contract";

/**
 * Batched status polling end to end (functions/actionPoller.ts): many collections wait on one
 * poller's list calls instead of each reading its own action, and are woken when it changes.
 */
const commands = [
  { type: "RunScript", params: [{ key: "ScriptName", value: "triage.ps1" }] },
  { type: "GetFile", params: [{ key: "Path", value: "C:\\Windows\\Temp\\triage.zip" }] },
];

let h: CollectorHarness;
beforeAll(async () => {
  h = await startCollectorHarness({ settings: { COLLECTIONS_MAX_IN_FLIGHT: "50", COLLECTIONS_MAX_IN_FLIGHT_PER_CALLER: "50" } });
});
afterAll(async () => {
  await h.stop();
});

it("collects from 20 devices with one list call per round for all of them, each collection woken as its commands complete", async () => {
  const devices = Array.from({ length: 20 }, (_, i) => machine({ commandDurationMs: (20 + i * 7) * SECOND }));
  for (const d of devices) h.simulator.addMachine(d);
  const ids: string[] = [];
  for (const d of devices) ids.push(((await h.start({ machineId: d.machineId, commands })).jsonBody as { id: string }).id);
  await h.engine.runUntilIdle({ maxVirtualTimeMs: 60 * MINUTE });

  const summaries = ids.map((id) => h.engine.getStatus(id)?.output as CollectionSummary | undefined);
  expect(summaries.map((s) => s?.outcome)).toEqual(ids.map(() => "Completed"));
  expect(summaries.every((s) => s!.evidence.length === 2)).toBe(true);

  const { calls } = h.simulator.stats();
  // The submission puts each action on the watch list: every look while it runs is the poller's copy,
  // and MDE reads it once more only for the manifest (the action as MDE returns it). The poller
  // reads all 20 with one list call per round.
  expect(calls.getMachineAction).toBe(devices.length);
  expect(calls.listMachineActions).toBeGreaterThan(0);
  expect(calls.listMachineActions).toBeLessThan(devices.length);
  expect(h.simulator.stats().tooManyRequests).toBe(0);

  // Woken, not polled: every collection saw the poller's event, and none waited out a fallback timer
  // (the first is 5 minutes) after its action finished.
  const actions = new Map((h.simulator.actions() as { id: string; lastUpdateDateTimeUtc: string }[]).map((a) => [a.id, a]));
  for (const [i, id] of ids.entries()) {
    const finishedInMde = Date.parse(actions.get(summaries[i]!.actionId!)!.lastUpdateDateTimeUtc);
    const ended = Date.parse(String(h.engine.getStatus(id)!.lastUpdatedTime));
    expect(ended - finishedInMde).toBeLessThan(2 * MINUTE);
  }
});
