/**
 * The governor's document in a blob of a state container (never the evidence container: evidence is
 * write-once, this blob is rewritten on every decision). One blob per tenant, `governor/<tenant>.json`,
 * rewritten whole under If-Match, created under If-None-Match: *.
 */
import { BlobServiceClient, type AnonymousCredential, type ContainerClient, type StorageSharedKeyCredential } from "@azure/storage-blob";
import type { TokenCredential } from "@azure/identity";
import type { GovernorStore, StoredDocument } from "./governorStore";
import { storageStatusOf as statusOf, storageCodeOf as codeOf } from "../storageErrors";

/** Far above any document the governor writes (its queues are capped); a larger blob is not ours. */
const MAX_DOCUMENT_BYTES = 1024 * 1024;

/** The blob of a tenant's state: its id (or "default") reduced to characters safe in a blob name. */
export function governorBlobName(tenant = "default"): string {
  const safe = tenant.replace(/[^A-Za-z0-9-]/g, "").slice(0, 64);
  return `governor/${safe || "default"}.json`;
}

export interface BlobGovernorStoreOptions {
  /** Create the container on first write when it is missing: local development only (in Azure, deployment creates it). */
  createContainer?: boolean;
}

export class BlobGovernorStore implements GovernorStore {
  constructor(
    private readonly container: ContainerClient,
    private readonly blobName: string,
    private readonly options: BlobGovernorStoreOptions = {},
  ) {}

  async read(): Promise<StoredDocument | undefined> {
    try {
      const response = await this.container.getBlobClient(this.blobName).download(0);
      const text = await readBounded(response.readableStreamBody);
      return { document: parseJson(text), etag: response.etag! };
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw e;
    }
  }

  async write(document: unknown, etag: string | undefined): Promise<"written" | "conflict"> {
    const body = JSON.stringify(document);
    const upload = () =>
      this.container.getBlockBlobClient(this.blobName).upload(body, Buffer.byteLength(body), {
        conditions: etag === undefined ? { ifNoneMatch: "*" } : { ifMatch: etag },
        blobHTTPHeaders: { blobContentType: "application/json" },
      });
    try {
      await upload();
      return "written";
    } catch (e) {
      if (isConflict(e)) return "conflict";
      if (!(this.options.createContainer && codeOf(e) === "ContainerNotFound")) throw e;
    }
    await this.container.createIfNotExists();
    try {
      await upload();
      return "written";
    } catch (e) {
      if (isConflict(e)) return "conflict";
      throw e;
    }
  }
}

/** A store over the tenant's blob in `containerName`, from a connection string (Azurite) or an account URL and credential. */
export function createBlobGovernorStore(
  account:
    { connectionString: string } | { accountUrl: string; credential: TokenCredential | StorageSharedKeyCredential | AnonymousCredential },
  containerName: string,
  tenant?: string,
  options: BlobGovernorStoreOptions = {},
): BlobGovernorStore {
  const service =
    "connectionString" in account
      ? BlobServiceClient.fromConnectionString(account.connectionString)
      : new BlobServiceClient(account.accountUrl, account.credential);
  return new BlobGovernorStore(service.getContainerClient(containerName), governorBlobName(tenant), options);
}

async function readBounded(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stream) return "";
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    bytes += buffer.length;
    if (bytes > MAX_DOCUMENT_BYTES) return "";
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** 412: another writer changed the blob since it was read; 409 BlobAlreadyExists: another writer created it first. */
function isConflict(e: unknown): boolean {
  const status = statusOf(e);
  return status === 412 || (status === 409 && codeOf(e) !== "ContainerNotFound" && codeOf(e) !== "ContainerBeingDeleted");
}
