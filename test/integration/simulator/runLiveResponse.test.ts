import { machine, MINUTE, SECOND } from "../../support/machines";
import { getFile, putFile, runScript, startSimulator, stopSimulators } from "../../support/simulatorFixture";

afterEach(stopSimulators);

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MDE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/;

describe("POST /api/machines/{id}/runliveresponse", () => {
  it("answers 401 with the MDE error envelope without a bearer token", async () => {
    const m = machine();
    const { baseUrl } = await startSimulator({ machines: [m] });
    const res = await fetch(`${baseUrl}/api/machines/${m.machineId}/runliveresponse`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ Commands: [runScript()] }),
    });
    expect(res.status).toBe(401);
    const body = await res.json();
    expect(body).toEqual({ error: { code: "Unauthorized", message: expect.any(String), target: expect.stringMatching(GUID) } });
  });

  it("rejects a token other than acceptedToken", async () => {
    const m = machine();
    const { call } = await startSimulator({ machines: [m], acceptedToken: "the-one" });
    expect((await call("GET", "/api/machineactions", undefined, { Authorization: "Bearer other" })).status).toBe(401);
    expect((await call("GET", "/api/machineactions", undefined, { Authorization: "Bearer the-one" })).status).toBe(200);
  });

  it("answers 201 with the MachineAction entity of run-live-response's example", async () => {
    const m = machine({ computerDnsName: "hostname" });
    const { call, baseUrl, clock } = await startSimulator({ machines: [m], requestor: "analyst@microsoft.com" });
    // The request body of https://learn.microsoft.com/defender-endpoint/api/run-live-response's example, verbatim.
    const res = await call("POST", `/API/machines/${m.machineId}/runliveresponse`, {
      Commands: [runScript("minidump.ps1", "OfficeClickToRun"), getFile("C:\\windows\\TEMP\\OfficeClickToRun.dmp.zip")],
      Comment: "Testing Live Response API",
    });
    expect(res.status).toBe(201);
    const created = "2026-03-02T09:00:00.0000000Z";
    expect(clock.now().toISOString()).toBe("2026-03-02T09:00:00.000Z");
    expect(res.json).toEqual({
      "@odata.context": `${baseUrl}/api/$metadata#MachineActions/$entity`,
      id: expect.stringMatching(GUID),
      type: "LiveResponse",
      requestSource: "PublicApi",
      requestor: "analyst@microsoft.com",
      requestorComment: "Testing Live Response API",
      status: "Pending",
      machineId: m.machineId,
      computerDnsName: "hostname",
      creationDateTimeUtc: created,
      lastUpdateDateTimeUtc: created,
      cancellationRequestor: null,
      cancellationComment: null,
      cancellationDateTimeUtc: null,
      errorHResult: 0,
      relatedFileInfo: null,
      commands: [
        {
          index: 0,
          startTime: null,
          endTime: null,
          commandStatus: "Created",
          errors: [],
          command: {
            type: "RunScript",
            params: [
              { key: "ScriptName", value: "minidump.ps1" },
              { key: "Args", value: "OfficeClickToRun" },
            ],
          },
        },
        {
          index: 1,
          startTime: null,
          endTime: null,
          commandStatus: "Created",
          errors: [],
          command: { type: "GetFile", params: [{ key: "Path", value: "C:\\windows\\TEMP\\OfficeClickToRun.dmp.zip" }] },
        },
      ],
    });
    expect(res.json.creationDateTimeUtc).toMatch(MDE_TIME);
  });

  it.each([
    ["wrong-case Commands", { commands: [runScript()] }, "InvalidRequestBody"],
    ["wrong-case type", { Commands: [{ Type: "RunScript", params: [{ key: "ScriptName", value: "a.ps1" }] }] }, "InvalidRequestBody"],
    ["no Commands", { Comment: "x" }, "MissingRequiredParameter"],
    ["empty Commands", { Commands: [] }, "InvalidRequestBody"],
    ["unknown command type", { Commands: [{ type: "Collect", params: [] }] }, "InvalidRequestBody"],
    ["GetFile without Path", { Commands: [{ type: "GetFile", params: [] }] }, "MissingRequiredParameter"],
    [
      "GetFile with lower-case path key",
      { Commands: [{ type: "GetFile", params: [{ key: "path", value: "C:\\a" }] }] },
      "MissingRequiredParameter",
    ],
    [
      "RunScript without ScriptName",
      { Commands: [{ type: "RunScript", params: [{ key: "Args", value: "-x" }] }] },
      "MissingRequiredParameter",
    ],
    ["PutFile without FileName", { Commands: [{ type: "PutFile", params: [] }] }, "MissingRequiredParameter"],
    ["GetFile before RunScript", { Commands: [getFile("C:\\a"), runScript()] }, "InvalidRequestBody"],
    ["RunScript before PutFile", { Commands: [runScript(), putFile()] }, "InvalidRequestBody"],
    ["a script name outside the library's alphabet", { Commands: [runScript("..\\evil.ps1")] }, "InvalidRequestBody"],
    ["not JSON", "{not json", "InvalidRequestBody"],
  ])("answers 400 for %s", async (_name, body, code) => {
    const m = machine();
    const { call } = await startSimulator({ machines: [m] });
    const res = await call("POST", `/api/machines/${m.machineId}/runliveresponse`, body);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe(code);
    expect(res.json.error.target).toMatch(GUID);
  });

  it("accepts PutFile, RunScript, GetFile in that order, several of each", async () => {
    const m = machine();
    const { call } = await startSimulator({ machines: [m] });
    const res = await call("POST", `/api/machines/${m.machineId}/runliveresponse`, {
      Commands: [putFile("a.ps1"), putFile("b.exe"), runScript("a.ps1"), runScript("b.ps1"), getFile("C:\\x"), getFile("C:\\y")],
    });
    expect(res.status).toBe(201);
    expect(res.json.requestorComment).toBeNull();
    expect(res.json.commands.map((c: { index: number }) => c.index)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("answers 404 ResourceNotFound for an unknown machine", async () => {
    const { call } = await startSimulator({ machines: [machine()] });
    const res = await call("POST", `/api/machines/${"0".repeat(40)}/runliveresponse`, { Commands: [runScript()] });
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe("ResourceNotFound");
  });

  it("answers 400 ActiveRequestAlreadyExists while the device has a Pending or InProgress action, and accepts once it is final", async () => {
    const m = machine({ commandDurationMs: 30 * SECOND });
    const { call, clock } = await startSimulator({ machines: [m] });
    const path = `/api/machines/${m.machineId}/runliveresponse`;
    expect((await call("POST", path, { Commands: [runScript()] })).status).toBe(201);
    const busy = await call("POST", path, { Commands: [runScript()] });
    expect(busy.status).toBe(400);
    expect(busy.json.error.code).toBe("ActiveRequestAlreadyExists");
    clock.advanceBy(15 * SECOND); // InProgress
    expect((await call("POST", path, { Commands: [runScript()] })).json.error.code).toBe("ActiveRequestAlreadyExists");
    clock.advanceBy(15 * SECOND); // Succeeded
    expect((await call("POST", path, { Commands: [runScript()] })).status).toBe(201);
  });

  it("answers 429 with Retry-After on the 11th call within a minute (a run-live-response limitation) and recovers after the window", async () => {
    const machines = Array.from({ length: 12 }, () => machine());
    const { call, clock, sim } = await startSimulator({ machines });
    for (let i = 0; i < 10; i++) {
      expect((await call("POST", `/api/machines/${machines[i]!.machineId}/runliveresponse`, { Commands: [runScript()] })).status).toBe(201);
      clock.advanceBy(5 * SECOND);
    }
    // 50 s after the first call: the first call leaves the window in 10 s.
    const throttled = await call("POST", `/api/machines/${machines[10]!.machineId}/runliveresponse`, { Commands: [runScript()] });
    expect(throttled.status).toBe(429);
    expect(throttled.json.error.code).toBe("TooManyRequests");
    expect(throttled.headers.get("retry-after")).toBe("10");
    clock.advanceBy(9 * SECOND);
    expect((await call("POST", `/api/machines/${machines[10]!.machineId}/runliveresponse`, { Commands: [runScript()] })).status).toBe(429);
    clock.advanceBy(1 * SECOND);
    expect((await call("POST", `/api/machines/${machines[10]!.machineId}/runliveresponse`, { Commands: [runScript()] })).status).toBe(201);
    expect(sim.stats()).toMatchObject({ tooManyRequests: 2, calls: { runLiveResponse: 13 }, throttled: { runLiveResponse: 2 } });
  });

  it("answers 429 beyond 25 concurrent sessions tenant-wide (a run-live-response limitation), queued sessions included", async () => {
    const machines = Array.from({ length: 26 }, () => machine({ onlineAfterMs: null }));
    const { call, clock } = await startSimulator({ machines, queueWindowInMs: 3 * 24 * 60 * MINUTE });
    for (let i = 0; i < 25; i++) {
      expect((await call("POST", `/api/machines/${machines[i]!.machineId}/runliveresponse`, { Commands: [runScript()] })).status).toBe(201);
      clock.advanceBy(6 * SECOND + 1); // stay under 10 calls per minute
    }
    const res = await call("POST", `/api/machines/${machines[25]!.machineId}/runliveresponse`, { Commands: [runScript()] });
    expect(res.status).toBe(429);
    expect(res.json.error.code).toBe("TooManyRequests");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    // Cancelling one session frees a slot (a minute later: every call above counted against 10/min).
    clock.advanceBy(MINUTE);
    const first = (await call("GET", `/api/machineactions?$filter=machineId eq '${machines[0]!.machineId}'`)).json.value[0];
    expect((await call("POST", `/api/machineactions/${first.id}/cancel`, { Comment: "free a slot" })).status).toBe(200);
    expect((await call("POST", `/api/machines/${machines[25]!.machineId}/runliveresponse`, { Commands: [runScript()] })).status).toBe(201);
  });

  it("honours a limits override", async () => {
    const machines = [machine(), machine()];
    const { call } = await startSimulator({ machines, limits: { concurrentSessions: 1 } });
    expect((await call("POST", `/api/machines/${machines[0]!.machineId}/runliveresponse`, { Commands: [runScript()] })).status).toBe(201);
    expect((await call("POST", `/api/machines/${machines[1]!.machineId}/runliveresponse`, { Commands: [runScript()] })).status).toBe(429);
  });
});
