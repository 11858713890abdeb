import { machine, MINUTE, startCollectorHarness, type CollectorHarness } from "../support/collectorHarness";

/** The request example of run-live-response (https://learn.microsoft.com/defender-endpoint/api/run-live-response): a RunScript then a GetFile. */
const commands = [
  { type: "RunScript", params: [{ key: "ScriptName", value: "minidump.ps1" }] },
  { type: "GetFile", params: [{ key: "Path", value: "C:\\windows\\TEMP\\OfficeClickToRun.dmp.zip" }] },
];

/** MDE's status endpoints (get and list machine actions: the collection's own reads and the action poller's) answer 503 during `outage`. */
const outage = { active: false, calls: 0 };
const flakyFetch: typeof fetch = async (input, init) => {
  const url = String(input instanceof Request ? input.url : input);
  if (outage.active && /\/api\/machineactions(\/[0-9a-f-]{36})?$/.test(new URL(url).pathname)) {
    outage.calls++;
    return new Response(JSON.stringify({ error: { code: "ServiceUnavailable", message: "try later", target: "t" } }), { status: 503 });
  }
  return fetch(input, init);
};

let h: CollectorHarness;
beforeAll(async () => {
  h = await startCollectorHarness({ fetch: flakyFetch });
});
afterAll(async () => {
  outage.active = false;
  await h.stop();
});

describe("MDE failing beyond the activity's own retries", () => {
  it("rides out a status outage on durable timers and still collects everything", async () => {
    const m = machine({ onlineAfterMs: 20 * MINUTE });
    h.simulator.addMachine(m);
    const res = await h.start({ machineId: m.machineId, commands });
    const id = (res.jsonBody as { id: string }).id;
    await h.engine.runUntilIdle({ maxVirtualTimeMs: 2 * MINUTE });
    outage.active = true;
    await h.engine.runUntilIdle({ maxVirtualTimeMs: 10 * MINUTE });
    expect((await h.status(id)).jsonBody).toMatchObject({ phase: "retrying", runtimeStatus: "Running" });
    outage.active = false;
    const summary = await h.finish(id);
    expect(summary).toMatchObject({ outcome: "Completed", complete: true });
    expect(outage.calls).toBeGreaterThan(4);
  });

  it("gives up with a clear outcome when MDE never recovers, and still writes the manifest", async () => {
    const m = machine({ onlineAfterMs: 0 });
    h.simulator.addMachine(m);
    const res = await h.start({ machineId: m.machineId, commands });
    const id = (res.jsonBody as { id: string }).id;
    await h.engine.runUntilIdle({ maxVirtualTimeMs: 5_000 });
    outage.active = true;
    const summary = await h.finish(id);
    outage.active = false;
    expect(summary.outcome).toBe("Failed");
    expect(summary.outcomeReason).toMatch(/^MDE kept failing after 7 rounds of retries; last error: .*(ServiceUnavailable|try later)/);
    const manifest = await h.readManifest(summary.manifest!.blobName);
    expect(manifest.outcome).toBe("Failed");
  });
});
