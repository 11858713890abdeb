import { createMdeSimulator, defaultMachines } from "../../../simulator";
import { testAzurite } from "../../support/azurite";
import { machine } from "../../support/machines";
import { runScript, startSimulator, stopSimulators } from "../../support/simulatorFixture";

afterEach(stopSimulators);

describe("the simulator's own surface", () => {
  it("lists, adds and reports machines through the admin endpoints (no auth, no /api)", async () => {
    const s = await startSimulator({ machines: [machine({ computerDnsName: "first" })] });
    const added = await fetch(`${s.baseUrl}/simulator/machines`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ machineId: "ab".repeat(20), computerDnsName: "second", onlineAfterMs: null }),
    });
    expect(added.status).toBe(201);
    expect(await added.json()).toMatchObject({
      machineId: "ab".repeat(20),
      onlineAfterMs: null,
      commandDurationMs: { RunScript: 30_000 },
      getFileSizeBytes: 65536,
    });
    const list = (await (await fetch(`${s.baseUrl}/simulator/machines`)).json()) as Array<{ computerDnsName: string }>;
    expect(list.map((m) => m.computerDnsName)).toEqual(["first", "second"]);
    expect(s.sim.machines()).toEqual(list);

    const bad = await fetch(`${s.baseUrl}/simulator/machines`, {
      method: "POST",
      body: JSON.stringify({ machineId: "ABC", computerDnsName: "" }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/machineId.*computerDnsName/);
  });

  it("refuses a duplicate or malformed scenario in code", async () => {
    const m = machine();
    const s = await startSimulator({ machines: [m] });
    expect(() => s.sim.addMachine(m)).toThrow(/already exists/);
    expect(() => s.sim.addMachine({ ...machine(), machineId: "F".repeat(40) })).toThrow(/40 lowercase hex/);
  });

  it("counts calls, 429s and 4xx answers per endpoint and lists actions", async () => {
    const m = machine();
    const s = await startSimulator({ machines: [m] });
    await fetch(`${s.baseUrl}/api/machineactions`); // 401
    const created = await s.call("POST", `/api/machines/${m.machineId}/runliveresponse`, { Commands: [runScript()] });
    await s.call("GET", `/api/machineactions/${created.json.id}`);
    await s.call("GET", "/api/nothing-here");
    expect(s.sim.stats()).toEqual({
      calls: {
        runLiveResponse: 1,
        getMachineAction: 1,
        listMachineActions: 1,
        getDownloadLink: 0,
        cancelMachineAction: 0,
        listMachines: 0,
        getAlert: 0,
        listLibraryFiles: 0,
        listAlertsV2: 0,
        uploadLibraryFile: 0,
      },
      throttled: {
        runLiveResponse: 0,
        getMachineAction: 0,
        listMachineActions: 0,
        getDownloadLink: 0,
        cancelMachineAction: 0,
        listMachines: 0,
        getAlert: 0,
        listLibraryFiles: 0,
        listAlertsV2: 0,
        uploadLibraryFile: 0,
      },
      tooManyRequests: 0,
      clientErrors: 2,
      byStatus: { "401": 1, "201": 1, "200": 1, "404": 1 },
      faultsInjected: {
        tooManyRequests: {},
        serverError: {},
        drop: {},
        serverErrorAfterCommit: {},
        dropAfterCommit: {},
        brokenDownload: {},
      },
    });
    expect(s.sim.actions()).toEqual([expect.objectContaining({ id: created.json.id, status: "InProgress" })]);
  });

  it("has valid default demo machines and reports its base URL", async () => {
    const sim = createMdeSimulator({
      resultStore: { connectionString: testAzurite.sourceConnectionString, containerName: `demo-${Date.now().toString(36)}` },
      machines: defaultMachines(),
    });
    expect(() => sim.baseUrl).toThrow(/not started/);
    const { baseUrl } = await sim.start();
    try {
      expect(sim.baseUrl).toBe(baseUrl);
      expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(sim.machines().length).toBe(defaultMachines().length);
    } finally {
      await sim.stop();
    }
  });
});
