import type { ContainerClient } from "@azure/storage-blob";

/** Documents (manifests, signatures) are a few hundred KB at most; anything larger is not one of ours. */
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/**
 * Reads a small document of the evidence container whole, or undefined when the name holds
 * nothing (or something far larger than any document the collector writes).
 */
export function documentReader(container: ContainerClient): (blobName: string) => Promise<Buffer | undefined> {
  return async (blobName) => {
    const blob = container.getBlobClient(blobName);
    try {
      const properties = await blob.getProperties();
      if ((properties.contentLength ?? 0) > MAX_DOCUMENT_BYTES) return undefined;
      return await blob.downloadToBuffer();
    } catch (e) {
      if (typeof e === "object" && e !== null && (e as { statusCode?: number }).statusCode === 404) return undefined;
      throw e;
    }
  };
}
