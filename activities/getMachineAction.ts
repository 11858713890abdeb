import type { InvocationContext } from "@azure/functions";
import { jsonLogger } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";
import { isFinalActionStatus } from "../shared/mde/models";
import type { GetActionInput, GetActionOutput } from "../shared/contract";
import { withPublicFaults } from "./activityFault";
import { Governed, holderOfComment, type GovernorDeps } from "./governed";
import { expectedMdeFailure } from "./mdeFailure";

/**
 * Reads the machine action once; the orchestrator does the waiting, on durable timers. The read is
 * asked of the tenant-wide governor first (a wait comes back as `throttled`, like MDE's 429). The
 * answer then tells the governor about the session: still running, its slot's lease runs on; final,
 * the slot goes back. The holder is the instance named by the marker the action's comment ends with.
 */
export function createGetMachineAction(deps: { mde: MdeApi } & GovernorDeps) {
  return withPublicFaults(async function getMachineAction(input: GetActionInput, context: InvocationContext): Promise<GetActionOutput> {
    const log = jsonLogger(context, { actionId: input.actionId });
    const governed = new Governed(deps, log);
    const wait = await governed.beforeRead("getMachineAction");
    if (wait) return wait;
    let action;
    try {
      action = await deps.mde.getMachineAction(input.actionId);
    } catch (e) {
      await governed.afterError("getMachineAction", e);
      const outcome = expectedMdeFailure(e);
      if (!outcome) throw e;
      return outcome;
    }
    const holder = holderOfComment(action.requestorComment);
    if (holder === undefined) log.warn("action comment carries no collector marker; its session slot is not renewed", {});
    else if (isFinalActionStatus(action.status)) await governed.release(holder);
    else await governed.renew(holder);
    return { kind: "action", action };
  });
}
