import { createHash, randomBytes } from "node:crypto";
import type { BlockBlobClient } from "@azure/storage-blob";

/** Azure's limit on blocks per blob (https://learn.microsoft.com/rest/api/storageservices/put-block). */
export const MAX_BLOCKS_PER_BLOB = 50_000;

/** Characters of a block nonce: 12 random bytes, base64url. */
const NONCE_LENGTH = 16;
const BLOCK_ID = /^evidence-block-(?:([A-Za-z0-9_-]{16})-)?(\d{6})$/;

/**
 * A fresh random nonce for one copy. Every block id of the copy carries it, so nobody can stage a
 * block under an id the commit will take without first reading the uncommitted block list, and a
 * blob committed by anyone else shows other ids than the copy's (the read-back after the commit
 * catches what the ids cannot: a block replaced under a listed id).
 */
export function newBlockNonce(): string {
  return randomBytes(12).toString("base64url");
}

/**
 * Block id of the n-th block of a copy: the copy's nonce and the index, so a retried chunk (same
 * state, same nonce) stages the same ids and replaces its own uncommitted blocks; of equal length
 * for every block, as Azure requires. Without a nonce: the index-only ids of copies started before
 * nonces existed (ChunkedCopyState version 1), which such a copy keeps to its end.
 */
export function blockIdOf(index: number, nonce?: string): string {
  const position = String(index).padStart(6, "0");
  return Buffer.from(nonce === undefined ? `evidence-block-${position}` : `evidence-block-${nonce}-${position}`).toString("base64");
}

/** The index and nonce of a block id the writer produced, or undefined for any other id. */
export function parseBlockId(id: string): { index: number; nonce?: string } | undefined {
  const m = BLOCK_ID.exec(Buffer.from(id, "base64").toString("latin1"));
  if (!m || blockIdOf(Number(m[2]), m[1]) !== id) return undefined;
  return m[1] === undefined ? { index: Number(m[2]) } : { index: Number(m[2]), nonce: m[1] };
}

/** Whether a nonce has the shape {@link newBlockNonce} gives (a state from the history is checked before use). */
export function isBlockNonce(value: unknown): value is string {
  return typeof value === "string" && value.length === NONCE_LENGTH && /^[A-Za-z0-9_-]+$/.test(value);
}

/** Options of {@link BlockStager}. */
export interface BlockStagerOptions {
  abortSignal?: AbortSignal;
  /** Index of the first block this stager writes: a chunked copy continues after the blocks earlier chunks staged. @default 0 */
  firstIndex?: number;
  /** The copy's block nonce (see {@link blockIdOf}); absent for a copy started with index-only ids. */
  nonce?: string;
}

/**
 * Cuts a byte stream into fixed-size blocks and stages them, a few at a time, each with its MD5 as
 * the transactional Content-MD5, so the service refuses a block damaged on the way (400
 * Md5Mismatch). At most `maxBlocksInMemory` buffers exist (the one filling and those uploading),
 * reused from a pool, so memory is `blockSize * maxBlocksInMemory` whatever the file size.
 */
export class BlockStager {
  private readonly pool: Buffer[] = [];
  private allocated = 0;
  private current: Buffer | undefined;
  private filled = 0;
  private nextIndex: number;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  private failed = false;
  private readonly abortSignal: AbortSignal | undefined;
  private readonly firstIndex: number;
  private readonly nonce: string | undefined;

  constructor(
    private readonly blob: BlockBlobClient,
    private readonly blockSize: number,
    private readonly maxBlocksInMemory: number,
    options: BlockStagerOptions = {},
  ) {
    this.abortSignal = options.abortSignal;
    this.firstIndex = options.firstIndex ?? 0;
    this.nonce = options.nonce;
    this.nextIndex = this.firstIndex;
    if (!Number.isSafeInteger(blockSize) || blockSize < 1) throw new RangeError(`blockSize must be a positive integer, got ${blockSize}`);
    if (!Number.isSafeInteger(maxBlocksInMemory) || maxBlocksInMemory < 1)
      throw new RangeError(`maxBlocksInFlight must be a positive integer, got ${maxBlocksInMemory}`);
  }

  /** Copies the bytes into blocks; resolves once they are buffered (waits while all buffers are uploading). */
  async write(chunk: Uint8Array): Promise<void> {
    let at = 0;
    while (at < chunk.byteLength) {
      this.throwIfFailed();
      if (!this.current) this.current = await this.takeBuffer();
      const n = Math.min(chunk.byteLength - at, this.blockSize - this.filled);
      this.current.set(chunk.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === this.blockSize) this.stageCurrent();
    }
  }

  /**
   * Stages the last partial block, waits for every upload, and returns the ids to commit, in order
   * (from block 0, including those staged before `firstIndex`).
   */
  async finish(): Promise<string[]> {
    if (this.current && this.filled > 0) this.stageCurrent();
    await this.settle();
    this.throwIfFailed();
    return Array.from({ length: this.nextIndex }, (_, i) => blockIdOf(i, this.nonce));
  }

  /** Forgets everything staged so far (the download restarted from its start); ids start again at `firstIndex`. */
  async reset(): Promise<void> {
    await this.settle();
    this.failed = false;
    this.failure = undefined;
    if (this.current) this.pool.push(this.current);
    this.current = undefined;
    this.filled = 0;
    this.nextIndex = this.firstIndex;
  }

  /** Waits for uploads under way (their outcome no longer matters), so nothing runs after the copy gave up. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
  }

  private stageCurrent(): void {
    const buffer = this.current as Buffer;
    const index = this.nextIndex++;
    if (index >= MAX_BLOCKS_PER_BLOB) {
      this.fail(new RangeError(`content needs more than ${MAX_BLOCKS_PER_BLOB} blocks of ${this.blockSize} bytes; raise blockSizeInBytes`));
      return;
    }
    const body = buffer.subarray(0, this.filled);
    this.current = undefined;
    this.filled = 0;
    const transactionalContentMD5 = createHash("md5").update(body).digest();
    const upload: Promise<void> = this.blob
      .stageBlock(blockIdOf(index, this.nonce), body, body.length, { abortSignal: this.abortSignal, transactionalContentMD5 })
      .then(
        () => undefined,
        (e: unknown) => this.fail(e),
      )
      .finally(() => {
        this.inFlight.delete(upload);
        this.pool.push(buffer);
      });
    this.inFlight.add(upload);
  }

  private async takeBuffer(): Promise<Buffer> {
    while (this.pool.length === 0 && this.allocated >= this.maxBlocksInMemory) {
      await Promise.race(this.inFlight);
      this.throwIfFailed();
    }
    const reused = this.pool.pop();
    if (reused) return reused;
    this.allocated += 1;
    return Buffer.allocUnsafe(this.blockSize);
  }

  private fail(e: unknown): void {
    if (!this.failed) {
      this.failed = true;
      this.failure = e;
    }
  }

  private throwIfFailed(): void {
    if (this.failed) throw this.failure;
  }
}
