import type { BlobClient } from "@azure/storage-blob";
import { ContentInspector, type ContentInspection } from "./contentFormat";
import { inlineDigest, type StreamDigestFactory } from "./streamDigest";

/** What one read of a stored blob found: the digests of its bytes and, for gzip, of their decompressed content. */
export interface BlobReadBack {
  size: number;
  /** Lowercase hex SHA-256 of the stored bytes. */
  sha256: string;
  /** Base64 MD5 of the stored bytes. */
  md5: string;
  inspection: ContentInspection;
  /** The first `captureHeadBytes` bytes, when asked for. */
  head?: Buffer;
  /** The ETag of the version read: every retried range of the read asked for this one. */
  etag?: string;
  elapsedInMs: number;
}

/** Options of {@link readBackBlob}. */
export interface ReadBackOptions {
  abortSignal?: AbortSignal;
  /** Keep this many leading bytes (the RunScript transcript), so no second request is needed. */
  captureHeadBytes?: number;
  /** Called with the byte count of each piece read (progress of long reads). */
  onBytes?: (bytes: number) => void;
  /** @default Date.now */
  now?: () => number;
  /** Where SHA-256 and MD5 are computed. @default inlineDigest (this thread) */
  digest?: StreamDigestFactory;
}

/** Ranges the SDK asks for again when the stream of a long read breaks. */
const MAX_RETRY_REQUESTS = 5;

/**
 * Reads a stored blob once, streaming, and hashes what the storage service actually holds:
 * SHA-256 and MD5 of the bytes, and for gzip the size and SHA-256 of the decompressed content
 * (any size: the inflater runs beside the read; no state has to survive between activities).
 * Memory does not grow with the blob: the bytes are hashed and dropped as they arrive. A broken
 * stream is resumed by the SDK with a range request conditioned on the ETag first read, so the
 * digests are of one version of the blob.
 */
export async function readBackBlob(blob: BlobClient, options: ReadBackOptions = {}): Promise<BlobReadBack> {
  const now = options.now ?? Date.now;
  const started = now();
  const digest = (options.digest ?? inlineDigest)();
  const inspector = new ContentInspector();
  const headWanted = Math.max(0, options.captureHeadBytes ?? 0);
  const headParts: Buffer[] = [];
  let headBytes = 0;
  let size = 0;
  try {
    const response = await blob.download(0, undefined, { abortSignal: options.abortSignal, maxRetryRequests: MAX_RETRY_REQUESTS });
    for await (const piece of response.readableStreamBody ?? []) {
      const chunk = piece as Buffer;
      const fed = digest.update(chunk);
      if (fed) await fed;
      size += chunk.length;
      if (headBytes < headWanted) {
        const part = chunk.subarray(0, headWanted - headBytes);
        headParts.push(Buffer.from(part));
        headBytes += part.length;
      }
      // Only a gzip inflater can push back; for other formats nothing waits here.
      const inspected = inspector.write(chunk);
      if (inspector.decompressing) await inspected;
      options.onBytes?.(chunk.length);
    }
    const [inspection, digests] = await Promise.all([inspector.finish(), digest.finish()]);
    return {
      size,
      ...digests,
      inspection,
      ...(headWanted > 0 ? { head: Buffer.concat(headParts) } : {}),
      etag: response.etag,
      elapsedInMs: now() - started,
    };
  } catch (e) {
    inspector.dispose();
    digest.abort();
    throw e;
  }
}
