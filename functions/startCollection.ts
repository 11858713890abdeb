import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";
import { COLLECT_EVIDENCE_ORCHESTRATOR, type CollectEvidenceInput } from "../shared/contract";
import { getStatusOrUndefined } from "./http";

export type StartOutcome = { kind: "started"; instanceId: string } | { kind: "exists"; instanceId: string; existing: DurableOrchestrationStatus };

/**
 * Starts `collectEvidence` under a deterministic instance id unless that instance already exists,
 * which is how all three starters make a retried webhook, a duplicate timer firing and an
 * at-least-once Event Grid redelivery start nothing twice. The status is checked first because
 * Durable restarts a finished instance when `startNew` reuses its id; a concurrent duplicate that
 * slips between the check and the start is refused by Durable (instance exists) and reported as such.
 * @param instanceId - undefined: a new random id (webhook without an idempotency key)
 * @throws what the durable client throws, other than "already exists"
 */
export async function startCollectionOnce(client: DurableClient, instanceId: string | undefined, input: CollectEvidenceInput): Promise<StartOutcome> {
  if (instanceId) {
    const existing = await getStatusOrUndefined(client, instanceId);
    if (existing) return { kind: "exists", instanceId, existing };
  }
  try {
    return { kind: "started", instanceId: await client.startNew(COLLECT_EVIDENCE_ORCHESTRATOR, { instanceId, input }) };
  } catch (e) {
    const existing = instanceId ? await getStatusOrUndefined(client, instanceId) : undefined;
    if (existing) return { kind: "exists", instanceId: instanceId!, existing };
    throw e;
  }
}
