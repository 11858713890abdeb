import type { InvocationContext } from "@azure/functions";
import { MdeApiError } from "../shared/errors";
import { jsonLogger } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";
import type { SubmitInput, SubmitOutput } from "../shared/contract";
import { publicMessage } from "../shared/publicMessage";
import { withPublicFaults } from "./activityFault";
import { expectedMdeFailure } from "./mdeFailure";
import { findOwnAction } from "./ownAction";

/**
 * Submits `runliveresponse`, safe to run twice: it first looks for an action this orchestration
 * already created (its comment ends with the correlation marker, and its device and commands are
 * the request's), so a retry after a lost answer (timeout, 5xx after acceptance) or a replay never
 * starts a second session on the device, and never adopts someone else's action.
 */
export function createSubmitLiveResponse(deps: { mde: MdeApi }) {
  return withPublicFaults(async function submitLiveResponse(input: SubmitInput, context: InvocationContext): Promise<SubmitOutput> {
    const log = jsonLogger(context, { machineId: input.machineId });
    const existing = await findOwnAction(deps.mde, input, log);
    if (existing && "kind" in existing) return existing;
    if (existing) {
      log.info("reusing the action an earlier attempt created", { actionId: existing.id });
      return { kind: "submitted", action: existing, reused: true };
    }
    try {
      const action = await deps.mde.runLiveResponse(input.machineId, { commands: input.commands, comment: input.comment });
      log.info("live response submitted", { actionId: action.id, status: action.status });
      return { kind: "submitted", action, reused: false };
    } catch (e) {
      if (e instanceof MdeApiError && e.code === "ActiveRequestAlreadyExists") {
        log.warn("device busy with another live response session", { code: e.code, target: e.target });
        return { kind: "deviceBusy", message: publicMessage(e.message) };
      }
      const outcome = expectedMdeFailure(e);
      if (!outcome) throw e;
      log.warn("live response not submitted", {
        outcome: outcome.kind,
        code: outcome.kind === "rejected" ? outcome.code : "TooManyRequests",
      });
      return outcome;
    }
  });
}
