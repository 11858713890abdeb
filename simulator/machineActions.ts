import type { WireCommand } from "./requestValidation";
import type { ResolvedMachineScenario } from "./scenarios";
import type { SimulatorLimits } from "./limits";

/**
 * The live response action state machine, computed lazily: an action stores only what happened
 * at request time (creation, cancellation); its status at any instant is a pure function of the
 * clock, the device scenario and the limits. No timers run anywhere.
 */

/** What the simulator stores for one runliveresponse call. */
export interface ActionRecord {
  id: string;
  machineId: string;
  computerDnsName: string;
  requestor: string;
  requestorComment: string | null;
  createdAtMs: number;
  commands: WireCommand[];
  cancellation: { atMs: number; requestor: string; comment: string } | null;
  /** The first RunScript or PutFile whose library file was not in the library when the action was created. */
  missingLibraryFile?: { index: number; fileName: string };
}

/** The device as the timeline needs it: its scenario and when it was added (the origin of `onlineAfterMs`). */
export interface MachineState {
  scenario: ResolvedMachineScenario;
  addedAtMs: number;
}

type PlannedCommand = { startMs: number; endMs: number; status: "Completed" | "Failed"; errors: string[] };

/** The whole future of an action, ignoring cancellation. */
type Plan =
  | { kind: "timeout"; atMs: number }
  | { kind: "runs"; startMs: number; commands: PlannedCommand[]; endMs: number; finalStatus: "Succeeded" | "Failed" };

export interface CommandView {
  index: number;
  commandStatus: "Created" | "InProgress" | "Completed" | "Failed";
  startMs: number | null;
  endMs: number | null;
  errors: string[];
}

export interface ActionView {
  status: "Pending" | "InProgress" | "Succeeded" | "Failed" | "TimeOut" | "Cancelled";
  lastUpdateMs: number;
  commands: CommandView[];
}

/** Statuses after which an action never changes. */
export const FINAL_STATUSES: ReadonlyArray<ActionView["status"]> = ["Succeeded", "Failed", "TimeOut", "Cancelled"];

/** Options the timeline depends on. */
export interface TimelineSettings {
  limits: SimulatorLimits;
  queueWindowInMs: number;
}

function timeoutFor(type: WireCommand["type"], limits: SimulatorLimits): number {
  return type === "RunScript" ? limits.runScriptTimeoutInMs : type === "GetFile" ? limits.getFileTimeoutInMs : limits.putFileTimeoutInMs;
}

function plan(action: ActionRecord, machine: MachineState, settings: TimelineSettings): Plan {
  const s = machine.scenario;
  const onlineAtMs = s.onlineAfterMs === null ? Number.POSITIVE_INFINITY : machine.addedAtMs + s.onlineAfterMs;
  const startMs = Math.max(action.createdAtMs, onlineAtMs);
  // An offline device's session is queued for the queue window, then times out (run-live-response, "Limitations").
  const queueEndMs = action.createdAtMs + settings.queueWindowInMs;
  if (startMs > queueEndMs) return { kind: "timeout", atMs: queueEndMs };
  const commands: PlannedCommand[] = [];
  let t = startMs;
  for (let i = 0; i < action.commands.length; i++) {
    const type = action.commands[i]!.type;
    const duration = s.commandDurationMs[type];
    const timeout = timeoutFor(type, settings.limits);
    if (action.missingLibraryFile?.index === i) {
      // MDE does not document this case; the simulator fails the command on the device (see liveResponseApi.ts).
      commands.push({
        startMs: t,
        endMs: t,
        status: "Failed",
        errors: [`'${action.missingLibraryFile.fileName}' was not found in the live response library`],
      });
      break;
    }
    if (s.failCommandIndex === i) {
      commands.push({ startMs: t, endMs: t + Math.min(duration, timeout), status: "Failed", errors: [s.failError] });
      break;
    }
    if (duration > timeout) {
      // RunScript times out after 10 minutes (run-live-response, "Limitations"); other types per the live-response page (limits.ts).
      commands.push({
        startMs: t,
        endMs: t + timeout,
        status: "Failed",
        errors: [`${type} timed out after ${Math.round(timeout / 60_000)} minutes`],
      });
      break;
    }
    commands.push({ startMs: t, endMs: t + duration, status: "Completed", errors: [] });
    t += duration;
  }
  const last = commands[commands.length - 1]!;
  // A failed command stops the ones after it (run-live-response, "Limitations"): they stay Created, the action ends Failed.
  const failed = last.status === "Failed";
  return { kind: "runs", startMs, commands, endMs: last.endMs, finalStatus: failed ? "Failed" : "Succeeded" };
}

