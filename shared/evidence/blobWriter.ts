import { createHash } from "node:crypto";
import {
  type AnonymousCredential,
  BlobServiceClient,
  type BlockBlobClient,
  type ContainerClient,
  type StorageSharedKeyCredential,
} from "@azure/storage-blob";
import type { TokenCredential } from "@azure/identity";
import { CollectorError } from "../errors";
import type { HostAllowList } from "../hostPolicy";
import { silentLogger, type Logger } from "../log";
import { stageChunk } from "./chunkedCopy";
import type { ContentInspection } from "./contentFormat";
import { evidenceMetadata, storedEvidenceFrom } from "./evidenceMetadata";
import type { LinkDownloadOptions } from "./linkDownload";
import type {
  ChunkedCopyOptions,
  ChunkedCopyProgress,
  ChunkedCopyState,
  ContentDigest,
  CopyOptions,
  CopyResult,
  EvidenceStore,
  LinkSource,
  StoredEvidence,
} from "./types";

/** Settings of {@link BlobEvidenceStore}. */
export interface BlobEvidenceStoreOptions {
  /** Size of each staged block. @default 8 MiB (measured fastest against Azurite without costing much memory) */
  blockSizeInBytes?: number;
  /** Blocks held in memory at once (the one filling and those uploading): memory is about blockSize times this. @default 4 */
  maxBlocksInFlight?: number;
  /**
   * Hosts a download link may name; loopback (Azurite, the simulator) only in local development.
   * @default DEFAULT_SOURCE_HOSTS (linkPolicy.ts): Azure Storage blob endpoints, no loopback
   */
  sourceHosts?: HostAllowList;
  /** Download links used at most per copy, the first included (each costs one MDE API call). @default 5 */
  maxLinkFetches?: number;
  /** @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  logger?: Logger;
  /** Clock for durations and for a commit answer without Last-Modified. @default () => new Date() */
  now?: () => Date;
}

const MiB = 1024 * 1024;

/**
 * The evidence writer over one Blob container. Streams each result once, hashing it in flight,
 * into staged blocks, and commits conditionally (never overwrites) with Content-MD5, hashes and
 * metadata in the commit itself, which is the only write an immutable (WORM) container accepts.
 */
export class BlobEvidenceStore implements EvidenceStore {
  private readonly blockSize: number;
  private readonly maxBlocksInFlight: number;
  private readonly sourceHosts: HostAllowList | undefined;
  private readonly maxLinkFetches: number;
  private readonly fetch: typeof globalThis.fetch;
  private readonly logger: Logger;
  private readonly now: () => Date;

  constructor(
    private readonly container: ContainerClient,
    options: BlobEvidenceStoreOptions = {},
  ) {
    this.blockSize = options.blockSizeInBytes ?? 8 * MiB;
    this.maxBlocksInFlight = options.maxBlocksInFlight ?? 4;
    this.sourceHosts = options.sourceHosts;
    this.maxLinkFetches = options.maxLinkFetches ?? 5;
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? (() => new Date());
  }

  urlOf(blobName: string): string {
    const url = new URL(this.container.getBlobClient(blobName).url);
    url.search = "";
    return url.toString();
  }

  /** @throws CollectorError `NotEvidence` when a blob of that name exists without the collector's metadata. */
  async find(blobName: string): Promise<StoredEvidence | undefined> {
    let properties;
    try {
      properties = await this.container.getBlobClient(blobName).getProperties();
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw e;
    }
    return storedEvidenceFrom(blobName, this.urlOf(blobName), properties, this.now);
  }

