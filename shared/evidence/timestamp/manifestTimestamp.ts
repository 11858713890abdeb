/**
 * A manifest's RFC 3161 timestamp: the TSA's whole DER answer stored beside the manifest as
 * `manifest.timestamp.tsr`, so an examiner can run
 * `openssl ts -verify -data manifest.json -in manifest.timestamp.tsr -CAfile tsa-ca.pem`.
 * Best effort by design: the manifest and its signature are already stored, and a TSA outage,
 * refusal or bad answer leaves a warning, never a failed collection.
 */
import { createHash } from "node:crypto";
import type { Logger } from "../../log";
import type { EvidenceStore } from "../types";
import type { TimestampAuthorityClient } from "./timestampRequest";
import { parseTimestampResponse, TIMESTAMP_OIDS } from "./timestampToken";

/** The warning's code, in logs and in the manifest writer's output. */
export const TIMESTAMP_UNAVAILABLE = "TimestampUnavailable";

/** `…/manifest.json` → `…/manifest.timestamp.tsr` (and `manifest-x.json` → `manifest-x.timestamp.tsr`). */
export function timestampBlobNameOf(manifestBlobName: string): string {
  return manifestBlobName.replace(/\.json$/, "") + ".timestamp.tsr";
}

/** Whether a blob name is a manifest's timestamp token's. */
export function isTimestampBlobName(blobName: string): boolean {
  return blobName.endsWith(".timestamp.tsr");
}

/** What timestamping a manifest came to: a token stored (now or by an earlier attempt), or why there is none. */
export type ManifestTimestampResult =
  | { timestamp: { blobName: string; genTime: string; created: boolean } }
  | { timestampWarning: { code: typeof TIMESTAMP_UNAVAILABLE; reason: string; message: string } };

export interface ManifestTimestampDeps {
  evidence: Pick<EvidenceStore, "createDocument">;
  /** The bytes of a small document in the evidence container, or undefined when there is none. */
  readDocument: (blobName: string) => Promise<Buffer | undefined>;
  timestamps: TimestampAuthorityClient;
}

/**
 * Timestamps a stored manifest's bytes and stores the token beside it, created only if the name is
 * free. A token already there (a retried write) is kept when it is granted for this manifest's
 * SHA-256; the manifest's bytes never change once written, so any other token is not this one's.
 * Storage faults propagate (the activity is retried, like the manifest's own write); nothing the
 * TSA does is thrown.
 */
export async function timestampManifest(
  deps: ManifestTimestampDeps,
  manifestBlobName: string,
  manifestBytes: Buffer,
  document: { metadata: Record<string, string>; tags?: Record<string, string> },
  log: Logger,
): Promise<ManifestTimestampResult> {
  const blobName = timestampBlobNameOf(manifestBlobName);
  const sha256 = createHash("sha256").update(manifestBytes).digest("hex");
  const warning = (reason: string, message: string): ManifestTimestampResult => {
    log.warn("manifest not timestamped; the manifest stands without a token", { code: TIMESTAMP_UNAVAILABLE, reason, blobName, message });
    return { timestampWarning: { code: TIMESTAMP_UNAVAILABLE, reason, message } };
  };
  if (!deps.evidence.createDocument) return warning("TimestampNotStorable", "the evidence store cannot write binary documents");

  const present = await deps.readDocument(blobName);
  if (present) return kept(present);
  const outcome = await deps.timestamps.timestamp(manifestBytes);
  if (!outcome.ok) return warning(outcome.code, outcome.message);
  const written = await deps.evidence.createDocument(blobName, outcome.response, {
    contentType: "application/timestamp-reply",
    metadata: { ...document.metadata, kind: "manifest-timestamp", gentime: outcome.facts.genTime },
    tags: document.tags,
  });
  if (written) {
    log.info("manifest timestamped", { blobName, genTime: outcome.facts.genTime, tsa: deps.timestamps.url });
    return { timestamp: { blobName, genTime: outcome.facts.genTime, created: true } };
  }
  // Another attempt stored its token between our read and our write.
  const raced = await deps.readDocument(blobName);
  return raced ? kept(raced) : warning("TimestampNotStorable", `${blobName} was reported taken but cannot be read`);

  function kept(bytes: Buffer): ManifestTimestampResult {
    const parsed = parseTimestampResponse(bytes);
    if (parsed.ok && parsed.facts.hashAlgorithm === TIMESTAMP_OIDS.sha256 && parsed.facts.imprint === sha256) {
      log.info("manifest timestamp already stored; kept", { blobName, genTime: parsed.facts.genTime });
      return { timestamp: { blobName, genTime: parsed.facts.genTime, created: false } };
    }
    log.error("timestamp name holds a document that is not this manifest's token; left as it is", { blobName });
    return warning("TimestampNameTaken", `${blobName} holds something other than a token for this manifest's SHA-256 ${sha256}`);
  }
}
