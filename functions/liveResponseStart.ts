import { createHash, randomUUID } from "node:crypto";
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { CollectionSettings } from "../shared/config";
import type { CollectEvidenceInput } from "../shared/contract";
import type { AuditTrail } from "../shared/evidence/auditTrail";
import { recordAudit } from "./audit";
import { jsonLogger } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";
import { playbookNames, type PlaybookCatalog } from "../shared/playbooks";
import { buildCollectionPolicy } from "../shared/timing";
import {
  idempotencyKeyProblem,
  REQUEST_LIMITS,
  validateCollectionRequest,
  type CollectionRequestBody,
  type FieldProblem,
  type Validated,
} from "../shared/validation";
import { authorize, type EndpointAuth } from "./auth";
import { runScopeRefusal } from "./authRunScope";
import { durableFor, type DurableDeps } from "./durableAccess";
import { errorResponse, readJsonBody } from "./http";
import { checkInFlight, tooManyCollections, type InFlightLimits } from "./inFlightLimit";
import { startPlaybookCollection, type CollectionCommands } from "./startCollection";

export interface LiveResponseStartDeps extends DurableDeps {
  auth: EndpointAuth;
  /** Reads the device's tags when a caller's role is scoped by MDE machine tags. */
  mde: Pick<MdeApi, "listMachines">;
  limits: InFlightLimits;
  collection: CollectionSettings;
  playbooks?: PlaybookCatalog;
  /** GETFILE_ALLOW_UNC_PATHS. @default false */
  allowUncPaths?: boolean;
  now: () => Date;
  /** Where each start is recorded before Durable is asked (app.ts always gives one). */
  audit?: AuditTrail;
}

/** A client-supplied idempotency key always maps to the same instance id, so a retried webhook starts nothing twice. */
export function instanceIdForKey(key: string): string {
  return `lr-${createHash("sha256").update(key, "utf8").digest("hex").slice(0, 40)}`;
}

/** Seconds the 202 asks a caller to wait before its first status poll. */
const STATUS_RETRY_AFTER_SECONDS = 10;

/**
 * POST /api/liveresponse (app role granting `run`): validates the request completely and checks the
 * role's scope before anything starts (raw `commands`, or a `playbook` rendered with its parameters
 * and validated again), refuses past the in-flight limits, then starts the collection and answers
 * 202 with the app's own status and cancel URLs.
 */
