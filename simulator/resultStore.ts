import { createHash, randomBytes } from "node:crypto";
import { PassThrough, Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { BlobSASPermissions, BlobServiceClient, type ContainerClient } from "@azure/storage-blob";

/** Container MDE serves results from (the example link of https://learn.microsoft.com/defender-endpoint/api/get-live-response-result). */
export const DEFAULT_RESULT_CONTAINER = "investigation-actions-data";

/** Hash and size of the exact bytes served, plus of the uncompressed content for GetFile. */
export interface ResultFigures {
  sha256: string;
  size: number;
  /** GetFile only: the uncompressed file content. */
  contentSha256?: string;
  contentSize?: number;
}

/** One result uploaded to the result store. */
export interface StoredResult extends ResultFigures {
  blobName: string;
}

/**
 * How to produce a result's bytes: `gzip` compresses the content. GetFile results arrive gzip-compressed: observed in
 * production integrations, not documented by Microsoft (MDEAutomator, https://github.com/msdirtbag/MDEAutomator, saves
 * them as `<file>.gz`).
 */
export interface ResultSource {
  content: () => Readable;
  gzip: boolean;
  /** zlib level; 0 ("stored") is a valid gzip stream at copy speed. @default zlib's default (6) */
  gzipLevel?: number;
}

class HashTap extends Transform {
  private readonly hash = createHash("sha256");
  size = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.push(chunk);
    done();
  }
  digest(): string {
    return this.hash.digest("hex");
  }
}

/**
 * The simulated MDE result store: an Azure Storage account (Azurite's `mdesource`) holding each
 * command result once, handed out as short-lived read-only blob SAS URLs like production's.
 */
export class ResultStore {
  private readonly container: ContainerClient;
  private readonly stored = new Map<string, Promise<StoredResult>>();

  constructor(connectionString: string, containerName = DEFAULT_RESULT_CONTAINER) {
    this.container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(containerName);
  }

  async ensureContainer(): Promise<void> {
    await this.container.createIfNotExists();
  }

  /**
   * Uploads the result for `key` once and returns where it is and what it hashes to. Concurrent and
   * repeated calls share the first upload (the link call is idempotent); a failed upload is retried next time.
   */
  materialize(key: string, actionId: string, source: ResultSource): Promise<StoredResult> {
    let promise = this.stored.get(key);
    if (!promise) {
      promise = this.upload(actionId, source);
      this.stored.set(key, promise);
      promise.catch(() => this.stored.delete(key));
    }
    return promise;
  }

  /**
   * A read-only SAS URL for one blob (`sp=r`, `sr=b`). Expiry uses the real wall clock, never the
   * simulator's clock: the storage service checks `se` against its own time, and so does Azurite
   * (https://learn.microsoft.com/azure/storage/common/storage-dotnet-shared-access-signature-part-1).
   */
  async linkFor(blobName: string, ttlInMs: number, alreadyExpired: boolean): Promise<string> {
    const now = Date.now();
    const blob = this.container.getBlobClient(blobName);
    return alreadyExpired
      ? blob.generateSasUrl({
          permissions: BlobSASPermissions.parse("r"),
          startsOn: new Date(now - 2 * ttlInMs - 60_000),
          expiresOn: new Date(now - 60_000),
        })
      : // `se` carries whole seconds (the SDK truncates): round up, or a 1-second link could be born expired.
        blob.generateSasUrl({ permissions: BlobSASPermissions.parse("r"), expiresOn: new Date(Math.ceil((now + ttlInMs) / 1000) * 1000) });
  }

  private async upload(actionId: string, source: ResultSource): Promise<StoredResult> {
    // Shaped like production: <actionId>/CustomPlaybookCommandOutput/<32 hex> (get-live-response-result's example link).
    const blobName = `${actionId}/CustomPlaybookCommandOutput/${randomBytes(16).toString("hex")}`;
    const contentTap = new HashTap();
    const servedTap = new HashTap();
    const body = new PassThrough();
    const produced = source.gzip
      ? pipeline(source.content(), contentTap, createGzip({ level: source.gzipLevel }), servedTap, body)
      : pipeline(source.content(), servedTap, body);
    const uploaded = this.container
      .getBlockBlobClient(blobName)
      .uploadStream(body, 4 * 1024 * 1024, 4, { blobHTTPHeaders: { blobContentType: "application/octet-stream" } })
      .catch((e: unknown) => {
        body.destroy(e as Error);
        throw e;
      });
    await Promise.all([produced, uploaded]);
    const figures: StoredResult = { blobName, sha256: servedTap.digest(), size: servedTap.size };
    if (source.gzip) Object.assign(figures, { contentSha256: contentTap.digest(), contentSize: contentTap.size });
    return figures;
  }
}
