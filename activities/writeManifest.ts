import type { InvocationContext } from "@azure/functions";
import { manifestBlobName } from "../shared/evidence/blobPath";
import type { EvidenceStore } from "../shared/evidence/types";
import { jsonLogger } from "../shared/log";
import type { WriteManifestInput, WriteManifestOutput } from "../shared/contract";
import { withPublicFaults } from "./activityFault";

/**
 * Writes the manifest last, conditionally: a retried or replayed call finds it and leaves it as it is.
 * A collection MDE never accepted has no action id; its manifest goes under `unsubmitted-{instanceId}`
 * so that refusals are on record beside the evidence.
 */
export function createWriteManifest(deps: { evidence: EvidenceStore; evidencePrefix: string }) {
  return withPublicFaults(async function writeManifest(input: WriteManifestInput, context: InvocationContext): Promise<WriteManifestOutput> {
    const m = input.manifest;
    const actionId = m.machineAction?.id ?? `unsubmitted-${m.instanceId}`;
    const blobName = manifestBlobName({ prefix: deps.evidencePrefix, machineId: m.request.machineId, actionId });
    const written = await deps.evidence.writeJson(blobName, m, {
      metadata: { machineid: m.request.machineId, actionid: actionId, instanceid: m.instanceId, outcome: m.outcome, kind: "manifest" },
      tags: { machineId: m.request.machineId, actionId, outcome: m.outcome },
    });
    jsonLogger(context, { instanceId: m.instanceId, machineId: m.request.machineId, actionId }).info(written.created ? "manifest written" : "manifest already present", {
      blobName: written.blobName,
      outcome: m.outcome,
    });
    return { blobName: written.blobName, blobUrl: written.blobUrl, sha256: written.sha256, created: written.created };
  });
}
