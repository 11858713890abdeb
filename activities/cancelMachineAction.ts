import type { InvocationContext } from "@azure/functions";
import { MdeApiError } from "../shared/errors";
import { jsonLogger } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";
import type { CancelInput, CancelOutput } from "../shared/contract";
import { withPublicFaults } from "./activityFault";
import { expectedMdeFailure } from "./mdeFailure";

/**
 * Cancels the action, then re-reads it: a cancel can race with completion (MDE may show Cancelled
 * though commands completed), and whatever completed is still collected. Cancelling twice is harmless:
 * MDE answers 400 for an action already final. 401, 403 and 404 come back as `rejected` (MDE's code and correlation id).
 */
export function createCancelMachineAction(deps: { mde: MdeApi }) {
  return withPublicFaults(async function cancelMachineAction(input: CancelInput, context: InvocationContext): Promise<CancelOutput> {
    const log = jsonLogger(context, { actionId: input.actionId });
    let kind: "cancelled" | "alreadyFinal" = "cancelled";
    try {
      await deps.mde.cancelMachineAction(input.actionId, input.comment);
      log.info("machine action cancelled");
    } catch (e) {
      if (e instanceof MdeApiError && e.statusCode === 400) {
        kind = "alreadyFinal";
        log.info("machine action could not be cancelled; re-reading it", { code: e.code, target: e.target });
      } else {
        const outcome = expectedMdeFailure(e);
        if (!outcome) throw e;
        return outcome;
      }
    }
    try {
      return { kind, action: await deps.mde.getMachineAction(input.actionId) };
    } catch (e) {
      const outcome = expectedMdeFailure(e);
      if (!outcome) throw e;
      return outcome;
    }
  });
}