/** The action as MDE would report it at `nowMs`. */
export function viewAt(action: ActionRecord, machine: MachineState, nowMs: number, settings: TimelineSettings): ActionView {
  const cancelled = action.cancellation !== null && action.cancellation.atMs <= nowMs;
  // A cancelled action is frozen at the moment of cancellation: what completed before stays completed.
  const at = cancelled ? action.cancellation!.atMs : nowMs;
  const view = uncancelledViewAt(action, machine, at, settings);
  return cancelled ? { ...view, status: "Cancelled", lastUpdateMs: action.cancellation!.atMs } : view;
}

function uncancelledViewAt(action: ActionRecord, machine: MachineState, nowMs: number, settings: TimelineSettings): ActionView {
  const created = (i: number): CommandView => ({ index: i, commandStatus: "Created", startMs: null, endMs: null, errors: [] });
  const allCreated = action.commands.map((_, i) => created(i));
  const p = plan(action, machine, settings);
  if (p.kind === "timeout") {
    return nowMs < p.atMs
      ? { status: "Pending", lastUpdateMs: action.createdAtMs, commands: allCreated }
      : { status: "TimeOut", lastUpdateMs: p.atMs, commands: allCreated };
  }
  if (nowMs < p.startMs) return { status: "Pending", lastUpdateMs: action.createdAtMs, commands: allCreated };
  let lastUpdateMs = p.startMs;
  const commands = action.commands.map((_, i): CommandView => {
    const c = p.commands[i];
    if (!c || nowMs < c.startMs) return created(i);
    if (nowMs < c.endMs) {
      lastUpdateMs = Math.max(lastUpdateMs, c.startMs);
      return { index: i, commandStatus: "InProgress", startMs: c.startMs, endMs: null, errors: [] };
    }
    lastUpdateMs = Math.max(lastUpdateMs, c.endMs);
    return { index: i, commandStatus: c.status, startMs: c.startMs, endMs: c.endMs, errors: c.errors };
  });
  return { status: nowMs >= p.endMs ? p.finalStatus : "InProgress", lastUpdateMs, commands };
}

/** When the action reaches a final status if nobody cancels it (Infinity never happens: the queue window bounds it). */
export function finalAtMs(action: ActionRecord, machine: MachineState, settings: TimelineSettings): number {
  const p = plan(action, machine, settings);
  return p.kind === "timeout" ? p.atMs : p.endMs;
}

/** True for Succeeded, Failed, TimeOut and Cancelled. */
export function isFinal(status: ActionView["status"]): boolean {
  return FINAL_STATUSES.includes(status);
}

/**
 * MDE timestamps carry seven fractional digits ("2021-02-04T15:36:52.7788848Z" in the response example of
 * https://learn.microsoft.com/defender-endpoint/api/run-live-response); the simulator's clock has milliseconds,
 * so the last four digits are zeros.
 */
export function mdeTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, (_, millis: string) => `.${millis}0000Z`);
}

/** The MachineAction entity as wire JSON, with the fields of run-live-response's response example in their order. */
export function toWireEntity(action: ActionRecord, view: ActionView): Record<string, unknown> {
  return {
    id: action.id,
    type: "LiveResponse",
    requestor: action.requestor,
    requestorComment: action.requestorComment,
    status: view.status,
    machineId: action.machineId,
    computerDnsName: action.computerDnsName,
    creationDateTimeUtc: mdeTimestamp(action.createdAtMs),
    lastUpdateDateTimeUtc: mdeTimestamp(view.lastUpdateMs),
    cancellationRequestor: action.cancellation && view.status === "Cancelled" ? action.cancellation.requestor : null,
    cancellationComment: action.cancellation && view.status === "Cancelled" ? action.cancellation.comment : null,
    cancellationDateTimeUtc: action.cancellation && view.status === "Cancelled" ? mdeTimestamp(action.cancellation.atMs) : null,
    errorHResult: 0,
    // A documented property (https://learn.microsoft.com/defender-endpoint/api/machineaction); the value "PublicApi" is observed in
    // production integrations' captures (e.g. Cortex XSOAR's tests, github.com/demisto/content), not documented by Microsoft.
    requestSource: "PublicApi",
    // A documented property for file actions (machineaction page); always null for live response.
    relatedFileInfo: null,
    commands: view.commands.map((c) => ({
      index: c.index,
      startTime: c.startMs === null ? null : mdeTimestamp(c.startMs),
      endTime: c.endMs === null ? null : mdeTimestamp(c.endMs),
      commandStatus: c.commandStatus,
      errors: c.errors,
      command: {
        type: action.commands[c.index]!.type,
        params: action.commands[c.index]!.params.map((p) => ({ key: p.key, value: p.value })),
      },
    })),
  };
}
