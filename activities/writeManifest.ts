import type { InvocationContext } from "@azure/functions";
import { alternateManifestBlobName, manifestBlobName } from "../shared/evidence/blobPath";
import type { BuildInfo } from "../shared/evidence/buildInfo";
import { INTEGRITY_ERROR } from "../shared/evidence/integrity";
import { jsonDocument } from "../shared/evidence/jsonDocument";
import { signatureBlobNameOf, signManifest, type ManifestSigner } from "../shared/evidence/signing/manifestSignature";
import { timestampManifest } from "../shared/evidence/timestamp/manifestTimestamp";
import type { TimestampAuthorityClient } from "../shared/evidence/timestamp/timestampRequest";
import type { CopyResult, EvidenceStore } from "../shared/evidence/types";
import { CollectorError, MdeApiError } from "../shared/errors";
import { jsonLogger, type Logger, type LogSink } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";
import type { Manifest, WriteManifestInput, WriteManifestOutput } from "../shared/contract";
import { describeFailure, publicMessage } from "../shared/publicMessage";
import { withPublicFaults } from "./activityFault";
import { Governed, type GovernorPort } from "./governed";

type DocumentOptions = { metadata: Record<string, string>; tags?: Record<string, string> };

/** What writing a manifest needs; the collectionSweep timer writes through the same path. */
export interface ManifestWriterDeps {
  evidence: EvidenceStore;
  evidencePrefix: string;
  signer: ManifestSigner;
  /** Re-reads the final action as MDE returns it (see {@link withCollectorFields}). */
  mde: Pick<MdeApi, "getMachineActionAsReturned">;
  /** The deployed build (dist/buildInfo.json). */
  build: BuildInfo;
  now: () => Date;
  /** The bytes of a small document in the evidence container, or undefined when there is none. */
  readDocument: (blobName: string) => Promise<Buffer | undefined>;
  /** The tenant-wide governor: asked before the raw re-read; the collection's session slot is released here. */
  governor?: GovernorPort;
  /** MANIFEST_TIMESTAMP_URL's TSA: each manifest written gets an RFC 3161 token beside it. @default no timestamps */
  timestamps?: TimestampAuthorityClient;
}

/** Fields this writer adds to the orchestrator's manifest: they differ from one attempt to the next. */
const WRITER_FIELDS = ["collector", "machineActionAsReturned"] as const;

/**
 * Writes the manifest last, conditionally, with its signature beside it (`manifest.signature.json`:
 * the manifest's SHA-256 signed by the deployment's key, see shared/evidence/signing). A collection
 * MDE never accepted has no action id; its manifest goes under `unsubmitted-{instanceId}` so that
 * refusals are on record beside the evidence.
 *
 * The orchestrator's manifest is completed here with what only an activity can know: the final
 * action re-read raw from MDE (a raw action in the orchestration history would grow every execution),
 * the build, this invocation's id and the collector's clock. Those differ between attempts, so a
 * retried call first reads what is at the name: a manifest whose every other field is this one's
 * is an earlier attempt of this write, and it is kept as it is (its signature, deterministic, is
 * completed if missing).
 *
 * A name already holding another document (a manifest planted before the collection finished) is
 * an integrity error, never a "manifest already present": the planted document is left as it is,
 * and this collection's manifest, recording the error, goes to `manifest-{instanceId}.json` with
 * its own signature; the output says so.
 *
 * With a TSA configured (MANIFEST_TIMESTAMP_URL), the manifest's RFC 3161 token goes beside it
 * (`manifest.timestamp.tsr`, shared/evidence/timestamp) once manifest and signature are stored;
 * best effort: a TSA failure is a warning in the output, never a failed write.
 */
export function createWriteManifest(deps: ManifestWriterDeps) {
  return withPublicFaults(async function writeManifest(
    input: WriteManifestInput,
    context: InvocationContext,
  ): Promise<WriteManifestOutput> {
    // The end of every collection: its session slot goes back (idempotent; a slot never taken changes nothing).
    await new Governed(deps, jsonLogger(context, { instanceId: input.manifest.instanceId })).release(input.manifest.instanceId);
    return writeManifestDocument(deps, input.manifest, context.invocationId, context);
  });
}

/** The manifest write itself, for the activity and the collectionSweep timer. */
export async function writeManifestDocument(
  deps: ManifestWriterDeps,
  m: Manifest,
  invocationId: string,
  sink: LogSink,
): Promise<WriteManifestOutput> {
  const actionId = m.machineAction?.id ?? `unsubmitted-${m.instanceId}`;
  const log = jsonLogger(sink, { instanceId: m.instanceId, machineId: m.request.machineId, actionId });
  const blobName = manifestBlobName({ prefix: deps.evidencePrefix, machineId: m.request.machineId, actionId });
  const options: DocumentOptions = {
    metadata: { machineid: m.request.machineId, actionid: actionId, instanceid: m.instanceId, outcome: m.outcome, kind: "manifest" },
    tags: { machineId: m.request.machineId, actionId, outcome: m.outcome },
  };
  let completed: Manifest | undefined;
  const complete = async () => (completed ??= await withCollectorFields(deps, m, invocationId, log));
  const first = await writeSigned(deps, blobName, (await earlierAttempt(deps, blobName, m)) ?? (await complete()), options);
  if (first.ok) {
    log.info(first.written.created ? "manifest written" : "manifest already present", { blobName, outcome: m.outcome });
    return { ...outputOf(first.written), ...(await timestamped(deps, first, options, log)) };
  }
  const integrityError = { code: INTEGRITY_ERROR, message: first.message } as const;
  const alternate = alternateManifestBlobName(blobName, m.instanceId);
  log.error("manifest name taken by a document this collection did not write; integrity error", {
    blobName: first.blobName,
    writtenTo: alternate,
  });
  const recordedBase: Manifest = { ...m, integrityErrors: [...(m.integrityErrors ?? []), { blobName: first.blobName, ...integrityError }] };
  const recorded = (await earlierAttempt(deps, alternate, recordedBase)) ?? {
    ...recordedBase,
    ...pick(await complete()),
  };
  const second = await writeSigned(deps, alternate, recorded, options);
  // Both names taken: nothing more can be done here; the fault says so and the runtime retries.
  if (!second.ok) throw new CollectorError(INTEGRITY_ERROR, `${first.message}; and ${second.message}`);
  return { ...outputOf(second.written), integrityError, ...(await timestamped(deps, second, options, log)) };
}