export function createLiveResponseStart(deps: LiveResponseStartDeps) {
  const playbooks = deps.playbooks ?? new Map();
  const options = { allowUncPaths: deps.allowUncPaths === true };
  return async function liveResponseStart(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const log = jsonLogger(context);
    const refuse = (problems: FieldProblem[]): HttpResponseInit => {
      log.warn("live response request refused", {
        problems: problems
          .map((p) => p.field)
          .join(",")
          .slice(0, 1000),
      });
      return errorResponse(400, "InvalidRequest", "The request is not valid; nothing was started. See details.", problems);
    };
    const authorization = await authorize(request, deps.auth, "run");
    if (!authorization.ok) return authorization.response;
    const { caller, grants } = authorization;

    const body = await readJsonBody(request, REQUEST_LIMITS.maxBodyBytes);
    if (!body.ok) return body.response;
    const validated = validateCollectionRequest(body.value, options);
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

    const commandTypes = ("playbook" in run.value ? run.value.playbook.commands : run.value.commands).map((c) => c.type);
    const scopeRefusal = await runScopeRefusal(grants, { playbook: playbook?.name, commandTypes }, machineId, deps.mde, log);
    if (scopeRefusal) {
      log.warn("live response request outside the caller's role scope", {
        callerObjectId: caller.objectId,
        machineId,
        status: scopeRefusal.status,
      });
      return scopeRefusal;
    }

    const key = validated.value.idempotencyKey ?? headerKey;
    const instanceId = key ? instanceIdForKey(key) : undefined;
    const durable = durableFor(deps, context);
    // A retry of a collection already started is answered whatever the load: only new work is capped.
    const existing = instanceId ? await durable.findStatus(instanceId) : undefined;
    if (!existing) {
      const check = await checkInFlight(durable.inFlight(), caller.objectId, deps.limits);
      if (!check.ok) {
        log.warn("live response request refused: too many collections in flight", {
          callerObjectId: caller.objectId,
          limit: check.setting,
        });
        return tooManyCollections(check);
      }
    }

    const now = deps.now();
    // With an audit trail the instance id is drawn here (the GUID form Durable would draw), so the
    // record names the collection before it exists.
    const startId = instanceId ?? (deps.audit ? randomUUID().replace(/-/g, "") : undefined);
    if (startId) {
      // Fails closed: a collection that cannot be put on record is not started (503, nothing started).
      // A record whose start was then refused (409, a bad playbook) stays: it records a request.
      const detail = key && `idempotency key ${key}`;
      const refused = await recordAudit(
        deps.audit,
        request,
        context,
        { action: "start", instanceId: startId, caller, at: now, detail },
        { failClosed: true },
      );
      if (refused) return refused;
    }
    const outcome = await startPlaybookCollection({
      durable,
      instanceId: startId,
      machineId,
      run: run.value,
      trigger: { kind: "webhook", caller, idempotencyKey: key, receivedAt: now.toISOString(), playbook: playbook?.name },
      policy: buildCollectionPolicy(deps.collection, now),
      allowUncPaths: options.allowUncPaths,
    });
    if (outcome.kind === "refused") {
      return refuse(outcome.problems.map((p) => ({ field: playbook ? `playbook.${p.field}` : p.field, message: p.message })));
    }
    if (outcome.kind === "alreadyStarted") {
      if (!sameRequest(outcome.existing, outcome.input)) {
        return errorResponse(
          409,
          "IdempotencyKeyReused",
          "This idempotency key was already used for a different request (device, commands, playbook or comment); use a new key.",
        );
      }
      log.info("collection already started for this idempotency key", { instanceId: outcome.instanceId, machineId });
    } else {
      log.info("collection started", {
        instanceId: outcome.instanceId,
        machineId,
        commands: outcome.input.request.commands.length,
        playbook: playbook?.name,
        callerObjectId: caller.objectId,
        callerKind: caller.kind,
      });
    }
    return accepted(request, outcome.instanceId);
  };
}

/**
 * 202 with the app's own URLs only. `createCheckStatusResponse` would link to the Durable
 * extension's webhooks, whose `code=` is the extension's system key in Azure: valid for the whole
 * task hub (list, terminate, purge, raise events). The origin and route prefix are the request's
 * (Functions passes the URL the caller used).
 */
function accepted(request: HttpRequest, instanceId: string): HttpResponseInit {
  const url = new URL(request.url);
  const statusQueryGetUri = `${url.origin}${url.pathname.replace(/\/+$/, "")}/${encodeURIComponent(instanceId)}`;
  return {
    status: 202,
    headers: { Location: statusQueryGetUri, "Retry-After": String(STATUS_RETRY_AFTER_SECONDS) },
    jsonBody: { id: instanceId, statusQueryGetUri, cancelPostUri: `${statusQueryGetUri}/cancel` },
  };
}

/** Whether a start with a used idempotency key asks for what the key's collection runs. */
function sameRequest(existing: CollectEvidenceInput | undefined, asked: CollectEvidenceInput): boolean {
  const before = existing?.request;
  if (!before) return false;
  const playbookOf = (trigger: CollectEvidenceInput["request"]["trigger"]) => (trigger.kind === "webhook" ? trigger.playbook : undefined);
  return (
    before.machineId === asked.request.machineId &&
    before.comment === asked.request.comment &&
    playbookOf(before.trigger) === playbookOf(asked.request.trigger) &&
    JSON.stringify(before.commands) === JSON.stringify(asked.request.commands)
  );
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
