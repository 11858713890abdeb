import { MdeApiError } from "../shared/errors";
import type { Logger } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";
import type { CommandState, LiveResponseCommand, MachineAction } from "../shared/mde/models";
import type { Rejected, SubmitInput, Throttled } from "../shared/contract";
import type { Governed } from "./governed";
import { rejectedBy } from "./mdeFailure";

/**
 * The action this orchestration already created, if MDE accepted a submission whose answer was lost:
 * a throttled or rejected answer, or undefined when there is none (or the lookup filter is refused).
 * 401, 403 and 404 are refusals no retry fixes, so they come back as values and end the collection
 * at once instead of being retried by the Durable runtime for over an hour. With `governed`, the list
 * call is asked of the tenant-wide governor first (a wait comes back as `throttled`) and a 429 backs
 * the tenant off.
 */
export async function findOwnAction(
  mde: MdeApi,
  input: SubmitInput,
  log: Logger,
  governed?: Governed,
): Promise<MachineAction | Throttled | Rejected | undefined> {
  // machineId is validated hex and notBefore an ISO date we produced: both safe inside the OData filter.
  const filter = `machineId eq '${input.machineId}' and type eq 'LiveResponse' and creationDateTimeUtc ge ${input.notBefore}`;
  const wait = await governed?.beforeRead("listMachineActions");
  if (wait) return wait;
  let actions: MachineAction[];
  try {
    actions = await mde.listMachineActions({ filter, top: 100 });
  } catch (e) {
    await governed?.afterError("listMachineActions", e);
    if (!(e instanceof MdeApiError)) throw e;
    if (e.statusCode === 429) return { kind: "throttled", retryAfterInMs: e.retryAfterInMs };
    if (e.statusCode === 400) {
      // An API that refuses the filter cannot tell us about earlier attempts; submitting is still correct on a first attempt.
      log.warn("could not look up earlier submissions", { code: e.code, target: e.target });
      return undefined;
    }
    if (e.statusCode === 401 || e.statusCode === 403 || e.statusCode === 404) {
      log.warn("MDE refused the lookup of earlier submissions", { status: e.statusCode, code: e.code, target: e.target });
      return rejectedBy(e);
    }
    throw e;
  }
  for (const action of actions) {
    if (!carriesMarker(action, input.correlationMarker)) continue;
    const mismatch = mismatchOf(action, input);
    if (!mismatch) return action;
    // Instance ids are predictable: someone else's action may carry our marker. Never adopt it.
    log.warn("an action carries this collection's marker but is not its request; not adopted", { actionId: action.id, mismatch });
  }
  return undefined;
}

/** The comment ends with ` <marker>` exactly as the orchestrator appends it; a marker elsewhere in a comment is not ours. */
function carriesMarker(action: MachineAction, marker: string): boolean {
  return marker.length > 0 && (action.requestorComment ?? "").endsWith(` ${marker}`);
}

/** What differs between an action and the request (`machine` or `commands`), or undefined when it is the request. */
function mismatchOf(action: MachineAction, input: SubmitInput): "machine" | "commands" | undefined {
  if (action.machineId.toLowerCase() !== input.machineId.toLowerCase()) return "machine";
  return sameCommands(action.commands, input.commands) ? undefined : "commands";
}

/** Same number of commands, and in MDE's order each has the request's type and the same params (key and value, in order). */
export function sameCommands(states: CommandState[], commands: LiveResponseCommand[]): boolean {
  if (states.length !== commands.length) return false;
  const ordered = [...states].sort((a, b) => a.index - b.index);
  return ordered.every((state, i) => {
    const wanted = commands[i]!;
    return (
      state.type === wanted.type &&
      state.params.length === wanted.params.length &&
      state.params.every((p, j) => p.key === wanted.params[j]!.key && p.value === wanted.params[j]!.value)
    );
  });
}
