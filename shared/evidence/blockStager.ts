import type { BlockBlobClient } from "@azure/storage-blob";

/** Azure's limit on blocks per blob (https://learn.microsoft.com/rest/api/storageservices/put-block). */
export const MAX_BLOCKS_PER_BLOB = 50_000;

/**
 * Block id of the n-th block. Derived from the index only, so a retried or concurrent run stages
 * the same ids (the uncommitted blocks of an earlier attempt are simply replaced), and of equal
 * length for every block, as Azure requires.
 */
export function blockIdOf(index: number): string {
  return Buffer.from(`evidence-block-${String(index).padStart(6, "0")}`).toString("base64");
}

/**
 * Cuts a byte stream into fixed-size blocks and stages them, a few at a time. At most
 * `maxBlocksInMemory` buffers exist (the one filling and those uploading), reused from a pool, so
 * memory is `blockSize * maxBlocksInMemory` whatever the file size.
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

  constructor(
    private readonly blob: BlockBlobClient,
    private readonly blockSize: number,
    private readonly maxBlocksInMemory: number,
    private readonly abortSignal?: AbortSignal,
    /** Index of the first block this stager writes: a chunked copy continues after the blocks earlier chunks staged. */
    private readonly firstIndex = 0,
  ) {
    this.nextIndex = firstIndex;
    if (!Number.isSafeInteger(blockSize) || blockSize < 1) throw new RangeError(`blockSize must be a positive integer, got ${blockSize}`);
    if (!Number.isSafeInteger(maxBlocksInMemory) || maxBlocksInMemory < 1) throw new RangeError(`maxBlocksInFlight must be a positive integer, got ${maxBlocksInMemory}`);
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

  /** Stages the last partial block, waits for every upload, and returns the ids to commit, in order (from block 0, including those staged before `firstIndex`). */
  async finish(): Promise<string[]> {
    if (this.current && this.filled > 0) this.stageCurrent();
    await this.settle();
    this.throwIfFailed();
    return Array.from({ length: this.nextIndex }, (_, i) => blockIdOf(i));
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
    const upload: Promise<void> = this.blob
      .stageBlock(blockIdOf(index), body, body.length, { abortSignal: this.abortSignal })
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
