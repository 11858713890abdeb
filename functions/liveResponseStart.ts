import { createHash } from "node:crypto";
import type { HttpRequest, HttpResponse, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { buildCollectionPolicy, COLLECT_EVIDENCE_ORCHESTRATOR, type CollectEvidenceInput } from "../shared/collection";
import type { CollectionSettings } from "../shared/config";
import { jsonLogger } from "../shared/log";
import { idempotencyKeyProblem, REQUEST_LIMITS, validateCollectionRequest } from "../shared/validation";
import { callerOf, errorResponse, getStatusOrUndefined, readJsonBody } from "./http";

/** A client-supplied idempotency key always maps to the same instance id, so a retried webhook starts nothing twice. */
export function instanceIdForKey(key: string): string {
  return `lr-${createHash("sha256").update(key, "utf8").digest("hex").slice(0, 40)}`;
}

/**
 * POST /api/liveresponse: validates the request completely before anything starts, then starts the
 * collection and answers 202 with the durable status URLs.
 */
export function createLiveResponseStart(deps: { collection: CollectionSettings; now: () => Date }) {
  return async function liveResponseStart(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit | HttpResponse> {
    const log = jsonLogger(context);
    const body = await readJsonBody(request, REQUEST_LIMITS.maxBodyBytes);
    if (!body.ok) return body.response;

    const validated = validateCollectionRequest(body.value);
    const headerKey = request.headers.get("idempotency-key") ?? undefined;
    const problems = validated.ok ? [] : [...validated.problems];
    const headerProblem = headerKey !== undefined ? idempotencyKeyProblem(headerKey) : undefined;
    if (headerProblem) problems.push({ field: "Idempotency-Key (header)", message: headerProblem });
    if (!validated.ok || problems.length > 0) {
      log.warn("live response request refused", { problems: problems.map((p) => p.field).join(",") });
      return errorResponse(400, "InvalidRequest", "The request is not valid; nothing was started. See details.", problems);
    }
    const { machineId, commands, comment } = validated.value;
    const key = validated.value.idempotencyKey ?? headerKey;

    const client = df.getClient(context);
    const instanceId = key ? instanceIdForKey(key) : undefined;
    if (instanceId) {
      const existing = await getStatusOrUndefined(client, instanceId);
      if (existing) {
        const previous = (existing.input as CollectEvidenceInput | undefined)?.request;
        if (previous && (previous.machineId !== machineId || JSON.stringify(previous.commands) !== JSON.stringify(commands))) {
          return errorResponse(409, "IdempotencyKeyReused", "This idempotency key was already used for a different request; use a new key.");
        }
        log.info("collection already started for this idempotency key", { instanceId, machineId });
        return client.createCheckStatusResponse(request, instanceId);
      }
    }

    const now = deps.now();
    const input: CollectEvidenceInput = {
      request: { machineId, commands, comment, trigger: { kind: "webhook", caller: callerOf(request), idempotencyKey: key, receivedAt: now.toISOString() } },
      policy: buildCollectionPolicy(deps.collection, now),
    };
    const id = await client.startNew(COLLECT_EVIDENCE_ORCHESTRATOR, { instanceId, input });
    log.info("collection started", { instanceId: id, machineId, commands: commands.length });
    return client.createCheckStatusResponse(request, id);
  };
}
