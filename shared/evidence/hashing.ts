import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";

/** The digests of a byte stream, as written to evidence metadata. */
export interface ContentDigest {
  /** Lowercase hex SHA-256: what chain of custody and analysts compare. */
  sha256: string;
  /** Base64 MD5: Azure's Content-MD5 format. */
  md5: string;
  /** The raw MD5 bytes, for the blob's Content-MD5 header. */
  md5Bytes: Buffer;
  size: number;
}

/**
 * Hashes bytes as they pass (SHA-256 and MD5 in one pass, no buffering). The state is kept
 * across calls, so a download resumed with a Range request continues the same digests.
 */
export class EvidenceHasher {
  private readonly sha256 = createHash("sha256");
  private readonly md5: Hash = createHash("md5");
  private bytes = 0;

  update(chunk: Uint8Array): void {
    this.sha256.update(chunk);
    this.md5.update(chunk);
    this.bytes += chunk.byteLength;
  }

  /** Bytes hashed so far (the resume offset). */
  get size(): number {
    return this.bytes;
  }

  /** Finishes both digests; the hasher cannot be used afterwards. */
  digest(): ContentDigest {
    const md5Bytes = this.md5.digest();
    return { sha256: this.sha256.digest("hex"), md5: md5Bytes.toString("base64"), md5Bytes, size: this.bytes };
  }
}

/**
 * A pass-through stream that hashes what flows through it; {@link HashingTransform.digest}
 * is available once the stream has finished.
 */
export class HashingTransform extends Transform {
  private readonly hasher = new EvidenceHasher();
  private result: ContentDigest | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hasher.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.result = this.hasher.digest();
    callback();
  }

  /** @throws Error when read before the stream has flushed. */
  digest(): ContentDigest {
    if (!this.result) throw new Error("HashingTransform.digest() called before the stream finished");
    return this.result;
  }
}
