/**
 * `npm start` as a newcomer uses it, over HTTP only: the real start script (built once) on free
 * ports, a live response request through the real HTTP trigger, the durable status URL followed to
 * Completed, the evidence and manifest read back from the Azurite it started and checked against the
 * simulator's source bytes, then SIGTERM and nothing left running.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";
import { BlobServiceClient } from "@azure/storage-blob";
import { loadOrCreateDevelopmentIdentity } from "../../devhost";
import { connectionString, createMdeSimulator, type MdeSimulator } from "../../simulator";
import { eventGridEvent } from "../support/fixtures/alerts/envelopes";
import { GRAPH_ALERT, GRAPH_ALERT_DEVICE, GRAPH_ALERT_IN_MDE } from "../support/fixtures/alerts/graphAlert";
import { testAzurite } from "../support/azurite";
import { buildOncePerRun } from "../support/build";

const ROOT = path.resolve(__dirname, "..", "..");
const START_SCRIPT = path.join(ROOT, "dist-tools", "scripts", "start.js");
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Seed 001's request: a RunScript then a GetFile (as in collectEvidence.test.ts). */
const request = (machineId: string) => ({
  machineId,
  comment: "npm start e2e",
  commands: [
    {
      type: "RunScript",
      params: [
        { key: "ScriptName", value: "minidump.ps1" },
        { key: "Args", value: "OfficeClickToRun" },
      ],
    },
    { type: "GetFile", params: [{ key: "Path", value: "C:\\windows\\TEMP\\OfficeClickToRun.dmp.zip" }] },
  ],
});

/** A device that is online now and runs each command in 1 s (the defaults take 5 to 30 s). */
const fastMachine = () => ({
  machineId: randomBytes(20).toString("hex"),
  computerDnsName: "desktop-fast",
  onlineAfterMs: 0,
  commandDurationMs: 1000,
  getFileSizeBytes: 256 * 1024,
});

/**
 * Free ports, fast polling, and the sample's local settings pinned through the environment (which
 * wins over local.settings.json), so a developer's own local.settings.json cannot aim the test elsewhere.
 */
const LOCAL_ENV: Record<string, string> = {
  LOCAL_HOST_PORT: "0",
  SIMULATOR_PORT: "0",
  AZURITE_BLOB_PORT: "0",
  COLLECTION_POLL_INITIAL_SECONDS: "1",
  MDE_API_BASE_URL: "http://127.0.0.1:7072",
  LOCAL_DEVELOPMENT: "true",
  EVIDENCE_STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true",
  EVIDENCE_STORAGE_ACCOUNT_URL: "",
  EVIDENCE_CONTAINER: "evidence",
  EVIDENCE_PREFIX: "liveresponse",
  // Callers bring tokens of this checkout's development identity (.devhost/), as `npm run token` mints them.
  AUTH_MODE: "development",
  AUTH_DEVELOPMENT_JWKS: "",
};

/** `Authorization: Bearer <token>` of the development identity `npm start` trusts, with all three roles. */
async function authorization(): Promise<{ authorization: string }> {
  return { authorization: `Bearer ${await (await loadOrCreateDevelopmentIdentity(ROOT)).mint()}` };
}

interface Started {
  child: ChildProcess;
  api: string;
  simulator: string;
  blob: string;
  output: () => string;
}

/**
 * Spawns the start script on Node 22 (this jest process's node) and waits for its `ready:` line.
 * With `viaNpm`, spawns `npm start` itself (build included) in its own process group, as a terminal does.
 */
function startApp(env: Record<string, string>, options: { viaNpm?: boolean } = {}): Promise<Started> {
  const npmCli = process.env.npm_execpath;
  const [command, args] = options.viaNpm
    ? npmCli
      ? [process.execPath, [npmCli, "start"]]
      : ["npm", ["start"]]
    : [process.execPath, [START_SCRIPT]];
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...LOCAL_ENV, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.viaNpm,
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += String(d)));
  child.stderr!.on("data", (d) => (out += String(d)));
  return new Promise((resolve, reject) => {
    const timeout = setTimeout(() => reject(new Error(`no ready line within 60 s:\n${out}`)), 60_000);
    const onData = () => {
      const m = /^ready: api=(\S+) simulator=(\S+) blob=(\S+)$/m.exec(out);
      if (!m) return;
      clearTimeout(timeout);
      child.stdout!.off("data", onData);
      resolve({ child, api: m[1]!, simulator: m[2]!, blob: m[3]!, output: () => out });
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timeout);
      reject(new Error(`start script exited with ${code} before ready:\n${out}`));
    });
  });
}

