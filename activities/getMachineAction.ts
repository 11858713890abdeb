import type { MdeApi } from "../shared/mde/api";
import type { GetActionInput, GetActionOutput } from "../shared/contract";
import { expectedMdeFailure } from "./mdeFailure";

/** Reads the machine action once; the orchestrator does the waiting, on durable timers. */
export function createGetMachineAction(deps: { mde: MdeApi }) {
  return async function getMachineAction(input: GetActionInput): Promise<GetActionOutput> {
    try {
      return { kind: "action", action: await deps.mde.getMachineAction(input.actionId) };
    } catch (e) {
      const outcome = expectedMdeFailure(e);
      if (!outcome) throw e;
      return outcome;
    }
  };
}
