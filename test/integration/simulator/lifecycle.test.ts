import { DAY, HOUR, machine, MINUTE, SECOND } from "../../support/machines";
import { getFile, putFile, runScript, startSimulator, stopSimulators } from "../../support/simulatorFixture";

afterEach(stopSimulators);

type Wire = {
  status: string;
  lastUpdateDateTimeUtc: string;
  commands: Array<{ commandStatus: string; startTime: string | null; endTime: string | null; errors: string[] }>;
};

async function submit(call: Awaited<ReturnType<typeof startSimulator>>["call"], machineId: string, commands: unknown[]): Promise<string> {
  const res = await call("POST", `/api/machines/${machineId}/runliveresponse`, { Commands: commands, Comment: "lifecycle" });
  expect(res.status).toBe(201);
  expect(res.json.status).toBe("Pending");
  return res.json.id as string;
}

describe("GET /api/machineactions/{id}: the lifecycle on a virtual clock", () => {
  it("runs an online device's commands one after the other: Pending → InProgress → Succeeded", async () => {
    const m = machine({ commandDurationMs: 30 * SECOND });
    const { call, clock } = await startSimulator({ machines: [m] });
    const id = await submit(call, m.machineId, [runScript(), getFile("C:\\a.txt")]);
    const get = async () => (await call("GET", `/api/machineactions/${id}`)).json as Wire;

    let a = await get();
    expect(a.status).toBe("InProgress");
    expect(a.commands.map((c) => c.commandStatus)).toEqual(["InProgress", "Created"]);
    expect(a.commands[0]!.startTime).toBe("2026-03-02T09:00:00.0000000Z");

    clock.advanceBy(45 * SECOND);
    a = await get();
    expect(a.status).toBe("InProgress");
    expect(a.commands.map((c) => c.commandStatus)).toEqual(["Completed", "InProgress"]);
    expect(a.commands[0]!.endTime).toBe("2026-03-02T09:00:30.0000000Z");
    expect(a.commands[1]!.startTime).toBe("2026-03-02T09:00:30.0000000Z");
    expect(a.lastUpdateDateTimeUtc).toBe("2026-03-02T09:00:30.0000000Z");

    clock.advanceBy(15 * SECOND);
    a = await get();
    expect(a.status).toBe("Succeeded");
    expect(a.commands.map((c) => c.commandStatus)).toEqual(["Completed", "Completed"]);
    expect(a.commands[1]!.endTime).toBe("2026-03-02T09:01:00.0000000Z");
    expect(a.lastUpdateDateTimeUtc).toBe("2026-03-02T09:01:00.0000000Z");
  });

  it("keeps the action Pending while the device is offline and runs it when it comes online 2 days later", async () => {
    const m = machine({ onlineAfterMs: 2 * DAY, commandDurationMs: MINUTE });
    const { call, clock } = await startSimulator({ machines: [m] });
    const id = await submit(call, m.machineId, [getFile("C:\\a.txt")]);
    clock.advanceBy(2 * DAY - SECOND);
    expect((await call("GET", `/api/machineactions/${id}`)).json.status).toBe("Pending");
    clock.advanceBy(SECOND);
    expect((await call("GET", `/api/machineactions/${id}`)).json.status).toBe("InProgress");
    clock.advanceBy(MINUTE);
    const a = (await call("GET", `/api/machineactions/${id}`)).json as Wire;
    expect(a.status).toBe("Succeeded");
    expect(a.commands[0]!.startTime).toBe("2026-03-04T09:00:00.0000000Z");
  });

  it("ends TimeOut when the device never comes online within the queue window (3 days, a run-live-response limitation)", async () => {
    const m = machine({ onlineAfterMs: null });
    const { call, clock } = await startSimulator({ machines: [m] });
    const id = await submit(call, m.machineId, [runScript()]);
    clock.advanceBy(3 * DAY - SECOND);
    expect((await call("GET", `/api/machineactions/${id}`)).json.status).toBe("Pending");
    clock.advanceBy(SECOND);
    const a = (await call("GET", `/api/machineactions/${id}`)).json as Wire;
    expect(a.status).toBe("TimeOut");
    expect(a.lastUpdateDateTimeUtc).toBe("2026-03-05T09:00:00.0000000Z");
    expect(a.commands[0]!.commandStatus).toBe("Created");
  });

  it("honours a shorter queue window (the current Microsoft page says 2 hours)", async () => {
    const m = machine({ onlineAfterMs: 3 * HOUR });
    const { call, clock } = await startSimulator({ machines: [m], queueWindowInMs: 2 * HOUR });
    const id = await submit(call, m.machineId, [runScript()]);
    clock.advanceBy(2 * HOUR);
    expect((await call("GET", `/api/machineactions/${id}`)).json.status).toBe("TimeOut");
  });

  it("stops at a failing command: it ends Failed with the error, the rest stay Created, the action ends Failed", async () => {
    const m = machine({ failCommandIndex: 1, failError: "File not found", commandDurationMs: 10 * SECOND });
    const { call, clock } = await startSimulator({ machines: [m] });
    const id = await submit(call, m.machineId, [putFile(), runScript(), getFile("C:\\a")]);
    clock.advanceBy(20 * SECOND);
    const a = (await call("GET", `/api/machineactions/${id}`)).json as Wire;
    expect(a.status).toBe("Failed");
    expect(a.commands.map((c) => c.commandStatus)).toEqual(["Completed", "Failed", "Created"]);
    expect(a.commands[1]!.errors).toEqual(["File not found"]);
    expect(a.commands[2]!.startTime).toBeNull();
  });

  it("fails a RunScript that runs longer than 10 minutes (a run-live-response limitation)", async () => {
    const m = machine({ commandDurationMs: { RunScript: 11 * MINUTE } });
    const { call, clock } = await startSimulator({ machines: [m] });
    const id = await submit(call, m.machineId, [runScript(), getFile("C:\\a")]);
    clock.advanceBy(10 * MINUTE - SECOND);
    expect((await call("GET", `/api/machineactions/${id}`)).json.status).toBe("InProgress");
    clock.advanceBy(SECOND);
    const a = (await call("GET", `/api/machineactions/${id}`)).json as Wire;
    expect(a.status).toBe("Failed");
    expect(a.commands[0]!.commandStatus).toBe("Failed");
    expect(a.commands[0]!.errors[0]).toMatch(/timed out after 10 minutes/);
    expect(a.commands[1]!.commandStatus).toBe("Created");
  });

  it("answers 404 ResourceNotFound for an unknown action id", async () => {
    const { call } = await startSimulator({ machines: [machine()] });
    const res = await call("GET", "/api/machineactions/7c4b2b1e-0000-4000-8000-000000000000");
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe("ResourceNotFound");
  });
});

