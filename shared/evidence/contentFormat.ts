import { createHash } from "node:crypto";
import { createGunzip, type Gunzip } from "node:zlib";
import type { ContentFormat } from "./types";

/** Bytes needed to tell the formats apart (the zip signature is the longest). */
export const FORMAT_SNIFF_BYTES = 4;

/**
 * The format of content from its first bytes. MDE does not say what a result is (GetFile results
 * arrive gzip-compressed, undocumented), so the bytes decide: `1f 8b` gzip, `PK` followed by a
 * local header, empty-archive or spanning signature zip, anything else raw.
 */
export function detectFormat(head: Uint8Array): ContentFormat {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b) {
    const sig = (head[2] << 8) | head[3];
    if (sig === 0x0304 || sig === 0x0506 || sig === 0x0708) return "zip";
  }
  return "raw";
}

/** Decompressed bytes hashed at most (GetFile is limited to 3 GB compressed; text compresses about 10:1). */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 32 * 1024 ** 3;

/** What the inspection found once all bytes have passed. */
export interface ContentInspection {
  format: ContentFormat;
  /** For gzip: the decompressed size and SHA-256, or why decompression failed. */
  decompressed?: { size: number; sha256: string } | { error: string };
}

/**
 * Detects the format as bytes pass and, for gzip, decompresses them on the side to hash the
 * content (size + SHA-256) without keeping it. A corrupt or truncated gzip yields `{ error }`:
 * the bytes received stay the evidence, whatever they are.
 */
export class ContentInspector {
  /**
   * @param maxDecompressedBytes stop hashing the decompressed content beyond this (a gzip bomb of
   * a few GB can expand to terabytes); the result is then `{ error }`. @default 32 GiB
   */
  constructor(private readonly maxDecompressedBytes = DEFAULT_MAX_DECOMPRESSED_BYTES) {}

  private sniffed: Buffer = Buffer.alloc(0);
  private format: ContentFormat | undefined;
  private gunzip: Gunzip | undefined;
  private readonly decompressedHash = createHash("sha256");
  private decompressedSize = 0;
  private gunzipError: string | undefined;
  private gunzipDone: Promise<void> | undefined;

  /** Whether the content is being decompressed (gzip): only then may {@link write} make its caller wait. */
  get decompressing(): boolean {
    return this.gunzip !== undefined;
  }

  /** Feeds the next bytes; resolves when the decompressor can take more (bounded memory). */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.format === undefined) {
      this.sniffed = Buffer.concat([this.sniffed, chunk]);
      if (this.sniffed.length < FORMAT_SNIFF_BYTES) return;
      this.decide();
      if (this.gunzip) await this.feed(this.sniffed);
      this.sniffed = Buffer.alloc(0);
      return;
    }
    if (this.gunzip) await this.feed(chunk);
  }

  /** Ends the inspection (all bytes seen) and reports. */
  async finish(): Promise<ContentInspection> {
    if (this.format === undefined) {
      this.decide();
      if (this.gunzip) await this.feed(this.sniffed);
    }
    const format = this.format as ContentFormat;
    if (!this.gunzip || !this.gunzipDone) return { format };
    if (this.gunzipError === undefined) this.gunzip.end();
    await this.gunzipDone;
    if (this.gunzipError !== undefined) return { format, decompressed: { error: this.gunzipError } };
    return { format, decompressed: { size: this.decompressedSize, sha256: this.decompressedHash.digest("hex") } };
  }

  /** Releases the decompressor when the copy is abandoned or restarted. */
  dispose(): void {
    this.gunzip?.destroy();
  }

  private decide(): void {
    this.format = detectFormat(this.sniffed);
    if (this.format !== "gzip") return;
    const gunzip = createGunzip();
    gunzip.on("data", (out: Buffer) => {
      if (this.gunzipError !== undefined) return;
      this.decompressedHash.update(out);
      this.decompressedSize += out.length;
      if (this.decompressedSize > this.maxDecompressedBytes) {
        this.gunzipError = `decompressed content exceeds ${this.maxDecompressedBytes} bytes; not hashed further`;
        gunzip.destroy();
      }
    });
    this.gunzipDone = new Promise<void>((resolve) => {
      gunzip.once("end", resolve);
      gunzip.once("close", resolve);
      gunzip.once("error", (e: Error) => {
        this.gunzipError ??= e.message;
        resolve();
      });
    });
    this.gunzip = gunzip;
  }

  private async feed(chunk: Uint8Array): Promise<void> {
    const gunzip = this.gunzip as Gunzip;
    // After an error the stream is destroyed: stop feeding, the copy goes on.
    if (this.gunzipError !== undefined || gunzip.destroyed) return;
    if (gunzip.write(chunk)) return;
    const done = this.gunzipDone as Promise<void>;
    await new Promise<void>((resolve) => {
      gunzip.once("drain", resolve);
      void done.then(resolve);
    });
  }
}
