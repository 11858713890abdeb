import { LIVE_RESPONSE_COMMAND_TYPES, type LiveResponseCommandType } from "../shared/mde/models";
import { HOUR_IN_MS, MINUTE_IN_MS } from "./limits";
import { resolveMachineFaultFields, type MachineFaultFields, type ResolvedMachineFaultFields } from "./scenarioFaults";
import { resolveMachineInventoryFields, type MachineInventoryFields, type ResolvedMachineInventoryFields } from "./machineInventory";

/** What a RunScript command "printed": becomes the transcript JSON (https://learn.microsoft.com/defender-endpoint/api/get-live-response-result). */
export interface RunScriptOutcome {
  exitCode: number;
  output: string;
  errors: string;
}

/**
 * How one simulated device behaves. Everything is relative to the simulator's clock; the device
 * comes online `onlineAfterMs` after it was added to the simulator.
 */
export interface MachineScenario extends MachineFaultFields, MachineInventoryFields {
  /** 40 lowercase hex characters, like the machine ids of Microsoft's examples (https://learn.microsoft.com/defender-endpoint/api/get-machines). */
  machineId: string;
  computerDnsName: string;
  /** 0 = online now; `null` = never online (its sessions end `TimeOut` after the queue window). @default 0 */
  onlineAfterMs?: number | null;
  /** Duration of each command, or per command type. @default 30 s */
  commandDurationMs?: number | Partial<Record<LiveResponseCommandType, number>>;
  /** This command index ends `Failed` with `failError`; the following ones stay `Created`; the action ends `Failed`. */
  failCommandIndex?: number;
  /** @default "Command failed on the device" */
  failError?: string;
  /** What RunScript commands return. @default exit code 0, a transcript line, no errors */
  runScript?: RunScriptOutcome;
  /** Size of the (uncompressed) file every GetFile collects. @default 64 KiB */
  getFileSizeBytes?: number;
  /** Fault: the first N download links issued for this machine's results are already expired. @default 0 */
  expiredLinks?: number;
}

/** A scenario with every default applied, as `machines()` and `GET /simulator/machines` report it. */
export interface ResolvedMachineScenario extends ResolvedMachineFaultFields, ResolvedMachineInventoryFields {
  machineId: string;
  computerDnsName: string;
  onlineAfterMs: number | null;
  commandDurationMs: Record<LiveResponseCommandType, number>;
  failCommandIndex: number | null;
  failError: string;
  runScript: RunScriptOutcome | null;
  getFileSizeBytes: number;
  expiredLinks: number;
}

export const DEFAULT_COMMAND_DURATION_IN_MS = 30_000;
export const DEFAULT_GET_FILE_SIZE_BYTES = 64 * 1024;
export const DEFAULT_FAIL_ERROR = "Command failed on the device";
const MACHINE_ID = /^[0-9a-f]{40}$/;

/**
 * Validates a scenario (from code or from `POST /simulator/machines`) and applies defaults.
 * @throws Error naming every problem at once.
 */
export function resolveScenario(input: unknown): ResolvedMachineScenario {
  const problems: string[] = [];
  const s = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
  const nonNegative = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0;
  if (typeof s.machineId !== "string" || !MACHINE_ID.test(s.machineId)) problems.push("machineId must be 40 lowercase hex characters");
  if (typeof s.computerDnsName !== "string" || s.computerDnsName.length === 0) problems.push("computerDnsName must be a non-empty string");
  if (s.onlineAfterMs !== undefined && s.onlineAfterMs !== null && !nonNegative(s.onlineAfterMs))
    problems.push("onlineAfterMs must be >= 0 or null");
  const durations = resolveDurations(s.commandDurationMs, problems);
  if (
    s.failCommandIndex !== undefined &&
    s.failCommandIndex !== null &&
    !(Number.isInteger(s.failCommandIndex) && (s.failCommandIndex as number) >= 0)
  )
    problems.push("failCommandIndex must be an integer >= 0");
  if (s.failError !== undefined && typeof s.failError !== "string") problems.push("failError must be a string");
  const rs = s.runScript as Record<string, unknown> | undefined | null;
  if (
    rs !== undefined &&
    rs !== null &&
    (typeof rs !== "object" || !Number.isInteger(rs.exitCode) || typeof rs.output !== "string" || typeof rs.errors !== "string")
  )
    problems.push("runScript must be { exitCode: integer, output: string, errors: string }");
  if (s.getFileSizeBytes !== undefined && !(Number.isInteger(s.getFileSizeBytes) && (s.getFileSizeBytes as number) >= 0))
    problems.push("getFileSizeBytes must be an integer >= 0");
  if (s.expiredLinks !== undefined && !(Number.isInteger(s.expiredLinks) && (s.expiredLinks as number) >= 0))
    problems.push("expiredLinks must be an integer >= 0");
  const faultFields = resolveMachineFaultFields(s, problems);
  const inventoryFields = resolveMachineInventoryFields(s, problems);
  if (problems.length > 0) throw new Error(`Invalid machine scenario: ${problems.join("; ")}`);
  return {
    machineId: s.machineId as string,
    computerDnsName: s.computerDnsName as string,
    onlineAfterMs: s.onlineAfterMs === undefined ? 0 : (s.onlineAfterMs as number | null),
    commandDurationMs: durations,
    failCommandIndex: (s.failCommandIndex as number | undefined) ?? null,
    failError: (s.failError as string | undefined) ?? DEFAULT_FAIL_ERROR,
    runScript: rs ? { exitCode: rs.exitCode as number, output: rs.output as string, errors: rs.errors as string } : null,
    getFileSizeBytes: (s.getFileSizeBytes as number | undefined) ?? DEFAULT_GET_FILE_SIZE_BYTES,
    expiredLinks: (s.expiredLinks as number | undefined) ?? 0,
    ...faultFields,
    ...inventoryFields,
  };
}