/** Waits until the process has printed `text` (lines after `ready:` may arrive in a later chunk). */
async function waitForOutput(app: Started, text: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!app.output().includes(text)) {
    if (Date.now() > deadline) throw new Error(`'${text}' not printed within 5 s:\n${app.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** PIDs whose parent is `pid` (Linux /proc). */
function childPids(pid: number): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        // Field 4 of /proc/<pid>/stat is the parent pid; the command in field 2 may hold spaces.
        const stat = readFileSync(`/proc/${d}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portAccepts(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

/** SIGTERM, then: the process exited 0, its children (Azurite) are gone and no port still answers. */
/** Every process below `pid`, children first found through /proc. */
function descendants(pid: number): number[] {
  return childPids(pid).flatMap((child) => [child, ...descendants(child)]);
}

/**
 * SIGTERM, then nothing may be left: not the app, not Azurite, not the simulator's port. For `npm start`
 * the signal goes to the whole process group, as Ctrl-C in a terminal does.
 */
async function stopAndExpectNothingLeft(app: Started, urls: string[], options: { group?: boolean } = {}): Promise<void> {
  const tree = descendants(app.child.pid!);
  const exited = new Promise<number | null>((resolve) => app.child.once("exit", (code) => resolve(code)));
  if (options.group) process.kill(-app.child.pid!, "SIGTERM");
  else app.child.kill("SIGTERM");
  const code = await exited;
  if (!options.group) expect(code).toBe(0);
  // npm exits at once on the signal while the app is still stopping Azurite: give the tree a bounded time.
  for (let waited = 0; tree.some(isAlive) && waited < 10_000; waited += 200) await new Promise((r) => setTimeout(r, 200));
  expect(tree.filter(isAlive)).toEqual([]);
  for (const url of urls) expect(await portAccepts(url)).toBe(false);
}

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

interface CollectorStatus {
  runtimeStatus: string;
  result?: {
    outcome: string;
    complete: boolean;
    actionId: string;
    evidence: Array<{ index: number; sha256: string }>;
    manifest: { blobName: string };
  };
}

/** POST /api/liveresponse, follow statusQueryGetUri (the app's own status endpoint) to a terminal state, return the summary. */
async function collect(app: Started, machineId: string) {
  const auth = await authorization();
  const started = await fetch(`${app.api}/liveresponse`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth },
    body: JSON.stringify(request(machineId)),
  });
  expect(started.status).toBe(202);
  const { id, statusQueryGetUri } = await json<{ id: string; statusQueryGetUri: string }>(started);
  expect(statusQueryGetUri).toBe(`${app.api}/liveresponse/${id}`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(statusQueryGetUri, { headers: auth });
    const status = await json<CollectorStatus>(res);
    if (!["Pending", "Running"].includes(status.runtimeStatus)) {
      expect(status.runtimeStatus).toBe("Completed");
      expect(status.result).toMatchObject({ outcome: "Completed", complete: true });
      return { id, summary: status.result! };
    }
    if (Date.now() > deadline) throw new Error(`still ${status.runtimeStatus} after 30 s:\n${app.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The blobs landed in the started Azurite's evidence account with the source bytes' SHA-256, and the manifest agrees. */
async function expectEvidence(
  app: Started,
  machineId: string,
  summary: NonNullable<CollectorStatus["result"]>,
  sourceSha256: (index: number) => Promise<string>,
) {
  const container = BlobServiceClient.fromConnectionString(connectionString("devstoreaccount1", app.blob)).getContainerClient("evidence");
  const names: string[] = [];
  for await (const b of container.listBlobsFlat({ prefix: `liveresponse/${machineId}/` })) names.push(b.name);
  const folder = `liveresponse/${machineId}/${summary.actionId}`;
  expect(names.sort()).toEqual([
    `${folder}/0-RunScript-minidump.ps1`,
    `${folder}/1-GetFile-OfficeClickToRun.dmp.zip`,
    `${folder}/manifest.json`,
    `${folder}/manifest.signature.json`,
  ]);
  const manifest = JSON.parse((await container.getBlockBlobClient(summary.manifest.blobName).downloadToBuffer()).toString("utf8")) as {
    commands: Array<{ evidence?: { sha256: string } }>;
  };
  for (const index of [0, 1]) {
    const expected = await sourceSha256(index);
    expect(sha256(await container.getBlockBlobClient(names[index]!).downloadToBuffer())).toBe(expected);
    expect(manifest.commands[index]!.evidence?.sha256).toBe(expected);
  }
}

beforeAll(() => buildOncePerRun(), 60_000);

describe("npm start (the start script, over HTTP only)", () => {
  it("npm start serves the real triggers and Durable HTTP API: a collection from the simulator lands in its Azurite, then SIGTERM leaves nothing running", async () => {
    const app = await startApp({}, { viaNpm: true });
    try {
      expect(app.simulator).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await waitForOutput(app, "desktop-online");
      const machine = fastMachine();
      expect(
        (
          await fetch(`${app.simulator}/simulator/machines`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(machine),
          })
        ).status,
      ).toBe(201);

      const { id, summary } = await collect(app, machine.machineId);
      await expectEvidence(app, machine.machineId, summary, async (index) => {
        const res = await fetch(`${app.simulator}/simulator/actions/${summary.actionId}/results/${index}`);
        return (await json<{ sha256: string }>(res)).sha256;
      });
      // The app's own status endpoint answers on the same host.
      const status = await fetch(`${app.api}/liveresponse/${id}`, { headers: await authorization() });
      expect(status.status).toBe(200);
      // Without a token the same URL answers 401 with a Bearer challenge.
      const anonymous = await fetch(`${app.api}/liveresponse/${id}`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get("www-authenticate")).toBe("Bearer");
      expect(await json<{ runtimeStatus: string }>(status)).toMatchObject({ runtimeStatus: "Completed" });
      expect(app.output()).not.toMatch(/sig=|AccountKey=/);
    } finally {
      await stopAndExpectNothingLeft(app, [app.api, app.simulator, app.blob], { group: true });
    }
  });

  it("accepts an alert delivered twice through the Event Grid endpoint as one collection, and runs the timer once through the admin endpoint", async () => {
    const planMachine = fastMachine();
    const app = await startApp({
      PLAYBOOKS: JSON.stringify([
        {
          name: "alert-file",
          comment: "Alert {{alert.id}}",
          commands: [{ type: "GetFile", params: [{ key: "Path", value: "{{alert.filePath}}" }] }],
        },
        {
          name: "triage",
          comment: "Triage ({{plan.name}})",
          // A script of library/: the collector runs only reviewed library files unless LIBRARY_ALLOW_UNREVIEWED=true.
          commands: [{ type: "RunScript", params: [{ key: "ScriptName", value: "Collect-TriagePackage.ps1" }] }],
        },
      ]),
      ALERT_RULES: JSON.stringify([
        { name: "defense-evasion", playbook: "alert-file", minSeverity: "low", categories: ["DefenseEvasion"] },
      ]),
      COLLECTION_PLANS: JSON.stringify([{ name: "nightly", playbook: "triage", machineIds: [planMachine.machineId] }]),
    });
    try {
      for (const m of [{ ...fastMachine(), machineId: GRAPH_ALERT_DEVICE }, planMachine]) {
        expect(
          (
            await fetch(`${app.simulator}/simulator/machines`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify(m),
            })
          ).status,
        ).toBe(201);
      }
      // The collector acts on the alert as MDE answers it, not on the event: the simulator must know it.
      expect(
        (
          await fetch(`${app.simulator}/simulator/alerts`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(GRAPH_ALERT_IN_MDE),
          })
        ).status,
      ).toBe(201);
      const deliver = () =>
        fetch(`${app.api.replace(/\/api$/, "")}/runtime/webhooks/EventGrid?functionName=alertCollection`, {
          method: "POST",
          headers: { "content-type": "application/json", "aeg-event-type": "Notification" },
          body: JSON.stringify([eventGridEvent(GRAPH_ALERT)]),
        });
      // Event Grid delivers at least once: the same event twice. The host accepts notifications with 202.
      expect((await deliver()).status).toBe(202);
      expect((await deliver()).status).toBe(202);
      const timer = await fetch(`${app.api.replace(/\/api$/, "")}/admin/functions/scheduledCollection`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ input: "" }),
      });
      expect(timer.status).toBe(202);

      const actionsOf = async (machineId: string) => {
        const res = await fetch(`${app.simulator}/api/machineactions?$filter=${encodeURIComponent(`machineId eq '${machineId}'`)}`, {
          headers: { authorization: "Bearer e2e" },
        });
        return (await json<{ value: Array<{ status: string }> }>(res)).value;
      };
      const manifests = async (machineId: string) => {
        const container = BlobServiceClient.fromConnectionString(connectionString("devstoreaccount1", app.blob)).getContainerClient(
          "evidence",
        );
        const found: Array<{ trigger: { kind: string } }> = [];
        for await (const b of container.listBlobsFlat({ prefix: `liveresponse/${machineId}/` })) {
          if (b.name.endsWith("/manifest.json"))
            found.push(JSON.parse((await container.getBlockBlobClient(b.name).downloadToBuffer()).toString("utf8")));
        }
        return found;
      };
      const deadline = Date.now() + 40_000;
      while ((await manifests(GRAPH_ALERT_DEVICE)).length + (await manifests(planMachine.machineId)).length < 2) {
        if (Date.now() > deadline) throw new Error(`collections did not finish:\n${app.output()}`);
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(await actionsOf(GRAPH_ALERT_DEVICE)).toHaveLength(1);
      expect(await actionsOf(planMachine.machineId)).toHaveLength(1);
      expect((await manifests(GRAPH_ALERT_DEVICE)).map((m) => m.trigger.kind)).toEqual(["alert"]);
      expect((await manifests(planMachine.machineId)).map((m) => m.trigger.kind)).toEqual(["schedule"]);
    } finally {
      await stopAndExpectNothingLeft(app, [app.api, app.simulator, app.blob]);
    }
  });

  it("collects from any MDE API on loopback (another process's simulator), starting only Azurite", async () => {
    const other: MdeSimulator = createMdeSimulator({
      resultStore: { connectionString: testAzurite.sourceConnectionString, containerName: `other-${randomBytes(4).toString("hex")}` },
      machines: [],
    });
    const { baseUrl } = await other.start();
    try {
      const machine = other.addMachine(fastMachine());
      const app = await startApp({ MDE_API_BASE_URL: baseUrl });
      try {
        expect(app.simulator).toBe("none");
        await waitForOutput(app, `MDE API: ${baseUrl}`);
        const { summary } = await collect(app, machine.machineId);
        await expectEvidence(
          app,
          machine.machineId,
          summary,
          async (index) => (await other.expectedResult(summary.actionId, index)).sha256,
        );
        expect(other.stats().calls.runLiveResponse).toBe(1);
      } finally {
        await stopAndExpectNothingLeft(app, [app.api, app.blob]);
      }
    } finally {
      await other.stop();
    }
  });

  it("refuses a loopback MDE API without LOCAL_DEVELOPMENT=true before starting anything", async () => {
    const child = spawn(process.execPath, [START_SCRIPT], {
      cwd: ROOT,
      env: { ...process.env, ...LOCAL_ENV, LOCAL_DEVELOPMENT: "false", MDE_API_BASE_URL: "http://127.0.0.1:45999" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (d) => (out += String(d)));
    child.stderr!.on("data", (d) => (out += String(d)));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(1);
    expect(out).toMatch(/MDE_API_BASE_URL: must be an https:\/\/ URL/);
    expect(out).not.toContain("ready:");
  });

  it("pointed at a real tenant and a real storage account, starts no simulator and no Azurite", async () => {
    const app = await startApp({
      MDE_API_BASE_URL: "https://api.security.microsoft.com",
      LOCAL_DEVELOPMENT: "false",
      EVIDENCE_STORAGE_CONNECTION_STRING: "",
      EVIDENCE_STORAGE_ACCOUNT_URL: "https://contosoevidence.blob.core.windows.net",
      // A real tenant's callers bring Entra tokens; the development key is refused outside local development.
      AUTH_MODE: "entra",
      AUTH_TENANT_ID: "11111111-2222-3333-4444-555555555555",
      AUTH_AUDIENCE: "api://mde-live-response-collector",
      // ... and manifests are signed with a Key Vault key (contacted only when a manifest is written).
      MANIFEST_SIGNING_KEY_ID: "https://kv-collector-test.vault.azure.net/keys/manifest-signing",
    });
    try {
      expect(app.simulator).toBe("none");
      expect(app.blob).toBe("https://contosoevidence.blob.core.windows.net");
      expect(childPids(app.child.pid!)).toEqual([]);
      expect((await fetch(`${app.api}/liveresponse`, { method: "GET" })).status).toBe(405);
    } finally {
      await stopAndExpectNothingLeft(app, [app.api]);
    }
  });
});
