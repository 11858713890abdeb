import { createHash } from "node:crypto";
import { CollectorError } from "../errors";
import { blockLayoutProblems, type BlockListView } from "./blockLayout";
import { expectedFromMetadata } from "./evidenceMetadata";
import type { BlobReadBack } from "./readBack";

/** The code of every "the stored bytes are not the evidence" finding: recorded, never accepted silently. */
export const INTEGRITY_ERROR = "IntegrityError";

/** What a stored blob must hold, from the digests computed in flight or from a record of them (metadata, manifest). */
export interface ExpectedContent {
  size?: number;
  sha256?: string;
  md5?: string;
  /** For gzip: the decompressed digest recorded (an `{ error }` record is compared with nothing). */
  decompressed?: { size: number; sha256: string } | { error: string };
}

/** The digests of a small document read whole (a manifest, a timestamp token), as a read-back reports a blob's. */
export function documentDigest(bytes: Buffer): Pick<BlobReadBack, "size" | "sha256" | "md5" | "inspection"> {
  return {
    size: bytes.length,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    md5: createHash("md5").update(bytes).digest("base64"),
    inspection: { format: "raw" },
  };
}

/** Where each expectation came from, named in the findings (`metadata`, `manifest`, `in-flight digest`). */
export function contentProblems(
  expected: ExpectedContent,
  found: Pick<BlobReadBack, "size" | "sha256" | "md5" | "inspection">,
  source: string,
): string[] {
  const problems: string[] = [];
  if (expected.size !== undefined && expected.size !== found.size) problems.push(`size ${found.size}, ${source} says ${expected.size}`);
  if (expected.sha256 !== undefined && expected.sha256 !== found.sha256)
    problems.push(`SHA-256 ${found.sha256}, ${source} says ${expected.sha256}`);
  if (expected.md5 !== undefined && expected.md5 !== found.md5) problems.push(`MD5 ${found.md5}, ${source} says ${expected.md5}`);
  const recorded = expected.decompressed;
  if (recorded && "sha256" in recorded) {
    const inflated = found.inspection.decompressed;
    if (!inflated || !("sha256" in inflated)) problems.push(`no decompressed content, ${source} records a decompressed SHA-256`);
    else if (inflated.sha256 !== recorded.sha256 || inflated.size !== recorded.size) {
      problems.push(
        `decompressed SHA-256 ${inflated.sha256} (${inflated.size} bytes), ${source} says ${recorded.sha256} (${recorded.size} bytes)`,
      );
    }
  }
  return problems;
}

/** Metadata keys whose stored value differs from the expected one (a missing key differs too). */
export function metadataProblems(expected: Record<string, string>, stored: Record<string, string> | undefined, source: string): string[] {
  return Object.entries(expected)
    .filter(([key, value]) => stored?.[key] !== value)
    .map(
      ([key, value]) =>
        `metadata ${key} is ${stored?.[key] === undefined ? "missing" : JSON.stringify(stored[key])}, ` +
        `${source} says ${JSON.stringify(value)}`,
    );
}

/**
 * The error for a blob that is not the evidence it should be: the message names the blob and every
 * finding (digests, sizes, ids: nothing secret), so it can go into the manifest and the status.
 */
export function integrityError(blobName: string, what: string, problems: string[]): CollectorError {
  return new CollectorError(INTEGRITY_ERROR, `${what} ${blobName}: ${problems.join("; ")}`);
}

/** What is known about a stored blob after reading it once: its properties, its bytes' digests, its block list. */
export interface StoredBlobFacts {
  metadata: Record<string, string>;
  /** Base64 Content-MD5 property, when set. */
  contentMD5?: string;
  read: Pick<BlobReadBack, "size" | "sha256" | "md5" | "inspection">;
  blocks: BlockListView;
}

/** What else the blob must agree with, each named in the findings by its source. */
export interface StoredBlobExpectations {
  /** Metadata keys the writer put in the commit (the command the blob belongs to). */
  metadata?: { values: Record<string, string>; source: string };
  /** Digests recorded elsewhere (the manifest, this copy's own read of the source). */
  content?: { values: ExpectedContent; source: string; blockNonce?: string };
  /** The copy's block nonce, when known: every committed block must carry it. */
  nonce?: string;
  /** See ExpectedLayout.ownUncommitted. */
  ownUncommitted?: string | null;
}

/**
 * Every way a stored evidence blob differs from what the collector wrote: its bytes against its own
 * metadata and Content-MD5, against the expectations given, and its block list against the writer's
 * layout. Used by the writer (a blob already present) and by `verify`; empty when it is the evidence.
 */
export function storedBlobProblems(facts: StoredBlobFacts, expected: StoredBlobExpectations): string[] {
  const { metadata: m, read } = facts;
  const nonce = expected.nonce ?? expected.content?.blockNonce;
  return [
    ...(m.sha256 ? [] : ["no sha256 metadata: not written by the collector"]),
    ...contentProblems(expectedFromMetadata(m), read, "its metadata"),
    ...(facts.contentMD5 && facts.contentMD5 !== read.md5 ? [`Content-MD5 ${facts.contentMD5} is not the MD5 of its bytes`] : []),
    ...(expected.content ? contentProblems(expected.content.values, read, expected.content.source) : []),
    ...(expected.metadata ? metadataProblems(expected.metadata.values, m, expected.metadata.source) : []),
    ...(nonce && m.blocknonce !== nonce ? [`metadata blocknonce ${JSON.stringify(m.blocknonce)}, the copy's nonce is ${nonce}`] : []),
    ...blockLayoutProblems(facts.blocks, { size: read.size, nonce: nonce ?? m.blocknonce, ownUncommitted: expected.ownUncommitted }),
  ];
}
