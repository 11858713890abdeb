/**
 * Timer `collectionSweep` (every 15 minutes): no collection ends without a record. An orchestration
 * terminated through the Durable API, or failed by a crash (the manifest write outlasting its
 * retries included), ends without the orchestrator's own manifest and may leave its MDE action
 * pending, holding the device's one live response session. The sweep finds such instances
 * (runtime status Terminated or Failed, created within the last {@link SWEEP_LOOKBACK_IN_MS}),
 * cancels their MDE action when it is not final, and writes a manifest that says what happened
 * (outcome `Terminated` or `Crashed`, the action as MDE last reported it, the results already in
 * the container) through the manifest writer, signed like any other.
 *
 * The swept instance's session slot goes back to the tenant-wide governor (its lease would free it
 * anyway, later). Every MDE call of the sweep (the lookup of its action, the read and the cancel) is
 * asked of the governor first like any other; when it says wait, the instance waits for the next sweep.
 *
 * Idempotent: an instance whose manifest (or its `manifest-{instanceId}.json`) exists is left
 * alone, so a second sweep changes nothing. A transient failure (429, 5xx, network) skips the
 * instance until the next sweep; nothing is written half-known.
 */
import type { InvocationContext, Timer } from "@azure/functions";
import type { DurableOrchestrationStatus } from "durable-functions";
import * as df from "durable-functions";
import { Governed } from "../activities/governed";
import { findOwnAction } from "../activities/ownAction";
import { writeManifestDocument, type ManifestWriterDeps } from "../activities/writeManifest";
import { COLLECT_EVIDENCE_ORCHESTRATOR, type CollectEvidenceInput, type CollectionOutcome, type EvidenceRecord } from "../shared/contract";
import type { Manifest } from "../shared/contract";
import { alternateManifestBlobName, evidenceBlobName, manifestBlobName } from "../shared/evidence/blobPath";
import { buildManifest, producesResult } from "../shared/evidence/manifest";
import { MdeApiError } from "../shared/errors";
import type { ReadEndpoint } from "../shared/governor/governorDocument";
import { jsonLogger, type Logger } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";
import { isFinalActionStatus, type LiveResponseCommand, type MachineAction } from "../shared/mde/models";
import { describeFailure, publicMessage } from "../shared/publicMessage";
import { submissionsNotBefore } from "../shared/timing";
import { durableFor, type DurableDeps } from "./durableAccess";

/** Instances live up to three days (README, "Timing"); a week covers one terminated at its very end, with margin. */
export const SWEEP_LOOKBACK_IN_MS = 7 * 24 * 60 * 60 * 1000;
/** Every 15 minutes, at second 0. */
export const COLLECTION_SWEEP_SCHEDULE = "0 */15 * * * *";

export interface CollectionSweepDeps extends DurableDeps {
  mde: MdeApi;
  /** The manifest writer's dependencies (the same writer the orchestration uses), its governor included. */
  writer: ManifestWriterDeps;
  now: () => Date;
}

/** What the sweep did with one instance. */
export type SweepResult = "manifestWritten" | "alreadyRecorded" | "skipped";

export function createCollectionSweep(deps: CollectionSweepDeps) {
  return async function collectionSweep(_timer: Timer, context: InvocationContext): Promise<void> {
    const log = jsonLogger(context, { function: "collectionSweep" });
    const durable = durableFor(deps, context);
    const found = await durable.client.getStatusBy({
      runtimeStatus: [df.OrchestrationRuntimeStatus.Terminated, df.OrchestrationRuntimeStatus.Failed],
      createdTimeFrom: new Date(deps.now().getTime() - SWEEP_LOOKBACK_IN_MS),
    });
    const counts: Record<SweepResult, number> = { manifestWritten: 0, alreadyRecorded: 0, skipped: 0 };
    for (const listed of found) {
      if (listed.name !== COLLECT_EVIDENCE_ORCHESTRATOR) continue;
      try {
        // The query may leave out inputs; the instance's own status carries them.
        const status = await durable.findStatus(listed.instanceId);
        if (!status) continue;
        counts[await sweepOne(deps, status, context, log)]++;
      } catch (e) {
        counts.skipped++;
        log.error("collection sweep failed for an instance; retried next sweep", {
          instanceId: listed.instanceId,
          detail: describeFailure(e),
        });
      }
    }
    log.info("collection sweep done", { ...counts });
  };
}

