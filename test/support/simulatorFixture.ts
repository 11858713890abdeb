import { randomUUID } from "node:crypto";
import { VirtualClock } from "../../devhost";
import { createMdeSimulator, type MdeSimulator, type MdeSimulatorOptions } from "../../simulator";
import { testAzurite } from "./azurite";

/** Where the simulator's virtual clock starts. */
const SIMULATOR_START = "2026-03-02T09:00:00.000Z";

export interface StartedSimulator {
  sim: MdeSimulator;
  clock: VirtualClock;
  baseUrl: string;
  /** Calls the simulator's API with a bearer token; returns status, headers and parsed JSON. */
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary simulator answers
  ): Promise<{ status: number; headers: Headers; json: any }>;
}

const started: MdeSimulator[] = [];

/** Starts a simulator on a virtual clock, with a fresh result container in the jest-started Azurite. */
export async function startSimulator(options: Partial<MdeSimulatorOptions> = {}): Promise<StartedSimulator> {
  const clock = new VirtualClock(SIMULATOR_START);
  const sim = createMdeSimulator({
    clock: () => clock.now(),
    resultStore: { connectionString: testAzurite.sourceConnectionString, containerName: `mde-${randomUUID().slice(0, 8)}` },
    ...options,
  });
  const { baseUrl } = await sim.start();
  started.push(sim);
  const call: StartedSimulator["call"] = async (method, path, body, headers = {}) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { Authorization: "Bearer test-token", ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  };
  return { sim, clock, baseUrl, call };
}

export async function stopSimulators(): Promise<void> {
  await Promise.all(started.splice(0).map((s) => s.stop()));
}

export const runScript = (name = "collect.ps1", args?: string) => ({
  type: "RunScript",
  params: [{ key: "ScriptName", value: name }, ...(args ? [{ key: "Args", value: args }] : [])],
});
export const getFile = (path: string) => ({ type: "GetFile", params: [{ key: "Path", value: path }] });
export const putFile = (name = "tool.exe") => ({ type: "PutFile", params: [{ key: "FileName", value: name }] });
