import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { gunzipSync } from "node:zlib";
import { createMdeSimulator, getFileContent, type MdeSimulatorOptions } from "../../../simulator";
import { testAzurite } from "../../support/azurite";
import { machine, SECOND } from "../../support/machines";
import { getFile, runScript, type StartedSimulator, startSimulator, stopSimulators } from "../../support/simulatorFixture";

afterEach(stopSimulators);

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
/** Generous read limits, so only injected faults answer 429. */
const NO_LIMITS: MdeSimulatorOptions["limits"] = {
  readPerMinute: 1e6,
  readPerHour: 1e6,
  runLiveResponsePerMinute: 1e6,
  downloadLinkPerMinute: 1e6,
  downloadLinkPerHour: 1e6,
};

/** The status of a call, or "dropped" when the connection was destroyed without an answer. */
async function outcome(s: StartedSimulator, method: string, path: string, body?: unknown): Promise<number | "dropped"> {
  try {
    return (await s.call(method, path, body)).status;
  } catch (e) {
    expect((e as Error).message).toMatch(/fetch failed/);
    return "dropped";
  }
}

async function outcomes(
  options: Partial<MdeSimulatorOptions>,
  n: number,
): Promise<{ seen: Array<number | "dropped">; s: StartedSimulator }> {
  const s = await startSimulator({ limits: NO_LIMITS, ...options });
  const seen: Array<number | "dropped"> = [];
  for (let i = 0; i < n; i++) seen.push(await outcome(s, "GET", "/api/machineactions"));
  return { seen, s };
}

const count = (xs: unknown[], x: unknown) => xs.filter((y) => y === x).length;

async function completedAction(s: StartedSimulator, machineId: string, commands: unknown[]): Promise<string> {
  const res = await s.call("POST", `/api/machines/${machineId}/runliveresponse`, { Commands: commands });
  expect(res.status).toBe(201);
  s.clock.advanceBy(commands.length * 30 * SECOND);
  return res.json.id as string;
}

async function linkOf(s: StartedSimulator, actionId: string, index = 0): Promise<string> {
  const res = await s.call("GET", `/api/machineactions/${actionId}/GetLiveResponseResultDownloadLink(index=${index})`);
  expect(res.status).toBe(200);
  return res.json.value as string;
}

/** Reads a body until it ends or breaks; returns the bytes received and whether it broke. */
async function readAll(res: Response): Promise<{ bytes: Buffer; broke: boolean }> {
  const chunks: Buffer[] = [];
  const reader = res.body!.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes: Buffer.concat(chunks), broke: false };
      chunks.push(Buffer.from(value));
    }
  } catch {
    return { bytes: Buffer.concat(chunks), broke: true };
  }
}

