import { createMD5, createSHA256, type IHasher } from "hash-wasm";
import { CollectorError } from "../errors";
import type { ContentHasher } from "./contentHasher";
import type { ContentDigest } from "./types";

/** SHA-256 and MD5 both work on 64-byte blocks. */
const HASH_BLOCK = 64;

/** The saved states of both digests, base64, as carried in a ChunkedCopyState. */
export interface SavedHashState {
  sha256State: string;
  md5State: string;
}

/**
 * SHA-256 and MD5 whose state can be saved between activities and resumed in another process,
 * so a chunked copy still yields the digests of the whole file from one read of each byte.
 * node:crypto cannot export a hash state; hash-wasm can (`save()`/`load()`), at about
 * 440 MiB/s for SHA-256 here, faster than the blob ingest it feeds, yet about twice the CPU of
 * node:crypto: a copy that ends in the call that starts it hashes with InlineHasher instead
 * (contentHasher.ts); this one serves copies that take several chunks.
 *
 * The hashers are fed whole 64-byte hash blocks only, the remainder waiting here: hash-wasm's
 * saved state includes its leftover buffer, which would otherwise carry up to 64 stale bytes of
 * evidence into the orchestration history and make two identical runs save different states.
 * Saved at an offset that is a multiple of 64 (every chunk boundary, for a block size that is
 * one, as 8 MiB is), the state holds only the digest registers and the byte count.
 */
export class ResumableHasher implements ContentHasher {
  private constructor(
    private readonly sha256: IHasher,
    private readonly md5: IHasher,
    private bytes: number,
  ) {}

  /** Fewer than 64 bytes received but not yet given to the hashers. */
  private pending: Buffer = Buffer.alloc(0);

  /**
   * Fresh digests, or digests resumed from `saved` after `size` bytes.
   * @throws CollectorError `InvalidCopyState` when the saved state is not one hash-wasm accepts
   * (corrupt, or written by an incompatible build): the copy must start again from byte 0.
   */
  static async create(saved?: SavedHashState & { size: number }): Promise<ResumableHasher> {
    const [sha256, md5] = await Promise.all([createSHA256(), createMD5()]);
    if (!saved) return new ResumableHasher(sha256, md5, 0);
    try {
      sha256.load(Buffer.from(saved.sha256State, "base64"));
      md5.load(Buffer.from(saved.md5State, "base64"));
    } catch (e) {
      throw new CollectorError(
        "InvalidCopyState",
        `Saved hash state cannot be resumed (${e instanceof Error ? e.message : String(e)}); copy again from byte 0`,
        { cause: e },
      );
    }
    return new ResumableHasher(sha256, md5, saved.size);
  }

  update(chunk: Uint8Array): void {
    this.bytes += chunk.byteLength;
    let data = chunk;
    if (this.pending.length > 0) {
      const take = Math.min(HASH_BLOCK - this.pending.length, data.byteLength);
      this.pending = Buffer.concat([this.pending, data.subarray(0, take)]);
      data = data.subarray(take);
      if (this.pending.length < HASH_BLOCK) return;
      this.feed(this.pending);
      this.pending = Buffer.alloc(0);
    }
    const whole = data.byteLength - (data.byteLength % HASH_BLOCK);
    if (whole > 0) this.feed(data.subarray(0, whole));
    if (whole < data.byteLength) this.pending = Buffer.from(data.subarray(whole));
  }

  /** Bytes hashed so far, those before the saved state included. */
  get size(): number {
    return this.bytes;
  }

  /** Both states, to resume later; the hasher stays usable. At an offset not a multiple of 64 the states include the last bytes. */
  save(): SavedHashState {
    this.flush();
    return { sha256State: Buffer.from(this.sha256.save()).toString("base64"), md5State: Buffer.from(this.md5.save()).toString("base64") };
  }

  /** Finishes both digests; the hasher cannot be used afterwards. */
  digest(): ContentDigest {
    this.flush();
    const md5Bytes = Buffer.from(this.md5.digest("binary"));
    return { sha256: this.sha256.digest("hex"), md5: md5Bytes.toString("base64"), md5Bytes, size: this.bytes };
  }

  private feed(data: Uint8Array): void {
    this.sha256.update(data);
    this.md5.update(data);
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.feed(this.pending);
    this.pending = Buffer.alloc(0);
  }
}