/** Records one ended instance, unless it is recorded already. */
async function sweepOne(
  deps: CollectionSweepDeps,
  status: DurableOrchestrationStatus,
  context: InvocationContext,
  log: Logger,
): Promise<SweepResult> {
  const { instanceId } = status;
  const input = status.input as Partial<CollectEvidenceInput> | undefined;
  const request = input?.request;
  if (!request || typeof request.machineId !== "string" || !Array.isArray(request.commands)) {
    log.warn("ended instance without a collection request; not swept", { instanceId });
    return "skipped";
  }
  const custom = (typeof status.customStatus === "object" && status.customStatus !== null ? status.customStatus : {}) as {
    actionId?: unknown;
  };
  let action: MachineAction | undefined = input.progress?.action;
  let actionId = typeof custom.actionId === "string" ? custom.actionId : action?.id;
  const startedAt = input.progress?.startedAt ?? status.createdTime.toISOString();
  if (!actionId) {
    // Terminated before the status named an action: MDE may still have taken it. Found by the comment's marker.
    const marker = `[collector:${instanceId}]`;
    const found = await findOwnAction(
      deps.mde,
      {
        machineId: request.machineId,
        commands: request.commands,
        comment: `${request.comment} ${marker}`,
        correlationMarker: marker,
        notBefore: submissionsNotBefore(startedAt),
      },
      log,
      new Governed(deps.writer, log),
    );
    if (found && "kind" in found) {
      if (found.kind === "throttled") return "skipped";
    } else if (found) actionId = found.id;
  }

  // Where the orchestrator, or an earlier sweep, would have put it (unsubmitted-… when MDE refused to report the action).
  const names = [actionId, `unsubmitted-${instanceId}`]
    .filter((id): id is string => id !== undefined)
    .map((id) => manifestBlobName({ prefix: deps.writer.evidencePrefix, machineId: request.machineId, actionId: id }))
    .flatMap((name) => [name, alternateManifestBlobName(name, instanceId)]);
  for (const name of names) if (await deps.writer.readDocument(name)) return "alreadyRecorded";

  let cancelAction = "no MDE action";
  if (actionId) {
    const ended = await endAction(deps.mde, actionId, instanceId, new Governed(deps.writer, log));
    if (ended.kind === "transient") {
      log.warn("collection sweep could not end the MDE action; retried next sweep", { instanceId, actionId, detail: ended.detail });
      return "skipped";
    }
    action = ended.action ?? action;
    cancelAction = ended.note;
  }

  const { collected, collectionErrors } = await storedResults(deps.writer, request.machineId, actionId, request.commands);
  const terminated = String(status.runtimeStatus) === "Terminated";
  const outcome: CollectionOutcome = terminated ? "Terminated" : "Crashed";
  const said = publicMessage(typeof status.output === "string" ? status.output : JSON.stringify(status.output ?? null));
  const outcomeReason = terminated
    ? `the orchestration was terminated through the Durable API (reason: ${said || "none given"}); ${cancelAction}`
    : `the orchestration failed without writing its manifest: ${said}; ${cancelAction}`;
  const manifest: Manifest = {
    ...buildManifest({
      instanceId,
      trigger: request.trigger,
      request: { machineId: request.machineId, comment: request.comment, commands: request.commands },
      outcome,
      outcomeReason,
      startedAt,
      finishedAt: status.lastUpdatedTime.toISOString(),
      cancellation: input.progress?.cancellation,
      action,
      collected,
      collectionErrors,
    }),
    sweep: { runtimeStatus: String(status.runtimeStatus), lastUpdatedTime: status.lastUpdatedTime.toISOString(), cancelAction },
  };
  const written = await writeManifestDocument(deps.writer, manifest, context.invocationId, context);
  log.info("collection sweep wrote a manifest", { instanceId, actionId: actionId ?? null, outcome, blobName: written.blobName });
  await new Governed(deps.writer, log).release(instanceId);
  return "manifestWritten";
}

