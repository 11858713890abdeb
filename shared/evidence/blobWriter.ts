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
import { readBlockList } from "./blockLayout";
import { stageChunk } from "./chunkedCopy";
import type { ContentInspection } from "./contentFormat";
import { evidenceMetadata, storedEvidenceFrom } from "./evidenceMetadata";
import { contentProblems, integrityError, storedBlobProblems, type StoredBlobExpectations } from "./integrity";
import { jsonDocument } from "./jsonDocument";
import type { LinkDownloadOptions } from "./linkDownload";
import { readBackBlob, type BlobReadBack } from "./readBack";
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
import { storageStatusOf as statusOf } from "../storageErrors";

/** Settings of {@link BlobEvidenceStore}. */
export interface BlobEvidenceStoreOptions {
  /** Size of each staged block. @default 8 MiB (measured fastest against Azurite without costing much memory) */
  blockSizeInBytes?: number;
  /**
   * Blocks held in memory at once (the one filling and those uploading): memory is about blockSize times this.
   * @default 4 (8 measured no faster against Azurite with `npm run bench:evidence`, for twice the memory)
   */
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
    const properties = await this.propertiesOf(blobName);
    return properties && storedEvidenceFrom(blobName, this.urlOf(blobName), properties, this.now);
  }

  private async propertiesOf(blobName: string) {
    try {
      return await this.container.getBlobClient(blobName).getProperties();
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw e;
    }
  }

  /**
   * The one copy path, for a result of any size (see {@link EvidenceStore.copyChunk}, and
   * {@link stageChunk} for why a retried call is safe): a result no larger than `chunkBytes` is
   * copied and committed in one call. Each call asks for a fresh link, so no link ever outlives a
   * chunk and none is kept in the state; an expired link (403/404) or a broken stream within the
   * chunk is resumed with a Range request on a new one (at most `maxLinkFetches` per call).
   *
   * After the commit the blob is read back once from the container (its SHA-256 and MD5 must be
   * the ones computed in flight; the same pass yields the head and, for gzip, the decompressed
   * SHA-256 whatever the size). A blob already there (a retried call, a concurrent attempt, or
   * something planted) is read back the same way and must match its own metadata, the metadata
   * this copy writes, the writer's block layout (with this copy's nonce when a state names it) and,
   * after a lost race, the digest this copy computed.
   * @throws CollectorError `IntegrityError` (the stored blob is not the evidence: planted, altered,
   * or holding other bytes than those copied), `DownloadFailed`, `UntrustedDownloadLink`,
   * `InvalidCopyState` and `SourceChanged` (the source is no longer the one earlier chunks read:
   * call again with `undefined` to copy from byte 0); RangeError for a `chunkBytes` that is not a
   * positive multiple of the block size; the abort error when aborted.
   */
  async copyChunk(link: LinkSource, state: ChunkedCopyState | undefined, options: ChunkedCopyOptions): Promise<ChunkedCopyProgress> {
    const { blobName } = options;
    const blob = this.container.getBlockBlobClient(blobName);
    if (await this.propertiesOf(blobName)) {
      const layout = state ? { nonce: state.nonce, ownUncommitted: state.nonce ?? null } : {};
      return { state: state && { ...state, done: true }, result: await this.alreadyStored(blob, options, layout) };
    }

    const started = this.now().getTime();
    const staging = {
      blob,
      link,
      download: this.downloadOptions(options),
      blockSize: this.blockSize,
      maxBlocksInFlight: this.maxBlocksInFlight,
      chunkBytes: options.chunkBytes,
    };
    const staged = await stageChunk(staging, state, blobName);
    const next = staged.state;
    if (!staged.complete) {
      this.logger.info("Evidence chunk staged", {
        blobName,
        offset: next.offset,
        sourceSize: next.sourceSize,
        chunks: next.chunks,
        linkFetches: next.linkFetches,
        elapsedInMs: this.now().getTime() - started,
      });
      return { state: next };
    }
    const { digest, inspection, contentEncoding } = staged;
    const found = { digest, inspection, contentEncoding, blockNonce: next.nonce };
    const committed = await this.commitBlocks(blob, staged.blockIds, options, found, started);
    if (!committed) {
      // A concurrent or earlier attempt committed first: its blob stands if it holds what we read.
      const ours = { values: { sha256: digest.sha256 }, source: "this copy's read of the source" };
      const existing = await this.alreadyStored(blob, options, { ownUncommitted: next.nonce ?? null, content: ours });
      return { state: { ...next, done: true }, result: { ...existing, linkFetches: next.linkFetches } };
    }
    const read = await this.readBack(blob, options);
    const problems = contentProblems({ ...digest, decompressed: inspection.decompressed }, read, "the in-flight digest");
    if (problems.length > 0) throw integrityError(blobName, "Committed blob read back does not hold the bytes copied:", problems);
    const result: CopyResult = {
      ...committed,
      decompressed: inspection.decompressed ?? read.inspection.decompressed,
      linkFetches: next.linkFetches,
      ...(read.head ? { head: read.head } : {}),
    };
    return { state: { ...next, done: true }, result };
  }

  /** The download settings of one copy or chunk. */
  private downloadOptions(options: CopyOptions): LinkDownloadOptions {
    return {
      fetch: this.fetch,
      maxLinkFetches: this.maxLinkFetches,
      sourceHosts: this.sourceHosts,
      abortSignal: options.abortSignal,
      logger: this.logger,
      logProperties: { blobName: options.blobName },
    };
  }

  /** Reads the stored blob once (see readBackBlob), logging what the check cost. */
  private async readBack(blob: BlockBlobClient, options: CopyOptions): Promise<BlobReadBack> {
    const now = () => this.now().getTime();
    const read = await readBackBlob(blob, { abortSignal: options.abortSignal, captureHeadBytes: options.captureHeadBytes, now });
    this.logger.info("Evidence read back", { blobName: options.blobName, size: read.size, elapsedInMs: read.elapsedInMs });
    return read;
  }

  /**
   * A blob already holds the name: returned untouched (without asking MDE for anything) once read
   * back and found to be this copy's evidence.
   * @param expected - the copy's nonce and own leftover blocks when a state names them, and after a
   * lost commit race the digest this copy computed (see storedBlobProblems)
   * @throws CollectorError `IntegrityError` naming every finding
   */
  private async alreadyStored(
    blob: BlockBlobClient,
    options: CopyOptions,
    expected: Omit<StoredBlobExpectations, "metadata">,
  ): Promise<CopyResult> {
    const { blobName } = options;
    const properties = await this.propertiesOf(blobName);
    if (!properties) throw new CollectorError("EvidenceConflict", `Blob ${blobName} was reported to exist but cannot be read back`);
    const [read, blocks] = await Promise.all([this.readBack(blob, options), readBlockList(blob, options.abortSignal)]);
    const contentMD5 = properties.contentMD5 ? Buffer.from(properties.contentMD5).toString("base64") : undefined;
    const facts = { metadata: properties.metadata ?? {}, contentMD5, read, blocks };
    const problems = storedBlobProblems(facts, { ...expected, metadata: { values: options.metadata, source: "this copy" } });
    if (problems.length > 0) {
      this.logger.error("Evidence blob already present is not the evidence; integrity error", { blobName, findings: problems.length });
      throw integrityError(blobName, "Blob already present is not this copy's evidence:", problems);
    }
    this.logger.info("Evidence already stored and read back; left untouched", { blobName, size: read.size });
    const stored = storedEvidenceFrom(blobName, this.urlOf(blobName), properties, this.now);
    return {
      ...stored,
      decompressed: stored.decompressed ?? read.inspection.decompressed,
      created: false,
      linkFetches: 0,
      ...(read.head ? { head: read.head } : {}),
    };
  }

  /**
   * Commits the staged blocks once, never over an existing blob, with Content-MD5, hashes and
   * metadata in the commit itself (the only write a WORM container accepts). Undefined when a blob
   * of that name was committed first (409): the caller checks that one. Without the head and the
   * link count: the caller adds them.
   */
  private async commitBlocks(
    blob: BlockBlobClient,
    blockIds: string[],
    options: CopyOptions,
    found: { digest: ContentDigest; inspection: ContentInspection; contentEncoding?: string; blockNonce?: string },
    started: number,
  ): Promise<Omit<CopyResult, "linkFetches"> | undefined> {
    const { blobName } = options;
    const { digest, inspection, blockNonce } = found;
    const metadata = evidenceMetadata(options.metadata, digest, inspection, { sourceContentEncoding: found.contentEncoding, blockNonce });
    try {
      const committed = await blob.commitBlockList(blockIds, {
        conditions: { ifNoneMatch: "*" },
        blobHTTPHeaders: { blobContentType: options.contentType, blobContentMD5: digest.md5Bytes },
        metadata,
        tags: options.tags,
        abortSignal: options.abortSignal,
      });
      const elapsedInMs = this.now().getTime() - started;
      this.logger.info("Evidence stored", { blobName, size: digest.size, contentFormat: inspection.format, elapsedInMs });
      return {
        blobName,
        blobUrl: this.urlOf(blobName),
        size: digest.size,
        sha256: digest.sha256,
        md5: digest.md5,
        contentFormat: inspection.format,
        decompressed: inspection.decompressed,
        ...(blockNonce ? { blockNonce } : {}),
        committedAt: (committed.lastModified ?? this.now()).toISOString(),
        created: true,
      };
    } catch (e) {
      if (!alreadyExists(e)) throw e;
      return undefined;
    }
  }

  async writeJson(
    blobName: string,
    value: unknown,
    options: { metadata: Record<string, string>; tags?: Record<string, string> },
  ): Promise<CopyResult> {
    const body = jsonDocument(value);
    const written = await this.createDocument(blobName, body, { ...options, contentType: "application/json; charset=utf-8" });
    if (written) return written;
    const sha256 = createHash("sha256").update(body).digest("hex");
    const md5Bytes = createHash("md5").update(body).digest();
    const blob = this.container.getBlockBlobClient(blobName);
    // An earlier attempt of the same write left exactly these bytes; anything else is not ours.
    const properties = await this.propertiesOf(blobName);
    if (!properties) throw new CollectorError("EvidenceConflict", `Blob ${blobName} was reported to exist but cannot be read back`);
    const stored = properties.contentLength === body.length ? await blob.downloadToBuffer(0, body.length) : undefined;
    if (!stored?.equals(body)) {
      const found = stored ? `SHA-256 ${createHash("sha256").update(stored).digest("hex")}` : "another size";
      const sizes = { storedSize: properties.contentLength, ourSize: body.length };
      this.logger.error("Document name taken by other content; integrity error", { blobName, ...sizes, ourSha256: sha256 });
      const finding = `stored: ${properties.contentLength ?? "?"} bytes, ${found}; this document: ${body.length} bytes, SHA-256 ${sha256}`;
      throw integrityError(blobName, "Another document already holds the name", [finding]);
    }
    this.logger.info("Document already stored by an earlier attempt; left untouched", { blobName });
    return this.documentWritten(blobName, body, sha256, md5Bytes, properties.createdOn ?? properties.lastModified ?? this.now(), false);
  }

  /** One conditional upload (`If-None-Match: *`) with Content-MD5 and the digests in the metadata; undefined when the name is taken. */
  async createDocument(
    blobName: string,
    body: Buffer,
    options: { contentType: string; metadata: Record<string, string>; tags?: Record<string, string> },
  ): Promise<CopyResult | undefined> {
    const sha256 = createHash("sha256").update(body).digest("hex");
    const md5Bytes = createHash("md5").update(body).digest();
    const metadata = evidenceMetadata(options.metadata, { sha256, md5: md5Bytes.toString("base64"), size: body.length }, { format: "raw" });
    try {
      const uploaded = await this.container.getBlockBlobClient(blobName).upload(body, body.length, {
        conditions: { ifNoneMatch: "*" },
        blobHTTPHeaders: { blobContentType: options.contentType, blobContentMD5: md5Bytes },
        metadata,
        tags: options.tags,
      });
      return this.documentWritten(blobName, body, sha256, md5Bytes, uploaded.lastModified ?? this.now(), true);
    } catch (e) {
      if (!alreadyExists(e)) throw e;
      return undefined;
    }
  }

  /** What writeJson reports: the document as stored, whether this call or an earlier attempt wrote it. */
  private documentWritten(blobName: string, body: Buffer, sha256: string, md5: Buffer, committedAt: Date, created: boolean): CopyResult {
    const md5Base64 = md5.toString("base64");
    return {
      blobName,
      blobUrl: this.urlOf(blobName),
      size: body.length,
      sha256,
      md5: md5Base64,
      contentFormat: "raw",
      committedAt: committedAt.toISOString(),
      created,
      linkFetches: 0,
    };
  }
}

/**
 * A store over an existing container, from a connection string (Azurite, keys) or an account
 * URL with a credential (managed identity in Azure). The container must exist: creating it, its
 * immutability policy and its access rules belong to deployment, not to the collector.
 */
export function createEvidenceStore(
  account:
    { connectionString: string } | { accountUrl: string; credential: TokenCredential | StorageSharedKeyCredential | AnonymousCredential },
  containerName: string,
  options: BlobEvidenceStoreOptions = {},
): BlobEvidenceStore {
  const service =
    "connectionString" in account
      ? BlobServiceClient.fromConnectionString(account.connectionString)
      : new BlobServiceClient(account.accountUrl, account.credential);
  return new BlobEvidenceStore(service.getContainerClient(containerName), options);
}

/** 409 BlobAlreadyExists: the `ifNoneMatch: "*"` guard refused to overwrite a committed blob. */
function alreadyExists(e: unknown): boolean {
  const code = typeof e === "object" && e !== null && "code" in e ? (e as { code?: string }).code : undefined;
  return statusOf(e) === 409 && (code === undefined || code === "BlobAlreadyExists");
}
