import type { ContainerClient } from "@azure/storage-blob";
import type { ManifestCommand } from "../../contract";
import { readBlockList } from "../blockLayout";
import { parseBlockId } from "../blockStager";
import { storedBlobProblems } from "../integrity";
import { readBackBlob, type ReadBackOptions } from "../readBack";
import type { ListedBlob } from "./scope";
import type { VerifyRow } from "./types";

/** What the collection's manifest records about one evidence blob, and whose command it was. */
export interface EvidenceRecordOf {
  evidence: NonNullable<ManifestCommand["evidence"]>;
  /** The metadata the collector wrote in the commit, as the manifest implies it. */
  metadata: Record<string, string>;
}

/**
 * Reads one evidence blob whole (streaming) and checks what it holds now against everything that
 * recorded it: its own metadata (SHA-256, MD5, size, decompressed SHA-256), its Content-MD5, the
 * manifest's record (digests and the command it belongs to), and its committed block list against
 * the layout the writer produces (see blockLayoutProblems).
 */
export async function checkEvidenceBlob(
  container: ContainerClient,
  listed: ListedBlob,
  record: EvidenceRecordOf | undefined,
  read: Pick<ReadBackOptions, "onBytes" | "digest">,
): Promise<VerifyRow> {
  const blob = container.getBlockBlobClient(listed.name);
  const [found, blocks] = await Promise.all([readBackBlob(blob, read), readBlockList(blob)]);
  const facts = { metadata: listed.metadata, contentMD5: listed.contentMD5, read: found, blocks };
  const problems = storedBlobProblems(facts, {
    ...(record ? { metadata: { values: record.metadata, source: "the manifest" } } : {}),
    ...(record ? { content: { values: record.evidence, source: "the manifest", blockNonce: record.evidence.blockNonce } } : {}),
  });
  const legacy = blocks.committed.length > 0 && blocks.committed.every((b) => parseBlockId(b.name)?.nonce === undefined);
  const inflated = found.inspection.decompressed;
  return {
    status: problems.length > 0 ? "MISMATCH" : "OK",
    blobName: listed.name,
    kind: "evidence",
    size: found.size,
    sha256: found.sha256,
    ...(inflated && "sha256" in inflated ? { decompressedSha256: inflated.sha256 } : {}),
    problems,
    ...(legacy ? { notes: ["index-only block ids: copied before block ids carried a nonce"] } : {}),
  };
}
