import type { CopyOptions, CopyResult, EvidenceStore, LinkSource } from "../../shared/evidence/types";

const MiB = 1024 * 1024;

/** Larger than any result these tests copy in one go, and a multiple of every block size they use. */
export const WHOLE_CHUNK_BYTES = 64 * MiB;

/**
 * A one-shot copy: the product's only copy path, copyChunk, with a chunk at least as large as
 * the result, which must then be committed by that one call.
 * @throws Error when the call returned a state to continue from instead of the result.
 */
export async function copyWhole(
  store: EvidenceStore,
  link: LinkSource,
  options: CopyOptions,
  chunkBytes = WHOLE_CHUNK_BYTES,
): Promise<CopyResult> {
  const progress = await store.copyChunk(link, undefined, { ...options, chunkBytes });
  if (!progress.result)
    throw new Error(
      `copy of ${options.blobName} was not done in one call of ${chunkBytes} bytes; stopped at byte ${progress.state.offset}`,
    );
  return progress.result;
}