describe("POST /api/machineactions/{id}/cancel", () => {
  it("cancels a running action; completed commands stay Completed and the entity records who and why", async () => {
    const m = machine({ commandDurationMs: 30 * SECOND });
    const { call, clock } = await startSimulator({ machines: [m], requestor: "collector-app" });
    const id = await submit(call, m.machineId, [runScript(), getFile("C:\\a")]);
    clock.advanceBy(40 * SECOND);
    const res = await call("POST", `/api/machineactions/${id}/cancel`, { Comment: "analyst stopped it" });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      "@odata.context": expect.stringMatching(/\$metadata#MachineActions\/\$entity$/),
      status: "Cancelled",
      cancellationRequestor: "collector-app",
      cancellationComment: "analyst stopped it",
      cancellationDateTimeUtc: "2026-03-02T09:00:40.0000000Z",
    });
    expect(res.json.commands[0].commandStatus).toBe("Completed");
    // Frozen: time passing changes nothing, and the action is final.
    clock.advanceBy(HOUR);
    const later = (await call("GET", `/api/machineactions/${id}`)).json as Wire;
    expect(later.status).toBe("Cancelled");
    expect(later.commands[0]!.commandStatus).toBe("Completed");
    expect(later.commands[1]!.commandStatus).not.toBe("Completed");
    // The completed command's result remains downloadable.
    expect((await call("GET", `/api/machineactions/${id}/GetLiveResponseResultDownloadLink(index=0)`)).status).toBe(200);
  });

  it("cancels a Pending action and frees the device", async () => {
    const m = machine({ onlineAfterMs: null });
    const { call } = await startSimulator({ machines: [m] });
    const id = await submit(call, m.machineId, [runScript()]);
    expect((await call("POST", `/api/machineactions/${id}/cancel`, { Comment: "never mind" })).json.status).toBe("Cancelled");
    expect((await call("POST", `/api/machines/${m.machineId}/runliveresponse`, { Commands: [runScript()] })).status).toBe(201);
  });

  it("answers 400 without a Comment and 400 for a final action", async () => {
    const m = machine({ commandDurationMs: SECOND });
    const { call, clock } = await startSimulator({ machines: [m] });
    const id = await submit(call, m.machineId, [runScript()]);
    const missing = await call("POST", `/api/machineactions/${id}/cancel`, {});
    expect(missing.status).toBe(400);
    expect(missing.json.error.code).toBe("MissingRequiredParameter");
    const wrongCase = await call("POST", `/api/machineactions/${id}/cancel`, { comment: "lower case" });
    expect(wrongCase.status).toBe(400);
    clock.advanceBy(SECOND);
    const final = await call("POST", `/api/machineactions/${id}/cancel`, { Comment: "too late" });
    expect(final.status).toBe(400);
    expect(final.json.error.code).toBe("BadRequest");
    expect((await call("POST", `/api/machineactions/${"1".repeat(8)}-0000-4000-8000-000000000000/cancel`, { Comment: "x" })).status).toBe(
      404,
    );
  });
});
