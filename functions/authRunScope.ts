import type { HttpResponseInit } from "@azure/functions";
import { runAllowed, type RoleDefinition, type RunRequestFacts } from "../shared/auth/roles";
import { MdeApiError } from "../shared/errors";
import type { Logger } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";
import { forbidden } from "./auth";
import { errorResponse } from "./http";

/** Seconds a caller waits when MDE could not say which tags the device carries. */
const TAG_LOOKUP_RETRY_AFTER_SECONDS = 30;

/**
 * Whether the caller's `run` grants allow this collection (playbook, command types, device tags).
 * The device's MDE tags are read only when a grant scoped by tags could decide, i.e. when the
 * request is not already allowed without them: most callers' roles have no tag scope and cost no
 * MDE call.
 * @returns undefined when allowed, else the 403 (or 503 when MDE could not be asked) to answer
 */
export async function runScopeRefusal(
  grants: readonly RoleDefinition[],
  facts: Omit<RunRequestFacts, "machineTags">,
  machineId: string,
  mde: Pick<MdeApi, "listMachines">,
  log: Logger,
): Promise<HttpResponseInit | undefined> {
  const withoutTags = runAllowed(grants, facts);
  if (withoutTags.ok) return undefined;
  if (!grants.some((g) => g.scope?.machineTags !== undefined)) return refusal(withoutTags.reason);
  let machineTags: string[];
  try {
    // The machine id passed validation (40 hex characters), so it is safe inside the OData literal.
    const [machine] = await mde.listMachines({ filter: `id eq '${machineId}'`, top: 1 });
    machineTags = machine?.machineTags ?? [];
  } catch (e) {
    log.warn("device tags could not be read for a tag-scoped role", {
      machineId,
      code: e instanceof MdeApiError ? e.code : "Unknown",
      statusCode: e instanceof MdeApiError ? e.statusCode : undefined,
      target: e instanceof MdeApiError ? e.target : undefined,
    });
    return errorResponse(
      503,
      "MachineLookupFailed",
      "The device's tags could not be read from MDE to check the caller's role scope; nothing was started. Try again.",
      undefined,
      {
        "Retry-After": String(TAG_LOOKUP_RETRY_AFTER_SECONDS),
      },
    );
  }
  const withTags = runAllowed(grants, { ...facts, machineTags });
  return withTags.ok ? undefined : refusal(withTags.reason);
}

function refusal(reason: string): HttpResponseInit {
  return forbidden(`The caller's app roles do not allow this collection; nothing was started. ${reason}.`);
}
