import type { InvocationContext } from "@azure/functions";
import { MdeApiError } from "../shared/errors";
import { jsonLogger, type Logger } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";
import type { MachineAction } from "../shared/mde/models";
import type { SubmitInput, SubmitOutput, Throttled } from "../shared/contract";
import { expectedMdeFailure } from "./mdeFailure";

/**
 * Submits `runliveresponse`, safe to run twice: it first looks for an action this orchestration
 * already created (its comment carries the correlation marker), so a retry after a lost answer
 * (timeout, 5xx after acceptance) or a replay never starts a second session on the device.
 */
export function createSubmitLiveResponse(deps: { mde: MdeApi }) {
  return async function submitLiveResponse(input: SubmitInput, context: InvocationContext): Promise<SubmitOutput> {
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
        return { kind: "deviceBusy", message: e.message };
      }
      const outcome = expectedMdeFailure(e);
      if (!outcome) throw e;
      log.warn("live response not submitted", { outcome: outcome.kind, code: outcome.kind === "rejected" ? outcome.code : "TooManyRequests" });
      return outcome;
    }
  };
}

/** The action this orchestration already created (its comment carries the marker), a throttled answer, or undefined. */
export async function findOwnAction(mde: MdeApi, input: SubmitInput, log: Logger): Promise<MachineAction | Throttled | undefined> {
  // machineId is validated hex and notBefore an ISO date we produced: both safe inside the OData filter.
  const filter = `machineId eq '${input.machineId}' and type eq 'LiveResponse' and creationDateTimeUtc ge ${input.notBefore}`;
  try {
    const actions = await mde.listMachineActions({ filter, top: 100 });
    return actions.find((a) => a.requestorComment?.includes(input.correlationMarker));
  } catch (e) {
    if (e instanceof MdeApiError && e.statusCode === 429) return { kind: "throttled", retryAfterInMs: e.retryAfterInMs };
    if (e instanceof MdeApiError && e.statusCode === 400) {
      // An API that refuses the filter cannot tell us about earlier attempts; submitting is still correct on a first attempt.
      log.warn("could not look up earlier submissions", { code: e.code, target: e.target });
      return undefined;
    }
    throw e;
  }
}
