/**
 * `npm run probe` against a real `npm start` (the start script on free ports, the sample's settings
 * with its playbooks and alert rules, the development identity): every bad input is refused as
 * documented and none of them starts a collection. Also: the probe refuses a base URL that is not
 * loopback before sending anything. Takes about 30 s (build, start, ~110 requests).
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { buildOncePerRun } from "../support/build";

const ROOT = path.resolve(__dirname, "..", "..");
const START_SCRIPT = path.join(ROOT, "dist-tools", "scripts", "start.js");
const PROBE_SCRIPT = path.join(ROOT, "dist-tools", "scripts", "probe.js");

/** Free ports and the sample's local settings pinned, as test/e2e/npmStart.test.ts does. */
const LOCAL_ENV: Record<string, string> = {
  LOCAL_HOST_PORT: "0",
  SIMULATOR_PORT: "0",
  AZURITE_BLOB_PORT: "0",
  MDE_API_BASE_URL: "http://127.0.0.1:7072",
  LOCAL_DEVELOPMENT: "true",
  AUTH_MODE: "development",
  EVIDENCE_STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true",
  EVIDENCE_STORAGE_ACCOUNT_URL: "",
  EVIDENCE_CONTAINER: "evidence",
  EVIDENCE_PREFIX: "liveresponse",
  GETFILE_ALLOW_UNC_PATHS: "false",
};

function startApp(): Promise<{ child: ChildProcess; origin: string; output: () => string }> {
  const child = spawn(process.execPath, [START_SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, ...LOCAL_ENV },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += String(d)));
  child.stderr!.on("data", (d) => (out += String(d)));
  return new Promise((resolve, reject) => {
    const timeout = setTimeout(() => reject(new Error(`no ready line within 60 s:\n${out}`)), 60_000);
    const onData = () => {
      const m = /^ready: api=(\S+)\/api /m.exec(out);
      if (!m) return;
      clearTimeout(timeout);
      child.stdout!.off("data", onData);
      resolve({ child, origin: m[1]!, output: () => out });
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timeout);
      reject(new Error(`start script exited with ${code} before ready:\n${out}`));
    });
  });
}

function runProbe(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [PROBE_SCRIPT, ...args], {
    cwd: ROOT,
    env: { ...process.env, PROBE_BASE_URL: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += String(d)));
  child.stderr!.on("data", (d) => (output += String(d)));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, output })));
}

beforeAll(() => buildOncePerRun(), 60_000);

describe("npm run probe", () => {
  it("refuses a base URL that is not loopback, sending nothing", async () => {
    const { code, output } = await runProbe(["https://collector.azurewebsites.net"]);
    expect(code).toBe(2);
    expect(output).toMatch(/only targets a local host on loopback/);
  });

  it("gets every bad input refused as documented from a running npm start, and nothing it sent starts a collection", async () => {
    const app = await startApp();
    try {
      const { code, output } = await runProbe([app.origin]);
      const summary = /^probe: (\d+) tried, (\d+) refused as expected, (\d+) unexpected, (\d+) collections started$/m.exec(output);
      expect(summary).not.toBeNull();
      const [, tried, refused, unexpected, started] = summary!.map(Number);
      expect({ unexpected, started, output: unexpected || started ? output : "" }).toEqual({ unexpected: 0, started: 0, output: "" });
      expect(refused).toBe(tried);
      expect(tried).toBeGreaterThanOrEqual(100);
      expect(code).toBe(0);
    } finally {
      const exited = new Promise((resolve) => app.child.once("exit", resolve));
      app.child.kill("SIGTERM");
      await exited;
    }
  }, 90_000);
});
