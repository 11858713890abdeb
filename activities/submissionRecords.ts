/**
 * One small record per collection, `submissions/<instanceId>.json` in the collector's state container
 * (shared/stateStorage.ts), written BEFORE each POST runliveresponse. It lets a submission skip the
 * lookup of an earlier attempt (a list machine actions call, from a budget of 1,500 an hour per
 * tenant) unless an earlier dispatch may really have reached MDE:
 * - no record: nothing was ever posted for this collection;
 * - `inFlight`: a POST was about to go out and its answer was never recorded (host crash, lost
 *   answer, timeout, 5xx): MDE may have created the action, so the caller looks it up first;
 * - `resolved`: the last POST had a definitive answer (201, 429, a refusal), so nothing is pending.
 * Every write is conditional on what was read, so two dispatches of the same activity cannot both
 * believe they are the first.
 */
import type { ContainerClient } from "@azure/storage-blob";
import { readBlobText, uploadJsonBlob } from "../shared/blobText";
import { storageStatusOf as statusOf, storageCodeOf as codeOf } from "../shared/storageErrors";

export type SubmissionState = "inFlight" | "resolved";

/** What was read before the POST, and the version a write must still find. */
export type SubmissionRead = { state: "none" } | { state: SubmissionState; etag: string };

export interface SubmissionRecords {
  /** The record's state (unreadable counts as `inFlight`: look up, the safe side). Throws on storage failure. */
  read(instanceId: string): Promise<SubmissionRead>;
  /**
   * Marks a POST about to go out, if the record is still as `read` found it.
   * @returns false when another dispatch changed it first (the caller then looks up before posting)
   */
  markInFlight(instanceId: string, read: SubmissionRead, at: Date): Promise<boolean>;
  /** The POST had a definitive answer (`outcome`: submitted, throttled, rejected, busy). Unconditional. */
  markResolved(instanceId: string, outcome: string, at: Date, actionId?: string): Promise<void>;
}

/** Far above a record's size; a larger blob is not ours and is read as unknown (inFlight). */
const MAX_RECORD_BYTES = 4096;

/** The record's blob name: the instance id, restricted to characters safe in a blob name. */
export function submissionRecordName(instanceId: string): string {
  return `submissions/${encodeURIComponent(instanceId)}.json`;
}

/** Records in `container`, created on first write when missing (local runs; in Azure the template creates it). */
export function blobSubmissionRecords(container: ContainerClient): SubmissionRecords {
  const upload = (instanceId: string, body: object, conditions: { ifNoneMatch?: string; ifMatch?: string }) =>
    uploadJsonBlob(container, submissionRecordName(instanceId), JSON.stringify(body), { conditions });
  return {
    async read(instanceId) {
      try {
        const response = await container.getBlobClient(submissionRecordName(instanceId)).download(0);
        const etag = response.etag!;
        const text = (response.contentLength ?? 0) > MAX_RECORD_BYTES ? "" : await readBlobText(response.readableStreamBody);
        const state = parseState(text);
        return { state: state ?? "inFlight", etag };
      } catch (e) {
        if (statusOf(e) === 404) return { state: "none" };
        throw e;
      }
    },
    async markInFlight(instanceId, read, at) {
      try {
        await upload(
          instanceId,
          { state: "inFlight", since: at.toISOString() },
          read.state === "none" ? { ifNoneMatch: "*" } : { ifMatch: read.etag },
        );
        return true;
      } catch (e) {
        // 412: changed since read; 409: created by another dispatch since read.
        if (statusOf(e) === 412 || (statusOf(e) === 409 && codeOf(e) === "BlobAlreadyExists")) return false;
        throw e;
      }
    },
    async markResolved(instanceId, outcome, at, actionId) {
      await upload(instanceId, { state: "resolved", outcome, at: at.toISOString(), ...(actionId ? { actionId } : {}) }, {});
    },
  };
}

function parseState(text: string): SubmissionState | undefined {
  try {
    const state = (JSON.parse(text) as { state?: unknown }).state;
    return state === "inFlight" || state === "resolved" ? state : undefined;
  } catch {
    return undefined;
  }
}
