import type { ContainerClient } from "@azure/storage-blob";
import { sanitizeSegment } from "../blobPath";
import { isSignatureBlobName } from "../signing/manifestSignature";

/** What to verify: a whole prefix, or one machine, action or collection instance under it. */
export interface VerifyScope {
  /** EVIDENCE_PREFIX: the folder the collector writes under. */
  prefix: string;
  machineId?: string;
  actionId?: string;
  /** An orchestration instance id: the collection's folder is found by its blobs' `instanceid` metadata. */
  instanceId?: string;
}

/** A blob as listed, with what the listing already says about it. */
export interface ListedBlob {
  name: string;
  size: number;
  /** Base64 Content-MD5 property, when set. */
  contentMD5?: string;
  metadata: Record<string, string>;
}

/** One collection's folder, `{prefix}/{machineId}/{actionId}` (or `unsubmitted-{instanceId}`), and its blobs. */
export interface CollectionFolder {
  folder: string;
  blobs: Map<string, ListedBlob>;
}

/** `manifest.json`, or `manifest-{instanceId}.json` written when that name was taken. */
export function isManifestBlobName(blobName: string): boolean {
  const base = blobName.slice(blobName.lastIndexOf("/") + 1);
  return !isSignatureBlobName(base) && (base === "manifest.json" || /^manifest-[^/]+\.json$/.test(base));
}

/**
 * Lists the blobs of the scope (names, sizes and metadata: one listing call per 5,000 blobs, no
 * content) and groups them by folder, one folder per collection. A machine narrows the listing to
 * its folder; an action or an instance is matched on the folder name or the blobs' metadata.
 */
export async function listCollections(container: ContainerClient, scope: VerifyScope): Promise<CollectionFolder[]> {
  const root = scope.prefix
    .split("/")
    .filter((s) => s.length > 0)
    .map(sanitizeSegment)
    .join("/");
  const listPrefix = [root, scope.machineId && sanitizeSegment(scope.machineId)].filter(Boolean).join("/") + "/";
  const folders = new Map<string, CollectionFolder>();
  for await (const item of container.listBlobsFlat({ prefix: listPrefix === "/" ? undefined : listPrefix, includeMetadata: true })) {
    const folder = item.name.slice(0, Math.max(0, item.name.lastIndexOf("/")));
    const entry = folders.get(folder) ?? { folder, blobs: new Map<string, ListedBlob>() };
    entry.blobs.set(item.name, {
      name: item.name,
      size: item.properties.contentLength ?? 0,
      contentMD5: item.properties.contentMD5 ? Buffer.from(item.properties.contentMD5).toString("base64") : undefined,
      metadata: item.metadata ?? {},
    });
    folders.set(folder, entry);
  }
  return [...folders.values()].filter((f) => matches(f, scope)).sort((a, b) => a.folder.localeCompare(b.folder));
}

function matches(collection: CollectionFolder, scope: VerifyScope): boolean {
  const last = collection.folder.slice(collection.folder.lastIndexOf("/") + 1);
  const blobs = [...collection.blobs.values()];
  if (
    scope.actionId !== undefined &&
    last !== sanitizeSegment(scope.actionId) &&
    !blobs.some((b) => b.metadata.actionid === scope.actionId)
  )
    return false;
  if (
    scope.instanceId !== undefined &&
    last !== `unsubmitted-${sanitizeSegment(scope.instanceId)}` &&
    !blobs.some((b) => b.metadata.instanceid === scope.instanceId)
  )
    return false;
  return true;
}
