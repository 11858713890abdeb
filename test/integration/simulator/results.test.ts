import { createCipheriv, createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { getFileContent } from "../../../simulator";
import { machine, MINUTE, SECOND } from "../../support/machines";
import { getFile, putFile, runScript, type StartedSimulator, startSimulator, stopSimulators } from "../../support/simulatorFixture";

afterEach(stopSimulators);

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function completedAction(s: StartedSimulator, machineId: string, commands: unknown[]): Promise<string> {
  const res = await s.call("POST", `/api/machines/${machineId}/runliveresponse`, { Commands: commands });
  expect(res.status).toBe(201);
  s.clock.advanceBy(commands.length * 30 * SECOND);
  expect((await s.call("GET", `/api/machineactions/${res.json.id}`)).json.status).toBe("Succeeded");
  return res.json.id as string;
}

async function link(s: StartedSimulator, actionId: string, index: number) {
  return s.call("GET", `/api/machineactions/${actionId}/GetLiveResponseResultDownloadLink(index=${index})`);
}

describe("GET /api/machineactions/{id}/GetLiveResponseResultDownloadLink(index=N)", () => {
  it("serves the RunScript transcript with exactly the documented keys (get-live-response-result) through a read-only blob SAS", async () => {
    const m = machine({ runScript: { exitCode: 3, output: "line 1\nline 2", errors: "warning" } });
    const s = await startSimulator({ machines: [m] });
    const id = await completedAction(s, m.machineId, [runScript("minidump.ps1", "OfficeClickToRun")]);

    const res = await link(s, id, 0);
    expect(res.status).toBe(200);
    expect(res.json["@odata.context"]).toBe(`${s.baseUrl}/api/$metadata#Edm.String`);
    const url = new URL(res.json.value);
    expect(url.pathname).toMatch(new RegExp(`^/mdesource/mde-[0-9a-f]{8}/${id}/CustomPlaybookCommandOutput/[0-9a-f]{32}$`));
    expect(url.searchParams.get("sp")).toBe("r");
    expect(url.searchParams.get("sr")).toBe("b");
    const expiry = Date.parse(url.searchParams.get("se")!);
    // 30 minutes on the wall clock (Azurite checks it), not on the virtual clock.
    expect(Math.abs(expiry - (Date.now() + 30 * MINUTE))).toBeLessThan(MINUTE);

    const download = await fetch(res.json.value);
    expect(download.status).toBe(200);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(JSON.parse(bytes.toString("utf8"))).toEqual({
      script_name: "minidump.ps1",
      exit_code: 3,
      script_output: "line 1\nline 2",
      script_errors: "warning",
    });
    const expected = await s.sim.expectedResult(id, 0);
    expect(expected).toEqual({ sha256: sha256(bytes), size: bytes.length });
  });

  it("serves GetFile results gzip-compressed; they gunzip to deterministic content derived from (machineId, path, size)", async () => {
    const m = machine({ getFileSizeBytes: 200_000 });
    const s = await startSimulator({ machines: [m] });
    const path = "C:\\windows\\TEMP\\OfficeClickToRun.dmp.zip";
    const id = await completedAction(s, m.machineId, [getFile(path)]);

    const res = await link(s, id, 0);
    const bytes = Buffer.from(await (await fetch(res.json.value)).arrayBuffer());
    expect([...bytes.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    const content = gunzipSync(bytes);
    // Recomputed here independently of the simulator: the AES-256-CTR keystream under the documented key.
    const key = createHash("sha256").update(`mde-simulator/getfile\n${m.machineId}\n${path}\n200000`).digest();
    const recomputed = createCipheriv("aes-256-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(200_000));
    expect(content.equals(recomputed)).toBe(true);
    expect(content.equals(getFileContent(m.machineId, path, 200_000))).toBe(true);
    expect(await s.sim.expectedResult(id, 0)).toEqual({
      sha256: sha256(bytes),
      size: bytes.length,
      contentSha256: sha256(content),
      contentSize: 200_000,
    });
    // The admin endpoint reports the same figures.
    const admin = await fetch(`${s.baseUrl}/simulator/actions/${id}/results/0`);
    expect(await admin.json()).toEqual(await s.sim.expectedResult(id, 0));
  });

  it("uploads each result once: a second link points at the same blob", async () => {
    const m = machine();
    const s = await startSimulator({ machines: [m] });
    const id = await completedAction(s, m.machineId, [getFile("C:\\a")]);
    const [a, b] = await Promise.all([link(s, id, 0), link(s, id, 0)]);
    expect(new URL(a.json.value).pathname).toBe(new URL(b.json.value).pathname);
  });

  it("fault expiredLinks: the first link is already expired (403 from Azurite), the next one works", async () => {
    const m = machine({ expiredLinks: 1 });
    const s = await startSimulator({ machines: [m] });
    const id = await completedAction(s, m.machineId, [runScript()]);
    const first = await link(s, id, 0);
    expect(first.status).toBe(200);
    expect(Date.parse(new URL(first.json.value).searchParams.get("se")!)).toBeLessThan(Date.now());
    const expired = await fetch(first.json.value);
    expect(expired.status).toBe(403);
    await expired.arrayBuffer();
    const second = await link(s, id, 0);
    const ok = await fetch(second.json.value);
    expect(ok.status).toBe(200);
    expect(sha256(Buffer.from(await ok.arrayBuffer()))).toBe((await s.sim.expectedResult(id, 0)).sha256);
  });

  it("answers 400 for a command that has not completed, 400 for PutFile, 404 for an index out of range, 400 for a bad index", async () => {
    const m = machine({ commandDurationMs: 30 * SECOND });
    const s = await startSimulator({ machines: [m] });
    const res = await s.call("POST", `/api/machines/${m.machineId}/runliveresponse`, { Commands: [putFile(), runScript()] });
    const id = res.json.id as string;
    s.clock.advanceBy(45 * SECOND); // PutFile done, RunScript InProgress
    const running = await link(s, id, 1);
    expect(running.status).toBe(400);
    expect(running.json.error.code).toBe("BadRequest");
    expect(running.json.error.message).toMatch(/InProgress/);
    expect((await link(s, id, 0)).json.error).toMatchObject({ code: "BadRequest", message: expect.stringMatching(/PutFile/) });
    expect((await link(s, id, 2)).status).toBe(404);
    expect((await s.call("GET", `/api/machineactions/${id}/GetLiveResponseResultDownloadLink(index=x)`)).status).toBe(400);
    expect((await s.call("GET", `/api/machineactions/${id.replace(/^./, "0")}0/GetLiveResponseResultDownloadLink(index=0)`)).status).toBe(
      404,
    );
  });

  it("accepts a percent-encoded path segment", async () => {
    const m = machine();
    const s = await startSimulator({ machines: [m] });
    const id = await completedAction(s, m.machineId, [runScript()]);
    expect((await s.call("GET", `/api/machineactions/${id}/GetLiveResponseResultDownloadLink%28index%3D0%29`)).status).toBe(200);
  });

  it("limits links to 100 per minute and 1,500 per hour (get-live-response-result limitations), with Retry-After", async () => {
    const m = machine();
    const s = await startSimulator({ machines: [m], limits: { downloadLinkPerMinute: 3, downloadLinkPerHour: 5 } });
    const id = await completedAction(s, m.machineId, [runScript()]);
    for (let i = 0; i < 3; i++) expect((await link(s, id, 0)).status).toBe(200);
    const perMinute = await link(s, id, 0);
    expect(perMinute.status).toBe(429);
    expect(perMinute.headers.get("retry-after")).toBe("60");
    s.clock.advanceBy(MINUTE);
    for (let i = 0; i < 2; i++) expect((await link(s, id, 0)).status).toBe(200);
    const perHour = await link(s, id, 0);
    expect(perHour.status).toBe(429);
    expect(perHour.headers.get("retry-after")).toBe(String(59 * 60));
    expect(s.sim.stats()).toMatchObject({ throttled: { getDownloadLink: 2 }, calls: { getDownloadLink: 7 } });
  });
});
