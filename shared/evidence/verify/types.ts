/** The verdict on one blob: intact, altered (or unverifiable), absent though recorded, present though not recorded. */
export type VerifyStatus = "OK" | "MISMATCH" | "MISSING" | "EXTRA";

/** What a blob is to the collection. */
export type BlobKind = "evidence" | "manifest" | "signature" | "timestamp" | "other";

/** One line of the report. */
export interface VerifyRow {
  status: VerifyStatus;
  blobName: string;
  kind: BlobKind;
  /** Bytes as read now (absent when the blob was not read). */
  size?: number;
  /** Lowercase hex SHA-256 as read now. */
  sha256?: string;
  /** For gzip: the SHA-256 of the decompressed content as read now. */
  decompressedSha256?: string;
  /** Why the status is not OK, one finding each; empty for OK. */
  problems: string[];
  /** Facts worth knowing that are not problems (a copy from before block nonces). */
  notes?: string[];
  /** A manifest's RFC 3161 token: when the TSA saw the manifest's SHA-256, and who it is. */
  timestamp?: {
    genTime: string;
    serialNumber: string;
    policy: string;
    tsa?: string;
    signer?: { subject: string; issuer: string; serialNumber: string };
  };
}

/** Counts over the report. */
export interface VerifySummary {
  /** Folders (one per collection: `{prefix}/{machineId}/{actionId}`) examined. */
  collections: number;
  rows: number;
  ok: number;
  mismatch: number;
  missing: number;
  extra: number;
  /** Bytes of blob content read and hashed. */
  bytesRead: number;
  elapsedInMs: number;
}

export interface VerifyReport {
  rows: VerifyRow[];
  summary: VerifySummary;
}

/** Progress of a long run, reported as blobs finish and bytes arrive. */
export interface VerifyProgress {
  blobsDone: number;
  blobsTotal: number;
  bytesDone: number;
  bytesTotal: number;
}
