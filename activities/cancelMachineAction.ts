import type { InvocationContext } from "@azure/functions";
import { MdeApiError } from "../shared/errors";
import { jsonLogger } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";
import type { CancelInput, CancelOutput } from "../shared/contract";
import { withPublicFaults } from "./activityFault";
import { Governed, type GovernorDeps } from "./governed";
import { expectedMdeFailure } from "./mdeFailure";

/**
 * Cancels the action, then re-reads it: a cancel can race with completion (MDE may show Cancelled
 * though commands completed), and whatever completed is still collected. Cancelling twice is harmless:
 * MDE answers 400 for an action already final. 401, 403 and 404 come back as `rejected` (MDE's code and correlation id).
 * Both calls are asked of the tenant-wide governor first; a wait comes back as `throttled` (the
 * orchestrator asks again, and a repeated cancel is harmless).
 */
export function createCancelMachineAction(deps: { mde: MdeApi } & GovernorDeps) {
  return withPublicFaults(async function cancelMachineAction(input: CancelInput, context: InvocationContext): Promise<CancelOutput> {
    const log = jsonLogger(context, { actionId: input.actionId });
    const governed = new Governed(deps, log);
    let kind: "cancelled" | "alreadyFinal" = "cancelled";
    const waitToCancel = await governed.beforeRead("cancel");
    if (waitToCancel) return waitToCancel;
    try {
      await deps.mde.cancelMachineAction(input.actionId, input.comment);
      log.info("machine action cancelled");
    } catch (e) {
      await governed.afterError("cancel", e);
      if (e instanceof MdeApiError && e.statusCode === 400) {
        kind = "alreadyFinal";
        log.info("machine action could not be cancelled; re-reading it", { code: e.code, target: e.target });
      } else {
        const outcome = expectedMdeFailure(e);
        if (!outcome) throw e;
        return outcome;
      }
    }
    const waitToRead = await governed.beforeRead("getMachineAction");
    if (waitToRead) return waitToRead;
    try {
      return { kind, action: await deps.mde.getMachineAction(input.actionId) };
    } catch (e) {
      await governed.afterError("getMachineAction", e);
      const outcome = expectedMdeFailure(e);
      if (!outcome) throw e;
      return outcome;
    }
  });
}
