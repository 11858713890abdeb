/**
 * Small state blobs (records, cursors, watch entries): their body read as UTF-8 text, and a JSON
 * body written into a container that is created on first write when missing (local runs; in Azure
 * the template creates it).
 */
import type { ContainerClient } from "@azure/storage-blob";
import { storageCodeOf } from "./storageErrors";

/** A small blob's body as UTF-8 text; callers bound the size first. */
export async function readBlobText(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stream) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString("utf8");
}

/** Uploads `text` as `name`, JSON, with the given metadata and access conditions. */
export async function uploadJsonBlob(
  container: ContainerClient,
  name: string,
  text: string,
  options: { metadata?: Record<string, string>; conditions?: { ifNoneMatch?: string; ifMatch?: string } } = {},
): Promise<void> {
  const blob = container.getBlockBlobClient(name);
  const send = () => blob.upload(text, Buffer.byteLength(text), { ...options, blobHTTPHeaders: { blobContentType: "application/json" } });
  try {
    await send();
  } catch (e) {
    if (storageCodeOf(e) !== "ContainerNotFound") throw e;
    await container.createIfNotExists();
    await send();
  }
}
