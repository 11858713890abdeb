/** What the bytes received look like, detected from their first bytes (MDE does not say). */
export type ContentFormat = "gzip" | "zip" | "raw";

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

/** Facts about one committed evidence blob, read back from its properties and metadata. */
export interface StoredEvidence {
  blobName: string;
  /** Blob URL without any SAS or query string. */
  blobUrl: string;
  /** Size in bytes of the bytes received, exactly as stored. */
  size: number;
  /** Lowercase hex SHA-256 of the bytes stored. */
  sha256: string;
  /** Base64 MD5 of the bytes stored (also the blob's Content-MD5). */
  md5: string;
  contentFormat: ContentFormat;
  /** For gzip content: size and SHA-256 of the decompressed bytes (what an analyst compares with an alert's file hash). */
  decompressed?: { size: number; sha256: string } | { error: string };
  /** The copy's block nonce: every committed block id carries it (absent for copies from before nonces). */
  blockNonce?: string;
  /** When the blob was committed (ISO 8601). */
  committedAt: string;
}

export interface CopyResult extends StoredEvidence {
  /** false when the blob already existed and was left untouched (idempotent re-run). */
  created: boolean;
  /** How many download links were used (1 unless a link expired or a stream broke). */
  linkFetches: number;
  /** The first `captureHeadBytes` bytes of the stored content, when asked for (from the read-back of the stored blob). */
  head?: Buffer;
}

export interface CopyOptions {
  blobName: string;
  contentType: string;
  /** Written in the commit itself, so it also works on immutable (WORM) containers. Values must be ASCII. */
  metadata: Record<string, string>;
  /** Blob index tags (searchable, not tamper-evident). */
  tags?: Record<string, string>;
  /** Keep up to this many leading bytes (for parsing a RunScript transcript). */
  captureHeadBytes?: number;
  abortSignal?: AbortSignal;
}

/**
 * Progress of a chunked copy ({@link EvidenceStore.copyChunk}), carried between activities in the
 * orchestration history: plain JSON of about 0.6 KB (plus the blob name), never a URL, since each
 * chunk asks for a fresh download link. Treat it as opaque; only the store interprets it.
 */
export interface ChunkedCopyState {
  /**
   * Layout of this object; a state of another layout is refused rather than misread. 2: block ids
   * carry `nonce`. 1: written before nonces existed; still continued, with index-only block ids.
   */
  version: 1 | 2;
  /**
   * Version 2: random per copy, drawn by the first call, part of every block id (see blockIdOf), so
   * a block staged by anyone else under a guessed id is never committed and a blob committed by
   * anyone else is told apart from this copy's.
   */
  nonce?: string;
  blobName: string;
  /** Size of every block but the last, fixed for the whole blob: block n always holds bytes [n * blockSize, (n + 1) * blockSize). */
  blockSize: number;
  /** Bytes staged and hashed so far: blockCount * blockSize until the copy is done. */
  offset: number;
  /** Blocks staged so far (indexes 0 .. blockCount - 1 with the nonce, see blockIdOf). */
  blockCount: number;
  /**
   * hash-wasm SHA-256 and MD5 states after `offset` bytes, base64: digest registers and byte
   * count, no content (see ResumableHasher). Empty once the copy is complete.
   */
  sha256State: string;
  md5State: string;
  /** Detected from the first bytes, in the first chunk. */
  contentFormat?: ContentFormat;
  /** The source's size and ETag as the first chunk saw them: later chunks must see the same. */
  sourceSize?: number;
  etag?: string;
  /** Download links used so far, over all chunks (each is one MDE API call). */
  linkFetches: number;
  /** Calls that staged a chunk. */
  chunks: number;
  /** The blob is committed: a further call only reads it back. */
  done: boolean;
}

/** Options of {@link EvidenceStore.copyChunk}. */
export interface ChunkedCopyOptions extends CopyOptions {
  /** Bytes copied per call at most (one activity's work), a multiple of the store's block size; e.g. 256 MiB. */
  chunkBytes: number;
}

/**
 * What one {@link EvidenceStore.copyChunk} call achieved: the state to pass to the next call, or
 * the result once the blob is committed (now or earlier; the state is then `done`, and absent
 * when the blob was already there before any state existed).
 */
export type ChunkedCopyProgress = { state: ChunkedCopyState; result?: undefined } | { state?: ChunkedCopyState; result: CopyResult };

/** A fresh download link each time it is called (MDE mints a new SAS per call). */
export type LinkSource = () => Promise<string>;

/** The one writer of evidence into the customer's container. Never overwrites a committed blob. */
export interface EvidenceStore {
  /** Properties of an already committed evidence blob, or undefined. */
  find(blobName: string): Promise<StoredEvidence | undefined>;
  /**
   * Streams the next chunk of the link's content into `blobName`, hashing in flight: stages up to
   * `chunkBytes` (with a Range request after the first chunk) and returns the new state; the call
   * that reaches the end commits once, never over an existing blob, with Content-MD5, hashes and
   * metadata in the commit itself, and returns the result. Call it with `undefined` first, then
   * with the state it returned, until `result` is set; a result no larger than `chunkBytes` takes
   * one call. Retrying a call with the same input state is always safe. The committed blob is read
   * back once from the container and its digests checked against those computed in flight (this
   * read also yields the decompressed SHA-256 of a gzip result of any size); a blob already there
   * is read back the same way and checked against its metadata, the copy's metadata and block
   * layout, then returned untouched.
   * @throws CollectorError `IntegrityError` when the stored blob is not the evidence: never accepted silently
   */
  copyChunk(link: LinkSource, state: ChunkedCopyState | undefined, options: ChunkedCopyOptions): Promise<ChunkedCopyProgress>;
  /**
   * Writes a small JSON document (the manifest, its signature) conditionally; a document already
   * there with exactly these bytes (a retried call) is returned untouched with `created: false`.
   * @throws CollectorError `IntegrityError` when another document holds the name
   */
  writeJson(
    blobName: string,
    value: unknown,
    options: { metadata: Record<string, string>; tags?: Record<string, string> },
  ): Promise<CopyResult>;
  /**
   * Creates a small binary document (a manifest's RFC 3161 timestamp token) only if the name is free,
   * with Content-MD5, digests and metadata in the one write. Unlike {@link writeJson} it does not
   * compare bytes: two attempts never hold the same token, so the caller judges what is there.
   * Optional: stores without it cannot keep timestamp tokens.
   * @returns the document written, or undefined when the name was already taken (nothing written)
   */
  createDocument?(
    blobName: string,
    body: Buffer,
    options: { contentType: string; metadata: Record<string, string>; tags?: Record<string, string> },
  ): Promise<CopyResult | undefined>;
  /** The URL (without SAS) a blob name has in this container. */
  urlOf(blobName: string): string;
}
