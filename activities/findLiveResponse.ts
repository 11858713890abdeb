import type { InvocationContext } from "@azure/functions";
import { jsonLogger } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";
import type { FindOutput, SubmitInput } from "../shared/contract";
import { withPublicFaults } from "./activityFault";
import { Governed, type GovernorDeps } from "./governed";
import { findOwnAction } from "./ownAction";

/**
 * Looks up the action an earlier submission created although its answer was lost (a 500 or a dropped
 * connection after MDE accepted it), so that a cancel or the deadline can still cancel it and not
 * leave the device's one live response session busy. Only an action with this collection's exact
 * marker, device and commands is found. A 401, 403 or 404 comes back as `rejected`. The list call is
 * asked of the tenant-wide governor first (./governed.ts).
 */
export function createFindLiveResponse(deps: { mde: MdeApi } & GovernorDeps) {
  return withPublicFaults(async function findLiveResponse(input: SubmitInput, context: InvocationContext): Promise<FindOutput> {
    const log = jsonLogger(context, { machineId: input.machineId });
    const found = await findOwnAction(deps.mde, input, log, new Governed(deps, log));
    if (found && "kind" in found) return found;
    return found ? { kind: "found", action: found } : { kind: "notFound" };
  });
}
