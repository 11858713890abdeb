/** What the bytes received look like, detected from their first bytes (MDE does not say). */
export type ContentFormat = "gzip" | "zip" | "raw";

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
  /** When the blob was committed (ISO 8601). */
  committedAt: string;
}

export interface CopyResult extends StoredEvidence {
  /** false when the blob already existed and was left untouched (idempotent re-run). */
  created: boolean;
  /** How many download links were used (1 unless a link expired or a stream broke). */
  linkFetches: number;
  /** The first `captureHeadBytes` bytes of the stored content, when asked for (read back from the blob when it already existed). */
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

/** A fresh download link each time it is called (MDE mints a new SAS per call). */
export type LinkSource = () => Promise<string>;

/** The one writer of evidence into the customer's container. Never overwrites a committed blob. */
export interface EvidenceStore {
  /** Properties of an already committed evidence blob, or undefined. */
  find(blobName: string): Promise<StoredEvidence | undefined>;
  /** Streams the link's content into `blobName`, hashing in flight; a no-op returning the existing blob when it is already committed. */
  copyFromLink(link: LinkSource, options: CopyOptions): Promise<CopyResult>;
  /** Writes a small JSON document (the manifest) conditionally; returns the existing one untouched if present. */
  writeJson(blobName: string, value: unknown, options: { metadata: Record<string, string>; tags?: Record<string, string> }): Promise<CopyResult>;
  /** The URL (without SAS) a blob name has in this container. */
  urlOf(blobName: string): string;
}