describe("request faults (simulator option faults)", () => {
  it("injects 429s, 500s and drops at roughly the configured rates, exactly reproducible under the same seed", async () => {
    const faults = { throttleRate: 0.2, serverErrorRate: 0.1, dropRate: 0.1, seed: 42, retryAfterSeconds: 3 };
    const n = 300;
    const first = await outcomes({ faults }, n);
    const again = await outcomes({ faults }, n);
    const other = await outcomes({ faults: { ...faults, seed: 43 } }, n);
    expect(again.seen).toEqual(first.seen);
    expect(other.seen).not.toEqual(first.seen);
    const [throttled, errors, dropped, ok] = [429, 500, "dropped", 200].map((x) => count(first.seen, x));
    expect(throttled! + errors! + dropped! + ok!).toBe(n);
    // Binomial(300, p): these bounds are more than 3 standard deviations wide.
    expect(throttled).toBeGreaterThan(40);
    expect(throttled).toBeLessThan(80);
    expect(errors).toBeGreaterThan(13);
    expect(errors).toBeLessThan(47);
    expect(dropped).toBeGreaterThan(13);
    expect(dropped).toBeLessThan(47);
    const stats = first.s.sim.stats();
    // Every call reached the simulator once (no client-side retry of a dropped connection).
    expect(stats.calls.listMachineActions).toBe(n);
    expect(stats.faultsInjected).toMatchObject({
      tooManyRequests: { listMachineActions: throttled },
      serverError: { listMachineActions: errors },
      drop: { listMachineActions: dropped },
    });
    expect(stats.tooManyRequests).toBe(throttled);
    expect(stats.byStatus).toEqual({ "200": ok, "429": throttled, "500": errors });
  });

  it("answers injected faults with the MDE error envelope, 429 with Retry-After", async () => {
    const s429 = await startSimulator({ faults: { throttleRate: 1, retryAfterSeconds: 7 } });
    const throttled = await s429.call("GET", "/api/machineactions");
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBe("7");
    expect(throttled.json).toEqual({ error: { code: "TooManyRequests", message: expect.any(String), target: expect.any(String) } });
    const s500 = await startSimulator({ faults: { serverErrorRate: 1 } });
    const failed = await s500.call("GET", "/api/machineactions");
    expect(failed.status).toBe(500);
    expect(failed.json.error.code).toBe("InternalServerError");
    expect(failed.headers.get("retry-after")).toBeNull();
    // Authentication comes first: a 401 is never replaced by an injected fault.
    expect((await fetch(`${s500.baseUrl}/api/machineactions`)).status).toBe(401);
  });

  it("restricts faults to the listed endpoints", async () => {
    const m = machine();
    const s = await startSimulator({ machines: [m], faults: { throttleRate: 1, endpoints: ["getMachineAction"] } });
    const created = await s.call("POST", `/api/machines/${m.machineId}/runliveresponse`, { Commands: [runScript()] });
    expect(created.status).toBe(201);
    expect((await s.call("GET", "/api/machineactions")).status).toBe(200);
    expect((await s.call("GET", `/api/machineactions/${created.json.id}`)).status).toBe(429);
    expect(s.sim.stats().faultsInjected.tooManyRequests).toEqual({ getMachineAction: 1 });
  });

  it("fails a runliveresponse AFTER creating the action: the POST fails (500 or dropped) but the action exists", async () => {
    const a = machine();
    const s = await startSimulator({
      machines: [a],
      faults: { serverErrorRate: 1, failAfterCommitRate: 1, endpoints: ["runLiveResponse"] },
    });
    const post = await s.call("POST", `/api/machines/${a.machineId}/runliveresponse`, {
      Commands: [runScript()],
      Comment: "case-1 correlation",
    });
    expect(post.status).toBe(500);
    expect(post.json.error.code).toBe("InternalServerError");
    const listed = await s.call("GET", `/api/machineactions?$filter=machineId eq '${a.machineId}'`);
    expect(listed.json.value).toEqual([expect.objectContaining({ requestorComment: "case-1 correlation", status: "InProgress" })]);
    // A blind retry is handled (MDE refuses it: the first one is running) and fails again: still one action.
    const retry = await s.call("POST", `/api/machines/${a.machineId}/runliveresponse`, { Commands: [runScript()] });
    expect(retry.status).toBe(500);
    expect(s.sim.actions().filter((x) => x.machineId === a.machineId)).toHaveLength(1);

    // The same with a dropped connection (a machine's faults override the simulator's).
    s.sim.addMachine({ ...machine(), machineId: "d".repeat(40), faults: { serverErrorRate: 0, dropRate: 1 } });
    expect(await outcome(s, "POST", `/api/machines/${"d".repeat(40)}/runliveresponse`, { Commands: [runScript()] })).toBe("dropped");
    expect(s.sim.actions().filter((x) => x.machineId === "d".repeat(40))).toHaveLength(1);
    expect(s.sim.stats().faultsInjected).toMatchObject({
      serverErrorAfterCommit: { runLiveResponse: 2 },
      dropAfterCommit: { runLiveResponse: 1 },
    });
  });

  it("by default makes about half of the injected POST faults happen after creation", async () => {
    const machines = Array.from({ length: 20 }, () => machine());
    const s = await startSimulator({ machines, limits: NO_LIMITS, faults: { dropRate: 0.5, serverErrorRate: 0.5, seed: 7 } });
    for (const m of machines)
      expect(["dropped", 500]).toContain(
        await outcome(s, "POST", `/api/machines/${m.machineId}/runliveresponse`, { Commands: [runScript()] }),
      );
    const f = s.sim.stats().faultsInjected;
    const after = (f.serverErrorAfterCommit.runLiveResponse ?? 0) + (f.dropAfterCommit.runLiveResponse ?? 0);
    const before = (f.serverError.runLiveResponse ?? 0) + (f.drop.runLiveResponse ?? 0);
    expect(after + before).toBe(20);
    expect(after).toBeGreaterThan(3);
    expect(before).toBeGreaterThan(3);
    // Exactly the after-commit calls left an action behind.
    expect(s.sim.actions()).toHaveLength(after);
  });

  it("uses a machine's own faults and stream for calls about that machine (its actions included)", async () => {
    const quiet = machine();
    const noisy = machine({ faults: { throttleRate: 1, endpoints: ["getMachineAction"] } });
    const s = await startSimulator({ machines: [quiet, noisy] });
    const q = await s.call("POST", `/api/machines/${quiet.machineId}/runliveresponse`, { Commands: [runScript()] });
    const n = await s.call("POST", `/api/machines/${noisy.machineId}/runliveresponse`, { Commands: [runScript()] });
    expect((await s.call("GET", `/api/machineactions/${q.json.id}`)).status).toBe(200);
    expect((await s.call("GET", `/api/machineactions/${n.json.id}`)).status).toBe(429);
    expect(s.sim.machines()[1]!.faults).toEqual({ throttleRate: 1, endpoints: ["getMachineAction"] });
  });

  it("adds latency (fixed or a range) in real time without changing which calls fail", async () => {
    const fixed = await startSimulator({ faults: { latencyMs: 150 } });
    let t = Date.now();
    expect((await fixed.call("GET", "/api/machineactions")).status).toBe(200);
    expect(Date.now() - t).toBeGreaterThanOrEqual(145);
    const ranged = await startSimulator({ faults: { latencyMs: { min: 40, max: 80 } } });
    for (let i = 0; i < 3; i++) {
      t = Date.now();
      await ranged.call("GET", "/api/machineactions");
      expect(Date.now() - t).toBeGreaterThanOrEqual(35);
    }
    const faults = { throttleRate: 0.3, dropRate: 0.2, seed: 5 };
    const plain = await outcomes({ faults }, 30);
    const slow = await outcomes({ faults: { ...faults, latencyMs: { min: 0, max: 3 } } }, 30);
    expect(slow.seen).toEqual(plain.seen);
  });

  it("rejects invalid fault options and scenario fields, naming each", () => {
    const resultStore = { connectionString: testAzurite.sourceConnectionString };
    expect(() => createMdeSimulator({ resultStore, faults: { throttleRate: 0.7, dropRate: 0.7 } })).toThrow(/at most 1/);
    expect(() => createMdeSimulator({ resultStore, faults: { serverErrorRate: 2, endpoints: ["nope" as never] } })).toThrow(
      /serverErrorRate.*endpoints/,
    );
    const sim = createMdeSimulator({ resultStore });
    expect(() =>
      sim.addMachine({
        ...machine(),
        linkTtlInMs: 0,
        breakDownloadsAfterBytes: -1,
        getFileCompress: "no" as never,
        faults: { latencyMs: { min: 5, max: 1 } },
      }),
    ).toThrow(/breakDownloadsAfterBytes.*faults\.latencyMs|faults\.latencyMs.*breakDownloadsAfterBytes/);
  });
});

