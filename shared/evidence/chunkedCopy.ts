import type { BlockBlobClient } from "@azure/storage-blob";
import { CollectorError } from "../errors";
import { BlockStager, isBlockNonce, newBlockNonce } from "./blockStager";
import { InlineHasher, type ContentHasher } from "./contentHasher";
import { ContentInspector, detectFormat, FORMAT_SNIFF_BYTES, type ContentInspection } from "./contentFormat";
import { downloadWithResume, type LinkDownloadOptions, type LinkDownloadStats } from "./linkDownload";
import { ResumableHasher, type SavedHashState } from "./resumableHashing";
import type { ChunkedCopyState, ContentDigest, ContentFormat, LinkSource } from "./types";

/** What {@link stageChunk} needs from the store. */
export interface ChunkStaging {
  blob: BlockBlobClient;
  link: LinkSource;
  /** As for a whole copy; the window is set here. */
  download: Omit<LinkDownloadOptions, "window">;
  /** Used when there is no state yet; a state's own block size wins afterwards. */
  blockSize: number;
  maxBlocksInFlight: number;
  chunkBytes: number;
}

/** One chunk staged: the new state, and when the source is exhausted everything the commit needs. */
export type StagedChunk =
  | { complete: false; state: ChunkedCopyState }
  | {
      complete: true;
      state: ChunkedCopyState;
      blockIds: string[];
      digest: ContentDigest;
      inspection: ContentInspection;
      contentEncoding?: string;
    };

/**
 * Stages the bytes `[state.offset, state.offset + chunkBytes)` as blocks `state.blockCount, ...`
 * and advances the digests, without committing.
 *
 * Why a retry with the same input state is safe (a host restart, a timed-out attempt still
 * running): block n always holds source bytes `[n * blockSize, (n + 1) * blockSize)` (the block
 * size is fixed in the state and every chunk but the last is whole blocks), and its id is the
 * copy's nonce (kept in the state, drawn at random by the first call) with n, so every attempt,
 * a zombie included, stages identical bytes under identical ids; the digests resume from the
 * input state, so nothing is hashed twice; and only the call that reaches the end commits, with
 * exactly ids `0 .. blockCount - 1` and `ifNoneMatch: "*"`. Stray uncommitted blocks are dropped
 * by the commit (Azure also discards uncommitted blocks after 7 days, which bounds how long a
 * chunked copy may take). A retried first call draws another nonce: the blocks of the lost
 * attempt stay uncommitted and are dropped the same way.
 *
 * A version 1 state (written before block ids had a nonce) is continued with the index-only ids
 * its blocks were staged under, and stays version 1 to its end, so a copy in flight during an
 * upgrade completes instead of starting again from byte 0.
 * @throws CollectorError `InvalidCopyState` for a state this code cannot continue;
 * `SourceChanged`, `DownloadFailed`, `UntrustedDownloadLink` from the download; RangeError for a
 * `chunkBytes` that is not a positive multiple of the block size.
 */
export async function stageChunk(staging: ChunkStaging, state: ChunkedCopyState | undefined, blobName: string): Promise<StagedChunk> {
  if (state) checkState(state, blobName);
  const blockSize = state?.blockSize ?? staging.blockSize;
  const { chunkBytes } = staging;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < blockSize || chunkBytes % blockSize !== 0) {
    throw new RangeError(`chunkBytes must be a positive multiple of the block size ${blockSize}, got ${chunkBytes}`);
  }
  const start = state?.offset ?? 0;
  const stats: LinkDownloadStats = { linkFetches: 0 };
  // A continued copy resumes its saved digests (checked before any download); a first call picks
  // its hasher once the first answer tells whether the copy ends in this call (see pickHasher).
  const resume = async (): Promise<ContentHasher | undefined> => (state ? ResumableHasher.create({ ...state, size: start }) : undefined);
  const pick = (): Promise<ContentHasher> => pickHasher(stats, chunkBytes);
  let hasher = await resume();
  // A version 1 state has no nonce: its copy keeps the index-only ids it started with.
  const nonce = state ? state.nonce : newBlockNonce();
  const stager = new BlockStager(staging.blob, blockSize, staging.maxBlocksInFlight, {
    abortSignal: staging.download.abortSignal,
    firstIndex: state?.blockCount ?? 0,
    nonce,
  });
  const first = new FirstBytes(start === 0);
  let blockIds: string[];
  try {
    const window = { start, end: start + chunkBytes, total: state?.sourceSize, etag: state?.etag };
    for await (const event of downloadWithResume(staging.link, { ...staging.download, window }, stats)) {
      if (event.kind === "restart") {
        first.reset();
        hasher = await resume();
        await stager.reset();
        continue;
      }
      // The inflater only pays off when the whole content can pass in this one chunk.
      first.decideOnce(() => stats.contentEncoding !== undefined || stats.total === undefined || stats.total <= chunkBytes);
      hasher ??= await pick();
      hasher.update(event.chunk);
      await first.write(event.chunk);
      await stager.write(event.chunk);
    }
    blockIds = await stager.finish();
    // An empty source yields no data: its answer (size 0) still picks the hasher.
    hasher ??= await pick();
  } catch (e) {
    first.dispose();
    await stager.settle();
    throw e;
  }

  const offset = hasher.size;
  const total = stats.total ?? state?.sourceSize;
  // A content-encoded source was read whole (it cannot be cut by range); otherwise a short read or the announced size ends it.
  const complete = stats.contentEncoding !== undefined || offset - start < chunkBytes || (total !== undefined && offset >= total);
  const contentFormat = first.format() ?? state?.contentFormat ?? "raw";
  const next: ChunkedCopyState = {
    ...(nonce === undefined ? { version: 1 as const } : { version: 2 as const, nonce }),
    blobName,
    blockSize,
    offset,
    blockCount: blockIds.length,
    // Nothing is left to resume once complete, and the tail of the content would be in the states.
    ...(complete ? { sha256State: "", md5State: "" } : savedState(hasher, blobName)),
    contentFormat,
    sourceSize: total,
    etag: stats.etag ?? state?.etag,
    linkFetches: (state?.linkFetches ?? 0) + stats.linkFetches,
    chunks: (state?.chunks ?? 0) + 1,
    done: false,
  };
  if (!complete) {
    first.dispose();
    if (offset !== blockIds.length * blockSize)
      throw new CollectorError("InvalidCopyState", `Chunk of ${blobName} ended at byte ${offset}, not on a block boundary`);
    return { complete: false, state: next };
  }
  const inspection = (await first.inspection()) ?? afterChunks(contentFormat);
  return { complete: true, state: next, blockIds, digest: hasher.digest(), inspection, contentEncoding: stats.contentEncoding };
}