/** After the manifest and its signature are stored: its RFC 3161 token, when a TSA is configured (never fatal). */
async function timestamped(deps: ManifestWriterDeps, signed: Extract<SignedWrite, { ok: true }>, options: DocumentOptions, log: Logger) {
  if (!deps.timestamps) return {};
  const { blobName } = signed.written;
  return timestampManifest(
    { evidence: deps.evidence, readDocument: deps.readDocument, timestamps: deps.timestamps },
    blobName,
    signed.bytes,
    options,
    log,
  );
}

/** The manifest an earlier attempt of this write left at the name (same fields but the writer's own), or undefined. */
async function earlierAttempt(deps: ManifestWriterDeps, blobName: string, m: Manifest): Promise<Manifest | undefined> {
  const bytes = await deps.readDocument(blobName);
  if (!bytes) return undefined;
  let stored: unknown;
  try {
    stored = JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof stored !== "object" || stored === null || Array.isArray(stored)) return undefined;
  const collector = (stored as Manifest).collector;
  if (typeof collector !== "object" || collector === null) return undefined;
  return jsonDocument(withoutWriterFields(stored as Manifest)).equals(jsonDocument(withoutWriterFields(m)))
    ? (stored as Manifest)
    : undefined;
}

function withoutWriterFields(m: Manifest): Manifest {
  const copy = { ...m };
  for (const field of WRITER_FIELDS) delete copy[field];
  return copy;
}

function pick(m: Manifest): Pick<Manifest, (typeof WRITER_FIELDS)[number]> {
  return { collector: m.collector, machineActionAsReturned: m.machineActionAsReturned };
}

/**
 * The manifest with the writer's fields: the action as MDE returns it now (final, so what MDE keeps),
 * and the collector's build, invocation and clock. A failed re-read is recorded, never fatal: the
 * mapped action is already in the manifest.
 */
async function withCollectorFields(deps: ManifestWriterDeps, m: Manifest, invocationId: string, log: Logger): Promise<Manifest> {
  let machineActionAsReturned: Manifest["machineActionAsReturned"];
  if (!m.machineAction) machineActionAsReturned = { unavailable: "MDE never accepted an action for this collection" };
  else if (!deps.mde.getMachineActionAsReturned) machineActionAsReturned = { unavailable: "the MDE client offers no raw read" };
  else if (await new Governed(deps, log).beforeRead("getMachineAction")) {
    // Waiting would hold the manifest (and its collection) back; the mapped action is already in it.
    machineActionAsReturned = { unavailable: "the tenant-wide governor held the re-read back: MDE's read budget is in use" };
  } else {
    try {
      machineActionAsReturned = await deps.mde.getMachineActionAsReturned(m.machineAction.id);
    } catch (e) {
      await new Governed(deps, log).afterError("getMachineAction", e);
      const reason =
        e instanceof MdeApiError && e.statusCode === 429
          ? "MDE throttled the re-read (429)"
          : `MDE re-read failed: ${publicMessage(describeFailure(e))}`;
      log.warn("machine action could not be re-read for the manifest", { reason });
      machineActionAsReturned = { unavailable: reason };
    }
  }
  return {
    ...m,
    machineActionAsReturned,
    collector: {
      version: deps.build.version,
      commit: deps.build.commit,
      manifestInvocationId: invocationId,
      manifestWrittenAt: deps.now().toISOString(),
    },
  };
}

function outputOf(written: CopyResult): WriteManifestOutput {
  return { blobName: written.blobName, blobUrl: written.blobUrl, sha256: written.sha256, created: written.created };
}

type SignedWrite =
  | { ok: true; written: CopyResult; /** The manifest's bytes as stored. */ bytes: Buffer }
  | { ok: false; blobName: string; message: string };

/**
 * Signs the manifest's bytes first (a signer outage leaves nothing half written), then writes the
 * manifest and its signature document, each conditionally.
 * @returns the manifest written, or the name that holds another document (an integrity error)
 */
async function writeSigned(
  deps: { evidence: EvidenceStore; signer: ManifestSigner },
  blobName: string,
  manifest: Manifest,
  options: DocumentOptions,
): Promise<SignedWrite> {
  const bytes = jsonDocument(manifest);
  const signature = await signManifest(deps.signer, blobName, bytes);
  const signatureName = signatureBlobNameOf(blobName);
  let name = blobName;
  try {
    const written = await deps.evidence.writeJson(blobName, manifest, options);
    name = signatureName;
    await deps.evidence.writeJson(signatureName, signature, {
      metadata: { ...options.metadata, kind: "manifest-signature", signingkey: signature.keyId },
      tags: options.tags,
    });
    return { ok: true, written, bytes };
  } catch (e) {
    if (!(e instanceof CollectorError && e.code === INTEGRITY_ERROR)) throw e;
    return { ok: false, blobName: name, message: publicMessage(e.message) };
  }
}