describe("download faults", () => {
  it("gives a machine its own link TTL (Azurite SAS: 403 after expiry)", async () => {
    const m = machine({ linkTtlInMs: 1000 });
    const s = await startSimulator({ machines: [m] });
    const id = await completedAction(s, m.machineId, [runScript()]);
    const link = await linkOf(s, id);
    const expiry = Date.parse(new URL(link).searchParams.get("se")!);
    expect(expiry - Date.now()).toBeLessThanOrEqual(2000);
    expect(expiry - Date.now()).toBeGreaterThan(0);
    const now = await fetch(link);
    expect(now.status).toBe(200);
    await now.arrayBuffer();
    await sleep(expiry - Date.now() + 50);
    const late = await fetch(link);
    expect(late.status).toBe(403);
    await late.arrayBuffer();
  });

  it("serves proxied links shaped like a SAS: whole (200), by Range (206), and 403 AuthenticationFailed (XML) after expiry or when tampered", async () => {
    const m = machine({ proxyDownloads: true, linkTtlInMs: 1000, getFileSizeBytes: 100_000 });
    const s = await startSimulator({ machines: [m] });
    const id = await completedAction(s, m.machineId, [getFile("C:\\x.bin")]);
    const link = await linkOf(s, id);
    const url = new URL(link);
    expect(`${url.protocol}//${url.host}`).toBe(s.baseUrl);
    expect(url.pathname).toMatch(/^\/download\/[0-9a-f]{32}$/);
    expect([...url.searchParams.keys()]).toEqual(["sv", "se", "sr", "sp", "sig"]);

    const whole = await fetch(link);
    expect(whole.status).toBe(200);
    const bytes = Buffer.from(await whole.arrayBuffer());
    expect(Number(whole.headers.get("content-length"))).toBe(bytes.length);
    expect(sha256(bytes)).toBe((await s.sim.expectedResult(id, 0)).sha256);

    const ranged = await fetch(link, { headers: { Range: "bytes=100-199" } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toBe(`bytes 100-199/${bytes.length}`);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);

    const tampered = new URL(link);
    tampered.searchParams.set("se", "2099-01-01T00:00:00Z");
    const forged = await fetch(tampered);
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain("Signature did not match");

    await sleep(Date.parse(url.searchParams.get("se")!) - Date.now() + 50);
    const expired = await fetch(link, { headers: { Range: "bytes=0-9" } });
    expect(expired.status).toBe(403);
    expect(expired.headers.get("x-ms-error-code")).toBe("AuthenticationFailed");
    expect(expired.headers.get("content-type")).toBe("application/xml");
    const xml = await expired.text();
    expect(xml).toContain(
      '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request.',
    );
    expect(xml).toMatch(
      /<AuthenticationErrorDetail>Signed expiry time \[.+ GMT\] must be after signed start time \[.+ GMT\]<\/AuthenticationErrorDetail><\/Error>$/,
    );
  });

  it("cuts the first brokenDownloads downloads after N bytes; a Range resume and the next download are whole", async () => {
    const m = machine({ breakDownloadsAfterBytes: 50_000, brokenDownloads: 1, getFileSizeBytes: 200_000 });
    const s = await startSimulator({ machines: [m] });
    const id = await completedAction(s, m.machineId, [getFile("C:\\big.bin")]);
    const expected = await s.sim.expectedResult(id, 0);
    const link = await linkOf(s, id);
    expect(new URL(link).pathname).toMatch(/^\/download\//);

    const first = await fetch(link);
    expect(first.status).toBe(200);
    expect(Number(first.headers.get("content-length"))).toBe(expected.size);
    const broken = await readAll(first);
    expect(broken).toMatchObject({ broke: true });
    expect(broken.bytes.length).toBe(50_000);

    const rest = await fetch(link, { headers: { Range: "bytes=50000-" } });
    expect(rest.status).toBe(206);
    const resumed = Buffer.concat([broken.bytes, Buffer.from(await rest.arrayBuffer())]);
    expect(sha256(resumed)).toBe(expected.sha256);

    const again = await readAll(await fetch(link));
    expect(again.broke).toBe(false);
    expect(sha256(again.bytes)).toBe(expected.sha256);
    expect(s.sim.stats().faultsInjected.brokenDownload).toEqual({ download: 1 });
  });

  it("throttles a slow download, so a 1-second link expires mid-copy: the running transfer ends, a later range gets 403", async () => {
    const m = machine({ slowDownloadBytesPerSecond: 25_000, linkTtlInMs: 1000, getFileSizeBytes: 64 * 1024, getFileCompress: false });
    const s = await startSimulator({ machines: [m] });
    const id = await completedAction(s, m.machineId, [getFile("C:\\slow.bin")]);
    const link = await linkOf(s, id);
    const started = Date.now();
    const res = await fetch(link);
    expect(res.status).toBe(200);
    const { bytes, broke } = await readAll(res);
    const elapsed = Date.now() - started;
    expect(broke).toBe(false);
    // 64 KiB at 25,000 B/s: about 2.6 s (the first slice leaves at once), longer than the link lives (1 to 2 s).
    expect(elapsed).toBeGreaterThan(2400);
    expect(bytes.equals(getFileContent(m.machineId, "C:\\slow.bin", 64 * 1024))).toBe(true);
    expect(Date.now()).toBeGreaterThan(Date.parse(new URL(link).searchParams.get("se")!));
    const resume = await fetch(link, { headers: { Range: "bytes=1000-" } });
    expect(resume.status).toBe(403);
    await resume.text();
  });

  it("stores GetFile raw with getFileCompress: false and reports its content figures", async () => {
    const m = machine({ getFileCompress: false, getFileSizeBytes: 10_000 });
    const s = await startSimulator({ machines: [m] });
    const id = await completedAction(s, m.machineId, [getFile("C:\\raw.bin")]);
    const bytes = Buffer.from(await (await fetch(await linkOf(s, id))).arrayBuffer());
    expect(bytes.equals(getFileContent(m.machineId, "C:\\raw.bin", 10_000))).toBe(true);
    const digest = sha256(bytes);
    expect(await s.sim.expectedResult(id, 0)).toEqual({ sha256: digest, size: 10_000, contentSha256: digest, contentSize: 10_000 });
  });

  it('stores GetFile as gzip level 0 with getFileCompress: "stored" (valid gzip, no compression cost)', async () => {
    const m = machine({ getFileCompress: "stored", getFileSizeBytes: 10_000 });
    const s = await startSimulator({ machines: [m] });
    const id = await completedAction(s, m.machineId, [getFile("C:\\stored.bin")]);
    const bytes = Buffer.from(await (await fetch(await linkOf(s, id))).arrayBuffer());
    expect([...bytes.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    const content = gunzipSync(bytes);
    expect(content.equals(getFileContent(m.machineId, "C:\\stored.bin", 10_000))).toBe(true);
    expect(await s.sim.expectedResult(id, 0)).toEqual({
      sha256: sha256(bytes),
      size: bytes.length,
      contentSha256: sha256(content),
      contentSize: 10_000,
    });
  });

  it("proxies every link with the simulator option proxyDownloads, and keeps expiredLinks working through the proxy", async () => {
    const m = machine({ expiredLinks: 1 });
    const s = await startSimulator({ machines: [m], proxyDownloads: true });
    const id = await completedAction(s, m.machineId, [runScript()]);
    const expired = await fetch(await linkOf(s, id));
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain("<Code>AuthenticationFailed</Code>");
    const link = await linkOf(s, id);
    expect(link.startsWith(`${s.baseUrl}/download/`)).toBe(true);
    const ok = await fetch(link);
    expect(ok.status).toBe(200);
    expect(sha256(Buffer.from(await ok.arrayBuffer()))).toBe((await s.sim.expectedResult(id, 0)).sha256);
  });
});