/**
 * The hasher of a first call: node:crypto when the copy surely ends in this call (the first answer
 * announced at most `chunkBytes`, or a Content-Encoding, which is read whole), since its state is
 * never saved; otherwise the resumable hasher, whose state the next chunk continues. A source of
 * unknown size takes the resumable one: whether it ends here is known only at its end.
 */
async function pickHasher(stats: LinkDownloadStats, chunkBytes: number): Promise<ContentHasher> {
  const endsInThisCall = stats.contentEncoding !== undefined || (stats.total !== undefined && stats.total <= chunkBytes);
  return endsInThisCall ? new InlineHasher() : ResumableHasher.create();
}

/** The digests' state for the next chunk, from the resumable hasher a copy that continues always has. */
function savedState(hasher: ContentHasher, blobName: string): SavedHashState {
  if (!(hasher instanceof ResumableHasher))
    throw new CollectorError("InvalidCopyState", `Chunk of ${blobName} did not end the copy, yet its size said it would`);
  return hasher.save();
}

/**
 * A result copied in several chunks: the format only. The decompressed SHA-256 of a gzip needs the
 * inflater's state carried from chunk to chunk, which node:zlib cannot save; the read-back after the
 * commit computes it in one pass over the stored blob (see BlobEvidenceStore.copyChunk).
 */
function afterChunks(format: ContentFormat): ContentInspection {
  return { format };
}

/**
 * The first chunk's view of the content start: the format sniff, and (when the whole content
 * may fit in the chunk) the full inspection, gzip decompression included.
 */
class FirstBytes {
  private head = Buffer.alloc(0);
  private inspector: ContentInspector | undefined;
  private decided = false;

  constructor(private readonly active: boolean) {}

  decideOnce(wholeMayFit: () => boolean): void {
    if (this.decided || !this.active) return;
    this.decided = true;
    if (wholeMayFit()) this.inspector = new ContentInspector();
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (!this.active) return;
    if (this.head.length < FORMAT_SNIFF_BYTES)
      this.head = Buffer.concat([this.head, chunk.subarray(0, FORMAT_SNIFF_BYTES - this.head.length)]);
    await this.inspector?.write(chunk);
  }

  format(): ContentFormat | undefined {
    return this.active ? detectFormat(this.head) : undefined;
  }

  /** The full inspection when it ran, else undefined. */
  async inspection(): Promise<ContentInspection | undefined> {
    return this.inspector?.finish();
  }

  reset(): void {
    this.dispose();
    this.inspector = undefined;
    this.head = Buffer.alloc(0);
    this.decided = false;
  }

  dispose(): void {
    this.inspector?.dispose();
  }
}

/** A state from the orchestration history is checked before any byte is trusted to it. */
function checkState(state: ChunkedCopyState, blobName: string): void {
  const count = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) >= 0;
  const problem =
    state.version !== 1 && state.version !== 2
      ? `layout version ${String(state.version)}, expected 1 or 2`
      : state.version === 2 && !isBlockNonce(state.nonce)
        ? "its block nonce is missing or malformed"
        : state.version === 1 && state.nonce !== undefined
          ? "a version 1 state carries a block nonce"
          : state.blobName !== blobName
            ? `it belongs to blob ${state.blobName}`
            : !count(state.blockSize) || state.blockSize === 0 || !count(state.offset) || !count(state.blockCount)
              ? "sizes are not whole numbers"
              : state.offset !== state.blockCount * state.blockSize
                ? `offset ${state.offset} is not ${state.blockCount} blocks of ${state.blockSize}`
                : typeof state.sha256State !== "string" || typeof state.md5State !== "string"
                  ? "hash states are missing"
                  : state.done
                    ? "it says the blob was committed, yet no blob of that name exists"
                    : undefined;
  if (problem) throw new CollectorError("InvalidCopyState", `Chunked copy state for ${blobName} cannot be continued: ${problem}`);
}
