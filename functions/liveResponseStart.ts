import { createHash } from "node:crypto";
import type { HttpRequest, HttpResponse, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { buildCollectionPolicy } from "../shared/collectionPolicy";
import { type CollectEvidenceInput } from "../shared/contract";
import type { CollectionSettings } from "../shared/config";
import { jsonLogger } from "../shared/log";
import type { LiveResponseCommand } from "../shared/mde/models";
import { playbookNames, renderPlaybook, type PlaybookCatalog } from "../shared/playbooks";
import { idempotencyKeyProblem, REQUEST_LIMITS, validateCollectionRequest, type CollectionRequestBody, type FieldProblem } from "../shared/validation";
import { callerOf, errorResponse, readJsonBody } from "./http";
import { startCollectionOnce } from "./startCollection";

/** A client-supplied idempotency key always maps to the same instance id, so a retried webhook starts nothing twice. */
export function instanceIdForKey(key: string): string {
  return `lr-${createHash("sha256").update(key, "utf8").digest("hex").slice(0, 40)}`;
}

/**
 * POST /api/liveresponse: validates the request completely before anything starts (raw `commands`,
 * or a `playbook` rendered with its parameters and validated again), then starts the collection and
 * answers 202 with the durable status URLs.
 */
export function createLiveResponseStart(deps: { collection: CollectionSettings; playbooks?: PlaybookCatalog; now: () => Date }) {
  const playbooks = deps.playbooks ?? new Map();
  return async function liveResponseStart(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit | HttpResponse> {
    const log = jsonLogger(context);
    const body = await readJsonBody(request, REQUEST_LIMITS.maxBodyBytes);
    if (!body.ok) return body.response;

    const validated = validateCollectionRequest(body.value);
    const headerKey = request.headers.get("idempotency-key") ?? undefined;
    const problems = validated.ok ? [] : [...validated.problems];
    const headerProblem = headerKey !== undefined ? idempotencyKeyProblem(headerKey) : undefined;
    if (headerProblem) problems.push({ field: "Idempotency-Key (header)", message: headerProblem });
    const bodyKey = validated.ok ? validated.value.idempotencyKey : undefined;
    if (headerKey !== undefined && bodyKey !== undefined && headerKey !== bodyKey) {
      problems.push({ field: "idempotencyKey", message: "differs from the Idempotency-Key header; send one key" });
    }
    if (!validated.ok || problems.length > 0) {
      log.warn("live response request refused", { problems: problems.map((p) => p.field).join(",") });
      return errorResponse(400, "InvalidRequest", "The request is not valid; nothing was started. See details.", problems);
    }
    const resolved = resolveCommands(validated.value, (body.value as { comment?: unknown }).comment !== undefined, playbooks);
    if (!resolved.ok) {
      log.warn("live response request refused", { problems: resolved.problems.map((p) => p.field).join(",") });
      return errorResponse(400, "InvalidRequest", "The request is not valid; nothing was started. See details.", resolved.problems);
    }
    const { machineId, playbook } = validated.value;
    const { commands, comment } = resolved;
    const key = validated.value.idempotencyKey ?? headerKey;

    const client = df.getClient(context);
    const now = deps.now();
    const input: CollectEvidenceInput = {
      request: { machineId, commands, comment, trigger: { kind: "webhook", caller: callerOf(request), idempotencyKey: key, receivedAt: now.toISOString(), playbook: playbook?.name } },
      policy: buildCollectionPolicy(deps.collection, now),
    };
    const started = await startCollectionOnce(client, key ? instanceIdForKey(key) : undefined, input);
    if (started.kind === "exists") {
      const previous = (started.existing.input as CollectEvidenceInput | undefined)?.request;
      if (previous && (previous.machineId !== machineId || JSON.stringify(previous.commands) !== JSON.stringify(commands))) {
        return errorResponse(409, "IdempotencyKeyReused", "This idempotency key was already used for a different request; use a new key.");
      }
      log.info("collection already started for this idempotency key", { instanceId: started.instanceId, machineId });
      return client.createCheckStatusResponse(request, started.instanceId);
    }
    const id = started.instanceId;
    log.info("collection started", { instanceId: id, machineId, commands: commands.length, playbook: playbook?.name });
    return client.createCheckStatusResponse(request, id);
  };
}

/** The commands to run: as given, or the playbook rendered for this machine; the playbook's comment unless the caller gave one. */
function resolveCommands(
  body: CollectionRequestBody,
  commentGiven: boolean,
  playbooks: PlaybookCatalog,
): { ok: true; commands: LiveResponseCommand[]; comment: string } | { ok: false; problems: FieldProblem[] } {
  if (!body.playbook) return { ok: true, commands: body.commands!, comment: body.comment };
  const playbook = playbooks.get(body.playbook.name);
  if (!playbook) return { ok: false, problems: [{ field: "playbook.name", message: `unknown playbook; known: ${playbookNames(playbooks)}` }] };
  const rendered = renderPlaybook(playbook, "webhook", { "machine.id": body.machineId }, body.playbook.parameters);
  if (!rendered.ok) return { ok: false, problems: rendered.problems.map((p) => ({ field: `playbook.${p.field}`, message: p.message })) };
  return { ok: true, commands: rendered.value.commands, comment: commentGiven ? body.comment : (rendered.value.comment ?? body.comment) };
}
