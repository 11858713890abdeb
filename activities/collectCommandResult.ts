import type { InvocationContext } from "@azure/functions";
import { evidenceBlobName } from "../shared/evidence/blobPath";
import { INTEGRITY_ERROR } from "../shared/evidence/integrity";
import { parseTranscript, TRANSCRIPT_MAX_BYTES } from "../shared/evidence/transcript";
import type { CopyResult, EvidenceStore } from "../shared/evidence/types";
import { CollectorError } from "../shared/errors";
import { jsonLogger } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";
import type { LiveResponseCommand } from "../shared/mde/models";
import type { CollectInput, CollectOutput, EvidenceRecord, Throttled } from "../shared/contract";
import { publicMessage } from "../shared/publicMessage";
import { withPublicFaults } from "./activityFault";
import { Governed, type GovernorDeps } from "./governed";
import { expectedMdeFailure } from "./mdeFailure";

/**
 * Fetches a command's download link and copies the result into the evidence container in the same
 * activity, so the 30-minute link is never stale; an expired or broken link is fetched again by the
 * writer. Safe to run twice: a committed blob is read back, checked and returned as it is, without
 * calling MDE. A blob that is not the evidence (code `IntegrityError`) ends the command's collection
 * with that error on record.
 * Each download link is asked of the tenant-wide governor first (only when the writer needs one: a
 * committed blob costs no MDE call); a wait comes back as `throttled`, like MDE's 429.
 * @param deps.chunkBytes - bytes one call copies (EVIDENCE_CHUNK_MIB): each call stays well inside the
 * Functions time limit and a restarted host loses at most one chunk
 */
export function createCollectCommandResult(
  deps: { mde: MdeApi; evidence: EvidenceStore; evidencePrefix: string; chunkBytes: number } & GovernorDeps,
) {
  return withPublicFaults(async function collectCommandResult(input: CollectInput, context: InvocationContext): Promise<CollectOutput> {
    const { machineId, actionId, index, command } = input;
    const log = jsonLogger(context, { instanceId: input.instanceId, machineId, actionId, commandIndex: index });
    const blobName = evidenceBlobName({
      prefix: deps.evidencePrefix,
      machineId,
      actionId,
      index,
      type: command.type,
      name: resultName(command),
    });
    const isScript = command.type === "RunScript";
    const governed = new Governed(deps, log);
    const link = async (): Promise<string> => {
      const wait = await governed.beforeRead("downloadLink");
      if (wait) throw new GovernorWait(wait);
      try {
        return await deps.mde.getLiveResponseResultDownloadLink(actionId, index);
      } catch (e) {
        await governed.afterError("downloadLink", e);
        throw e;
      }
    };
    let copy: CopyResult;
    try {
      const progress = await deps.evidence.copyChunk(link, input.chunk, {
        chunkBytes: deps.chunkBytes,
        blobName,
        contentType: isScript ? "application/json" : "application/octet-stream",
        metadata: {
          machineid: machineId,
          actionid: actionId,
          commandindex: String(index),
          commandtype: command.type,
          instanceid: input.instanceId,
          // Metadata values travel as HTTP headers: percent-encode the path or script name.
          source: encodeURIComponent(wellFormed(resultName(command))),
        },
        tags: { machineId, actionId },
        captureHeadBytes: isScript ? TRANSCRIPT_MAX_BYTES : undefined,
      });
      if (!progress.result) {
        log.info("evidence chunk staged", { blobName, offset: progress.state.offset, chunks: progress.state.chunks });
        return { kind: "inProgress", chunk: progress.state };
      }
      copy = progress.result;
    } catch (e) {
      if (e instanceof GovernorWait) return e.throttled;
      const outcome = expectedMdeFailure(e);
      if (outcome) return outcome;
      if (e instanceof CollectorError && (e.code === "UntrustedDownloadLink" || e.code === INTEGRITY_ERROR)) {
        // An integrity error: the blob at the evidence name is not what this copy read (planted, altered,
        // or changed after the commit). Retrying cannot help; it goes into the manifest and the status.
        if (e.code === INTEGRITY_ERROR) log.error("evidence integrity error", { blobName, code: e.code });
        return { kind: "rejected", code: e.code, message: publicMessage(e.message) };
      }
      if (e instanceof CollectorError && (e.code === "SourceChanged" || e.code === "InvalidCopyState")) {
        // The staged blocks no longer describe one source: copy again from the first byte.
        log.warn("evidence copy restarts from the beginning", { blobName, code: e.code });
        return { kind: "inProgress" };
      }
      throw e;
    }
    const { head, ...stored } = copy;
    const evidence: EvidenceRecord = { ...stored, index, type: command.type, invocationId: context.invocationId };
    if (isScript) {
      const parsed = head ? parseTranscript(head, copy.size) : { error: "RunScript result was not read back for parsing" };
      if ("transcript" in parsed) evidence.transcript = parsed.transcript;
      else evidence.transcriptError = parsed.error;
    }
    log.info(copy.created ? "evidence committed" : "evidence already present", {
      blobName: copy.blobName,
      size: copy.size,
      sha256: copy.sha256,
      linkFetches: copy.linkFetches,
    });
    return { kind: "collected", evidence };
  });
}

/** The governor said wait before a link fetch: carried out of the evidence writer, answered as MDE's 429. */
class GovernorWait extends Error {
  constructor(readonly throttled: Throttled) {
    super("the tenant-wide governor asked to wait before fetching a download link");
  }
}

/**
 * The text with each lone UTF-16 surrogate replaced by U+FFFD: valid JSON and the request validation
 * let one through in a GetFile path, and encodeURIComponent throws URIError on it.
 */
function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

/** The script name, or the file path a GetFile collected (the blob name keeps only its base name). */
function resultName(command: LiveResponseCommand): string {
  const key = command.type === "RunScript" ? "ScriptName" : command.type === "GetFile" ? "Path" : "FileName";
  return command.params.find((p) => p.key === key)?.value ?? command.type;
}