type Ended = { kind: "ended"; action?: MachineAction; note: string } | { kind: "transient"; detail: string };

/** The governor said wait before one of the sweep's calls: the instance is left for the next sweep. */
class GovernorWait extends Error {}

/** One MDE call, asked of the governor first; a 429 backs the whole tenant off, as from any activity. */
async function governedCall<T>(governed: Governed, endpoint: ReadEndpoint, call: () => Promise<T>): Promise<T> {
  const wait = await governed.beforeRead(endpoint);
  if (wait) throw new GovernorWait(`the governor asked to wait before ${endpoint} (${Math.ceil((wait.retryAfterInMs ?? 0) / 1000)} s)`);
  try {
    return await call();
  } catch (e) {
    await governed.afterError(endpoint, e);
    throw e;
  }
}

/** Cancels the action unless MDE already ended it; the action as MDE reports it afterwards. */
async function endAction(mde: MdeApi, actionId: string, instanceId: string, governed: Governed): Promise<Ended> {
  const read = () => governedCall(governed, "getMachineAction", () => mde.getMachineAction(actionId));
  try {
    const before = await read();
    if (isFinalActionStatus(before.status)) return { kind: "ended", action: before, note: `the MDE action was already ${before.status}` };
    const comment = `Collection ${instanceId} ended without finishing; cancelled by the collector's sweep`;
    await governedCall(governed, "cancel", () => mde.cancelMachineAction(actionId, comment));
    return { kind: "ended", action: await read(), note: "the MDE action was cancelled by the sweep" };
  } catch (e) {
    if (e instanceof GovernorWait) return { kind: "transient", detail: e.message };
    if (e instanceof MdeApiError && e.statusCode !== undefined && e.statusCode !== 429 && e.statusCode < 500) {
      return { kind: "ended", note: `MDE refused to end the action: ${publicMessage(describeFailure(e))}` };
    }
    return { kind: "transient", detail: describeFailure(e) };
  }
}

/** The results already committed in the container, found by their names (the collect activity's, deterministic). */
async function storedResults(
  writer: ManifestWriterDeps,
  machineId: string,
  actionId: string | undefined,
  commands: LiveResponseCommand[],
): Promise<{ collected: EvidenceRecord[]; collectionErrors: { index: number; code: string; message: string }[] }> {
  const collected: EvidenceRecord[] = [];
  const collectionErrors: { index: number; code: string; message: string }[] = [];
  if (!actionId) return { collected, collectionErrors };
  for (const [index, command] of commands.entries()) {
    if (!producesResult(command.type)) continue;
    const blobName = evidenceBlobName({
      prefix: writer.evidencePrefix,
      machineId,
      actionId,
      index,
      type: command.type,
      name: resultName(command),
    });
    try {
      const stored = await writer.evidence.find(blobName);
      if (stored) collected.push({ ...stored, created: false, linkFetches: 0, index, type: command.type });
    } catch (e) {
      collectionErrors.push({ index, code: "NotEvidence", message: publicMessage(describeFailure(e)) });
    }
  }
  return { collected, collectionErrors };
}

/** The script name or file path the collect activity names a result after (activities/collectCommandResult.ts). */
function resultName(command: LiveResponseCommand): string {
  const key = command.type === "RunScript" ? "ScriptName" : command.type === "GetFile" ? "Path" : "FileName";
  return command.params.find((p) => p.key === key)?.value ?? command.type;
}
