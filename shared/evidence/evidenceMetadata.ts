import type { BlobGetPropertiesResponse } from "@azure/storage-blob";
import { CollectorError } from "../errors";
import type { ContentInspection } from "./contentFormat";
import type { ExpectedContent } from "./integrity";
import type { ContentDigest, ContentFormat, StoredEvidence } from "./types";

/**
 * Metadata keys the store owns; they override a caller's keys of the same name. Lowercase,
 * because Azure hands metadata names back lowercased (they travel as HTTP headers).
 */
export const EVIDENCE_METADATA = {
  sha256: "sha256",
  md5: "md5",
  size: "size",
  format: "contentformat",
  decompressedSha256: "decompressedsha256",
  decompressedSize: "decompressedsize",
  decompressError: "decompresserror",
  /** Set when the source had a Content-Encoding that fetch decoded (see LinkDownloadStats). */
  sourceContentEncoding: "sourcecontentencoding",
  /** The copy's block nonce (see blockIdOf): every committed block id carries it. */
  blockNonce: "blocknonce",
} as const;
const M = EVIDENCE_METADATA;

/** The metadata written in the commit: the caller's, then the store's facts about the bytes. */
export function evidenceMetadata(
  callerMetadata: Record<string, string>,
  digest: Pick<ContentDigest, "sha256" | "md5" | "size">,
  inspection: ContentInspection,
  copy: { sourceContentEncoding?: string; blockNonce?: string } = {},
): Record<string, string> {
  const { sourceContentEncoding, blockNonce } = copy;
  const metadata: Record<string, string> = {
    ...callerMetadata,
    [M.sha256]: digest.sha256,
    [M.md5]: digest.md5,
    [M.size]: String(digest.size),
    [M.format]: inspection.format,
  };
  const d = inspection.decompressed;
  if (d && "error" in d) metadata[M.decompressError] = asciiValue(d.error);
  else if (d) Object.assign(metadata, { [M.decompressedSha256]: d.sha256, [M.decompressedSize]: String(d.size) });
  if (sourceContentEncoding) metadata[M.sourceContentEncoding] = asciiValue(sourceContentEncoding);
  if (blockNonce) metadata[M.blockNonce] = blockNonce;
  return metadata;
}

/**
 * A committed blob's facts, read back from its properties and metadata.
 * @throws CollectorError `NotEvidence` when the blob lacks the collector's metadata: something
 * else wrote it, and it is neither trusted nor overwritten.
 */
export function storedEvidenceFrom(
  blobName: string,
  blobUrl: string,
  properties: Pick<BlobGetPropertiesResponse, "metadata" | "contentMD5" | "contentLength" | "createdOn" | "lastModified">,
  now: () => Date,
): StoredEvidence {
  const m = properties.metadata ?? {};
  if (!m[M.sha256]) {
    throw new CollectorError(
      "NotEvidence",
      `Blob ${blobName} exists but has no ${M.sha256} metadata: it was not written by the collector and is left untouched`,
    );
  }
  return {
    blobName,
    blobUrl,
    size: properties.contentLength ?? Number(m[M.size]),
    sha256: m[M.sha256],
    md5: m[M.md5] ?? (properties.contentMD5 ? Buffer.from(properties.contentMD5).toString("base64") : ""),
    contentFormat: parseFormat(m[M.format]),
    decompressed: readDecompressed(m),
    ...(m[M.blockNonce] ? { blockNonce: m[M.blockNonce] } : {}),
    committedAt: (properties.createdOn ?? properties.lastModified ?? now()).toISOString(),
  };
}

/** The digests a blob's metadata records, to compare with what a read of the blob finds. */
export function expectedFromMetadata(m: Record<string, string>): ExpectedContent {
  const size = m[M.size] !== undefined && /^\d+$/.test(m[M.size]) ? Number(m[M.size]) : undefined;
  return { size, sha256: m[M.sha256], md5: m[M.md5], decompressed: readDecompressed(m) };
}

function readDecompressed(m: Record<string, string>): StoredEvidence["decompressed"] {
  if (m[M.decompressError] !== undefined) return { error: m[M.decompressError] };
  if (m[M.decompressedSha256] !== undefined) return { sha256: m[M.decompressedSha256], size: Number(m[M.decompressedSize]) };
  return undefined;
}

function parseFormat(value: string | undefined): ContentFormat {
  return value === "gzip" || value === "zip" ? value : "raw";
}

/** Metadata values travel as HTTP headers: printable ASCII only, kept short. */
function asciiValue(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 256);
}