  /**
   * The one copy path, for a result of any size (see {@link EvidenceStore.copyChunk}, and
   * {@link stageChunk} for why a retried call is safe): a result no larger than `chunkBytes` is
   * copied and committed in one call. Each call asks for a fresh link, so no link ever outlives a
   * chunk and none is kept in the state; an expired link (403/404) or a broken stream within the
   * chunk is resumed with a Range request on a new one (at most `maxLinkFetches` per call). The
   * head, when asked for, is read back from the committed blob.
   * @throws CollectorError `DownloadFailed`, `UntrustedDownloadLink`, `NotEvidence` (a foreign
   * blob holds the name), `InvalidCopyState` and `SourceChanged` (the source is no longer the one
   * earlier chunks read: call again with `undefined` to copy from byte 0); RangeError for a
   * `chunkBytes` that is not a positive multiple of the block size; the abort error when aborted.
   */
  async copyChunk(link: LinkSource, state: ChunkedCopyState | undefined, options: ChunkedCopyOptions): Promise<ChunkedCopyProgress> {
    const { blobName } = options;
    const blob = this.container.getBlockBlobClient(blobName);
    const existing = await this.find(blobName);
    if (existing) return { state: state && { ...state, done: true }, result: await this.alreadyStored(blob, existing, options.captureHeadBytes) };

    const started = this.now().getTime();
    const staging = { blob, link, download: this.downloadOptions(options), blockSize: this.blockSize, maxBlocksInFlight: this.maxBlocksInFlight, chunkBytes: options.chunkBytes };
    const staged = await stageChunk(staging, state, blobName);
    const next = staged.state;
    if (!staged.complete) {
      this.logger.info("Evidence chunk staged", { blobName, offset: next.offset, sourceSize: next.sourceSize, chunks: next.chunks, linkFetches: next.linkFetches, elapsedInMs: this.now().getTime() - started });
      return { state: next };
    }
    const { digest, inspection, contentEncoding } = staged;
    const committed = await this.commitBlocks(blob, staged.blockIds, options, { digest, inspection, contentEncoding, linkFetches: next.linkFetches }, started);
    return { state: { ...next, done: true }, result: { ...committed, ...(await this.headOf(blob, committed.size, options.captureHeadBytes)) } };
  }

  /** The download settings of one copy or chunk. */
  private downloadOptions(options: CopyOptions): LinkDownloadOptions {
    return { fetch: this.fetch, maxLinkFetches: this.maxLinkFetches, sourceHosts: this.sourceHosts, abortSignal: options.abortSignal, logger: this.logger, logProperties: { blobName: options.blobName } };
  }

  /** A re-run: the committed blob is returned untouched, without asking MDE for anything. */
  private async alreadyStored(blob: BlockBlobClient, existing: StoredEvidence, captureHeadBytes: number | undefined): Promise<CopyResult> {
    this.logger.info("Evidence already stored; left untouched", { blobName: existing.blobName, size: existing.size });
    return { ...existing, created: false, linkFetches: 0, ...(await this.headOf(blob, existing.size, captureHeadBytes)) };
  }

  /**
   * Commits the staged blocks once, never over an existing blob, with Content-MD5, hashes and
   * metadata in the commit itself (the only write a WORM container accepts). Without the head:
   * callers add it.
   */
  private async commitBlocks(
    blob: BlockBlobClient,
    blockIds: string[],
    options: CopyOptions,
    found: { digest: ContentDigest; inspection: ContentInspection; contentEncoding?: string; linkFetches: number },
    started: number,
  ): Promise<CopyResult> {
    const { blobName } = options;
    const { digest, inspection } = found;
    const metadata = evidenceMetadata(options.metadata, digest, inspection, found.contentEncoding);
    try {
      const committed = await blob.commitBlockList(blockIds, {
        conditions: { ifNoneMatch: "*" },
        blobHTTPHeaders: { blobContentType: options.contentType, blobContentMD5: digest.md5Bytes },
        metadata,
        tags: options.tags,
        abortSignal: options.abortSignal,
      });
      const result: CopyResult = {
        blobName,
        blobUrl: this.urlOf(blobName),
        size: digest.size,
        sha256: digest.sha256,
        md5: digest.md5,
        contentFormat: inspection.format,
        decompressed: inspection.decompressed,
        committedAt: (committed.lastModified ?? this.now()).toISOString(),
        created: true,
        linkFetches: found.linkFetches,
      };
      this.logger.info("Evidence stored", {
        blobName,
        size: digest.size,
        contentFormat: inspection.format,
        linkFetches: found.linkFetches,
        elapsedInMs: this.now().getTime() - started,
      });
      return result;
    } catch (e) {
      if (!alreadyExists(e)) throw e;
      return this.existingAfterRace(blobName, digest.sha256, found.linkFetches);
    }
  }

