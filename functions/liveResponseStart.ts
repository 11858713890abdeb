import { createHash } from "node:crypto";
import type { HttpRequest, HttpResponse, HttpResponseInit, InvocationContext } from "@azure/functions";
import { buildCollectionPolicy } from "../shared/timing";
import type { CollectionSettings } from "../shared/config";
import { jsonLogger } from "../shared/log";
import { playbookNames, type PlaybookCatalog } from "../shared/playbooks";
import {
  idempotencyKeyProblem,
  REQUEST_LIMITS,
  validateCollectionRequest,
  type CollectionRequestBody,
  type FieldProblem,
  type Validated,
} from "../shared/validation";
import { durableFor, type DurableDeps } from "./durableAccess";
import { callerOf, errorResponse, readJsonBody } from "./http";
import { startPlaybookCollection, type CollectionCommands } from "./startCollection";

export interface LiveResponseStartDeps extends DurableDeps {
  collection: CollectionSettings;
  playbooks?: PlaybookCatalog;
  now: () => Date;
}

/** A client-supplied idempotency key always maps to the same instance id, so a retried webhook starts nothing twice. */
export function instanceIdForKey(key: string): string {
  return `lr-${createHash("sha256").update(key, "utf8").digest("hex").slice(0, 40)}`;
}

/**
 * POST /api/liveresponse: validates the request completely before anything starts (raw `commands`,
 * or a `playbook` rendered with its parameters and validated again), then starts the collection and
 * answers 202 with the durable status URLs.
 */
export function createLiveResponseStart(deps: LiveResponseStartDeps) {
  const playbooks = deps.playbooks ?? new Map();
  return async function liveResponseStart(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit | HttpResponse> {
    const log = jsonLogger(context);
    const refuse = (problems: FieldProblem[]): HttpResponseInit => {
      log.warn("live response request refused", { problems: problems.map((p) => p.field).join(",") });
      return errorResponse(400, "InvalidRequest", "The request is not valid; nothing was started. See details.", problems);
    };
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
    if (!validated.ok || problems.length > 0) return refuse(problems);
    const run = runOf(validated.value, (body.value as { comment?: unknown }).comment !== undefined, playbooks);
    if (!run.ok) return refuse(run.problems);
    const { machineId, playbook } = validated.value;
    const key = validated.value.idempotencyKey ?? headerKey;

    const durable = durableFor(deps, context);
    const now = deps.now();
    const outcome = await startPlaybookCollection({
      durable,
      instanceId: key ? instanceIdForKey(key) : undefined,
      machineId,
      run: run.value,
      trigger: { kind: "webhook", caller: callerOf(request), idempotencyKey: key, receivedAt: now.toISOString(), playbook: playbook?.name },
      policy: buildCollectionPolicy(deps.collection, now),
    });
    if (outcome.kind === "refused") return refuse(outcome.problems.map((p) => ({ field: `playbook.${p.field}`, message: p.message })));
    const { commands } = outcome.input.request;
    if (outcome.kind === "alreadyStarted") {
      const previous = outcome.existing?.request;
      if (previous && (previous.machineId !== machineId || JSON.stringify(previous.commands) !== JSON.stringify(commands))) {
        return errorResponse(409, "IdempotencyKeyReused", "This idempotency key was already used for a different request; use a new key.");
      }
      log.info("collection already started for this idempotency key", { instanceId: outcome.instanceId, machineId });
    } else {
      log.info("collection started", { instanceId: outcome.instanceId, machineId, commands: commands.length, playbook: playbook?.name });
    }
    return durable.client.createCheckStatusResponse(request, outcome.instanceId);
  };
}

/** The commands as given, or the named playbook rendered for this machine; the playbook's comment unless the caller gave one. */
function runOf(body: CollectionRequestBody, commentGiven: boolean, playbooks: PlaybookCatalog): Validated<CollectionCommands> {
  if (!body.playbook) return { ok: true, value: { commands: body.commands!, comment: body.comment } };
  const playbook = playbooks.get(body.playbook.name);
  if (!playbook) {
    return { ok: false, problems: [{ field: "playbook.name", message: `unknown playbook; known: ${playbookNames(playbooks)}` }] };
  }
  return {
    ok: true,
    value: {
      playbook,
      values: { "machine.id": body.machineId },
      parameters: body.playbook.parameters,
      comment: commentGiven ? body.comment : undefined,
      defaultComment: body.comment,
    },
  };
}
