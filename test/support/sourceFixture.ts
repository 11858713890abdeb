import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BlobSASPermissions, BlobServiceClient, type BlockBlobClient, type ContainerClient } from "@azure/storage-blob";
import { BLOB_HOST_PATTERNS, type HostAllowList } from "../../shared/hostPolicy";
import { testAzurite } from "./azurite";

/** The download hosts of local development: Azure Storage, and loopback (Azurite, the cutting proxy). */
export const LOCAL_SOURCES: HostAllowList = { hosts: BLOB_HOST_PATTERNS, allowLoopback: true };

/** A fresh container in `mdesource`, the account standing in for MDE's result storage. */
export async function freshSourceContainer(): Promise<ContainerClient> {
  const service = BlobServiceClient.fromConnectionString(testAzurite.sourceConnectionString);
  const container = service.getContainerClient(`src-${randomUUID().slice(0, 8)}`);
  await container.create();
  return container;
}

/** Uploads bytes as a source result and returns its client. */
export async function putSource(
  container: ContainerClient,
  bytes: Buffer,
  name = `result-${randomUUID().slice(0, 8)}`,
): Promise<BlockBlobClient> {
  const blob = container.getBlockBlobClient(name);
  await blob.uploadData(bytes, { blockSize: 4 * 1024 * 1024 });
  return blob;
}

/** A read SAS URL like the one GetLiveResponseResultDownloadLink returns; expired when `expiresInMs` is negative. */
export function sasUrl(blob: BlockBlobClient, expiresInMs = 30 * 60_000): Promise<string> {
  const now = Date.now();
  return blob.generateSasUrl({
    permissions: BlobSASPermissions.parse("r"),
    startsOn: new Date(now - 2 * 60 * 60_000),
    expiresOn: new Date(now + expiresInMs),
  });
}

/** Deterministic-looking but incompressible content of the given size. */
export function randomContent(size: number): Buffer {
  return randomBytes(size);
}

/**
 * A tiny HTTP proxy in front of Azurite that cuts the connection after `cutAfterBytes` bytes of
 * its first answer; later requests are forwarded faithfully (Range included), unless
 * `ignoreRange` makes it answer them with the whole content.
 */
export async function startCuttingProxy(options: { cutAfterBytes: number; ignoreRange?: boolean }) {
  const requests: { range: string | undefined }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const first = requests.length === 0;
    const range = req.headers.range;
    requests.push({ range });
    void (async () => {
      const forwardRange = range && !options.ignoreRange ? { range } : undefined;
      const upstream = await fetch(`${testAzurite.blobEndpoint}${req.url}`, { headers: forwardRange });
      const headers: Record<string, string> = {};
      for (const name of ["content-length", "content-range", "etag", "content-type", "last-modified"]) {
        const value = upstream.headers.get(name);
        if (value) headers[name] = value;
      }
      res.writeHead(upstream.status, headers);
      let sent = 0;
      for await (const chunk of upstream.body ?? []) {
        const bytes = Buffer.from(chunk);
        if (first && sent + bytes.length >= options.cutAfterBytes) {
          res.write(bytes.subarray(0, options.cutAfterBytes - sent));
          // Let the bytes leave before the cut, so the client sees them and then a broken stream.
          await new Promise((r) => setTimeout(r, 50));
          res.socket?.destroy();
          return;
        }
        sent += bytes.length;
        if (!res.write(bytes)) await new Promise((r) => res.once("drain", r));
      }
      res.end();
    })().catch(() => res.socket?.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    requests,
    /** The same SAS URL, through the proxy. */
    via(url: string): string {
      const u = new URL(url);
      u.host = `127.0.0.1:${port}`;
      return u.toString();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