  async writeJson(blobName: string, value: unknown, options: { metadata: Record<string, string>; tags?: Record<string, string> }): Promise<CopyResult> {
    const body = Buffer.from(`${JSON.stringify(value, null, 2)}\n`, "utf8");
    const sha256 = createHash("sha256").update(body).digest("hex");
    const md5Bytes = createHash("md5").update(body).digest();
    const metadata = evidenceMetadata(options.metadata, { sha256, md5: md5Bytes.toString("base64"), size: body.length }, { format: "raw" });
    try {
      const uploaded = await this.container.getBlockBlobClient(blobName).upload(body, body.length, {
        conditions: { ifNoneMatch: "*" },
        blobHTTPHeaders: { blobContentType: "application/json; charset=utf-8", blobContentMD5: md5Bytes },
        metadata,
        tags: options.tags,
      });
      return {
        blobName,
        blobUrl: this.urlOf(blobName),
        size: body.length,
        sha256,
        md5: md5Bytes.toString("base64"),
        contentFormat: "raw",
        committedAt: (uploaded.lastModified ?? this.now()).toISOString(),
        created: true,
        linkFetches: 0,
      };
    } catch (e) {
      if (!alreadyExists(e)) throw e;
      return this.existingAfterRace(blobName, sha256, 0);
    }
  }

  /** A concurrent or earlier attempt committed first: its blob stands, ours is dropped. */
  private async existingAfterRace(blobName: string, ourSha256: string, linkFetches: number): Promise<CopyResult> {
    const existing = await this.find(blobName);
    if (!existing) throw new CollectorError("EvidenceConflict", `Blob ${blobName} was reported to exist but cannot be read back`);
    if (existing.sha256 !== ourSha256) {
      this.logger.warn("Evidence already stored with different content; the stored blob is kept", { blobName, storedSha256: existing.sha256, receivedSha256: ourSha256 });
    } else {
      this.logger.info("Evidence stored by a concurrent attempt; left untouched", { blobName });
    }
    return { ...existing, created: false, linkFetches };
  }

  /** The head of an already stored blob, read from the evidence itself (no MDE call). */
  private async headOf(blob: BlockBlobClient, size: number, captureHeadBytes: number | undefined): Promise<{ head?: Buffer }> {
    if (!captureHeadBytes || captureHeadBytes <= 0) return {};
    const count = Math.min(captureHeadBytes, size);
    if (count === 0) return { head: Buffer.alloc(0) };
    return { head: await blob.downloadToBuffer(0, count) };
  }
}

/**
 * A store over an existing container, from a connection string (Azurite, keys) or an account
 * URL with a credential (managed identity in Azure). The container must exist: creating it, its
 * immutability policy and its access rules belong to deployment, not to the collector.
 */
export function createEvidenceStore(
  account: { connectionString: string } | { accountUrl: string; credential: TokenCredential | StorageSharedKeyCredential | AnonymousCredential },
  containerName: string,
  options: BlobEvidenceStoreOptions = {},
): BlobEvidenceStore {
  const service =
    "connectionString" in account
      ? BlobServiceClient.fromConnectionString(account.connectionString)
      : new BlobServiceClient(account.accountUrl, account.credential);
  return new BlobEvidenceStore(service.getContainerClient(containerName), options);
}

function statusOf(e: unknown): number | undefined {
  return typeof e === "object" && e !== null && "statusCode" in e ? (e as { statusCode?: number }).statusCode : undefined;
}

/** 409 BlobAlreadyExists: the `ifNoneMatch: "*"` guard refused to overwrite a committed blob. */
function alreadyExists(e: unknown): boolean {
  const code = typeof e === "object" && e !== null && "code" in e ? (e as { code?: string }).code : undefined;
  return statusOf(e) === 409 && (code === undefined || code === "BlobAlreadyExists");
}