function resolveDurations(value: unknown, problems: string[]): Record<LiveResponseCommandType, number> {
  const out = {
    PutFile: DEFAULT_COMMAND_DURATION_IN_MS,
    RunScript: DEFAULT_COMMAND_DURATION_IN_MS,
    GetFile: DEFAULT_COMMAND_DURATION_IN_MS,
  };
  const ok = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;
  if (value === undefined || value === null) return out;
  if (ok(value)) return { PutFile: value, RunScript: value, GetFile: value };
  if (typeof value === "object") {
    for (const [type, v] of Object.entries(value)) {
      if (!(LIVE_RESPONSE_COMMAND_TYPES as readonly string[]).includes(type) || !ok(v))
        problems.push(`commandDurationMs.${type} is not a command type with a duration >= 0`);
      else out[type as LiveResponseCommandType] = v;
    }
    return out;
  }
  problems.push("commandDurationMs must be a number or a map of command type to number");
  return out;
}

/**
 * Demo devices for `npm run simulator` and the local host, one per behaviour worth seeing.
 * Two ids are those of the wire fixtures in test/support/mde/fixtures.ts (the first is run-live-response's example machine id).
 */
export function defaultMachines(): MachineScenario[] {
  return [
    {
      machineId: "1e5bc9d7e413ddd7902c2932e418702b84d0cc07",
      computerDnsName: "desktop-online",
      onlineAfterMs: 0,
      commandDurationMs: 5_000,
    },
    {
      machineId: "f70f9fe6b29cd9511652434919c6530618f06606",
      computerDnsName: "laptop-back-in-2-min",
      onlineAfterMs: 2 * MINUTE_IN_MS,
      commandDurationMs: 5_000,
    },
    { machineId: "6b1d2a8b0c9e4f7a3d5e1b2c4a6f8e0d9c7b5a31", computerDnsName: "server-never-online", onlineAfterMs: null },
    {
      machineId: "a3c5e7f9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1",
      computerDnsName: "desktop-failing-second-command",
      onlineAfterMs: 0,
      commandDurationMs: 5_000,
      failCommandIndex: 1,
      failError: "The system cannot find the file specified.",
    },
    {
      machineId: "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00",
      computerDnsName: "desktop-expired-first-link",
      onlineAfterMs: 0,
      commandDurationMs: 5_000,
      expiredLinks: 1,
    },
    {
      machineId: "b16f11eb16f11eb16f11eb16f11eb16f11eb16f1",
      computerDnsName: "server-big-file",
      onlineAfterMs: 0,
      commandDurationMs: { PutFile: 5_000, RunScript: 20_000, GetFile: 60_000 },
      getFileSizeBytes: 64 * 1024 * 1024,
      runScript: {
        exitCode: 1,
        output: "Collecting memory dump...\nAccess denied to one process",
        errors: "Get-Process : Access is denied",
      },
    },
    { machineId: "5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e", computerDnsName: "laptop-back-in-1-hour", onlineAfterMs: HOUR_IN_MS },
  ];
}
