import type { InvocationContext } from "@azure/functions";
import { alternateManifestBlobName, manifestBlobName } from "../shared/evidence/blobPath";
import { INTEGRITY_ERROR } from "../shared/evidence/integrity";
import { jsonDocument } from "../shared/evidence/jsonDocument";
import { signatureBlobNameOf, signManifest, type ManifestSigner } from "../shared/evidence/signing/manifestSignature";
import type { CopyResult, EvidenceStore } from "../shared/evidence/types";
import { CollectorError } from "../shared/errors";
import { jsonLogger } from "../shared/log";
import type { Manifest, WriteManifestInput, WriteManifestOutput } from "../shared/contract";
import { publicMessage } from "../shared/publicMessage";
import { withPublicFaults } from "./activityFault";

type DocumentOptions = { metadata: Record<string, string>; tags?: Record<string, string> };

/**
 * Writes the manifest last, conditionally, with its signature beside it (`manifest.signature.json`:
 * the manifest's SHA-256 signed by the deployment's key, see shared/evidence/signing). A retried or
 * replayed call finds both with the same bytes and leaves them as they are (the signature is
 * deterministic). A collection MDE never accepted has no action id; its manifest goes under
 * `unsubmitted-{instanceId}` so that refusals are on record beside the evidence.
 *
 * A name already holding another document (a manifest planted before the collection finished) is
 * an integrity error, never a "manifest already present": the planted document is left as it is,
 * and this collection's manifest, recording the error, goes to `manifest-{instanceId}.json` with
 * its own signature; the output says so.
 */
export function createWriteManifest(deps: { evidence: EvidenceStore; evidencePrefix: string; signer: ManifestSigner }) {
  return withPublicFaults(async function writeManifest(
    input: WriteManifestInput,
    context: InvocationContext,
  ): Promise<WriteManifestOutput> {
    const m = input.manifest;
    const actionId = m.machineAction?.id ?? `unsubmitted-${m.instanceId}`;
    const log = jsonLogger(context, { instanceId: m.instanceId, machineId: m.request.machineId, actionId });
    const blobName = manifestBlobName({ prefix: deps.evidencePrefix, machineId: m.request.machineId, actionId });
    const options: DocumentOptions = {
      metadata: { machineid: m.request.machineId, actionid: actionId, instanceid: m.instanceId, outcome: m.outcome, kind: "manifest" },
      tags: { machineId: m.request.machineId, actionId, outcome: m.outcome },
    };
    const first = await writeSigned(deps, blobName, m, options);
    if (first.ok) {
      log.info(first.written.created ? "manifest written" : "manifest already present", { blobName, outcome: m.outcome });
      return outputOf(first.written);
    }
    const integrityError = { code: INTEGRITY_ERROR, message: first.message } as const;
    const alternate = alternateManifestBlobName(blobName, m.instanceId);
    log.error("manifest name taken by a document this collection did not write; integrity error", {
      blobName: first.blobName,
      writtenTo: alternate,
    });
    const recorded: Manifest = { ...m, integrityErrors: [...(m.integrityErrors ?? []), { blobName: first.blobName, ...integrityError }] };
    const second = await writeSigned(deps, alternate, recorded, options);
    // Both names taken: nothing more can be done here; the fault says so and the runtime retries.
    if (!second.ok) throw new CollectorError(INTEGRITY_ERROR, `${first.message}; and ${second.message}`);
    return { ...outputOf(second.written), integrityError };
  });
}

function outputOf(written: CopyResult): WriteManifestOutput {
  return { blobName: written.blobName, blobUrl: written.blobUrl, sha256: written.sha256, created: written.created };
}

type SignedWrite = { ok: true; written: CopyResult } | { ok: false; blobName: string; message: string };

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
  const signature = await signManifest(deps.signer, blobName, jsonDocument(manifest));
  const signatureName = signatureBlobNameOf(blobName);
  let name = blobName;
  try {
    const written = await deps.evidence.writeJson(blobName, manifest, options);
    name = signatureName;
    await deps.evidence.writeJson(signatureName, signature, {
      metadata: { ...options.metadata, kind: "manifest-signature", signingkey: signature.keyId },
      tags: options.tags,
    });
    return { ok: true, written };
  } catch (e) {
    if (!(e instanceof CollectorError && e.code === INTEGRITY_ERROR)) throw e;
    return { ok: false, blobName: name, message: publicMessage(e.message) };
  }
}
