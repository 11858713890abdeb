import type { InvocationContext } from "@azure/functions";
import type { MdeApi } from "../shared/mde/api";
import type { GetActionInput, GetActionOutput } from "../shared/contract";
import { withPublicFaults } from "./activityFault";
import { expectedMdeFailure } from "./mdeFailure";

/** Reads the machine action once; the orchestrator does the waiting, on durable timers. */
export function createGetMachineAction(deps: { mde: MdeApi }) {
  return withPublicFaults(async function getMachineAction(input: GetActionInput, _context: InvocationContext): Promise<GetActionOutput> {
    try {
      return { kind: "action", action: await deps.mde.getMachineAction(input.actionId) };
    } catch (e) {
      const outcome = expectedMdeFailure(e);
      if (!outcome) throw e;
      return outcome;
    }
  });
}
