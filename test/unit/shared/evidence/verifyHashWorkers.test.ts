/**
 * `verify` hashes evidence on worker threads (HashPool): the digests it reports must be those of
 * node:crypto on one thread for a blob read in many stream chunks, gzip included (its decompressed
 * SHA-256 too), and a changed byte must still be a MISMATCH.
 */
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import type { ContainerClient } from "@azure/storage-blob";
import { blockIdOf, newBlockNonce } from "../../../../shared/evidence/blockStager";
import { evidenceMetadata } from "../../../../shared/evidence/evidenceMetadata";
import { checkEvidenceBlob } from "../../../../shared/evidence/verify/evidenceCheck";
import { HashPool } from "../../../../shared/evidence/verify/hashPool";
import type { ListedBlob } from "../../../../shared/evidence/verify/scope";

const MiB = 1024 * 1024;
const BLOCK = 4 * MiB;
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const md5 = (b: Buffer) => createHash("md5").update(b).digest("base64");

/** A container holding one blob as the evidence writer lays it out, served in 64 KiB stream chunks as a socket delivers them. */
function containerWith(name: string, stored: Buffer, blockSizes: number[], nonce: string): ContainerClient {
  const blob = {
    download: async () => ({
      etag: '"0x1"',
      readableStreamBody: Readable.from(
        (function* () {
          for (let at = 0; at < stored.length; at += 64 * 1024) yield stored.subarray(at, at + 64 * 1024);
        })(),
      ),
    }),
    getBlockList: async () => ({
      committedBlocks: blockSizes.map((size, i) => ({ name: blockIdOf(i, nonce), size })),
      uncommittedBlocks: [],
    }),
  };
  return {
    getBlockBlobClient: (blobName: string) => {
      if (blobName !== name) throw new Error(`unexpected blob ${blobName}`);
      return blob;
    },
  } as unknown as ContainerClient;
}

/** The listing of a blob the collector wrote from `original`; `stored` is what the container holds now. */
function evidence(original: Buffer, stored: Buffer, decompressed?: Buffer) {
  const nonce = newBlockNonce();
  const name = "liveresponse/m/a/1-GetFile-memory.dmp.gz";
  const blockSizes = Array.from({ length: Math.ceil(original.length / BLOCK) }, (_, i) => Math.min(BLOCK, original.length - i * BLOCK));
  const metadata = evidenceMetadata(
    { machineid: "m", actionid: "a", commandindex: "1", commandtype: "GetFile", instanceid: "i" },
    { sha256: sha256(original), md5: md5(original), size: original.length },
    decompressed ? { format: "gzip", decompressed: { size: decompressed.length, sha256: sha256(decompressed) } } : { format: "raw" },
    { blockNonce: nonce },
  );
  const listed: ListedBlob = { name, size: stored.length, contentMD5: md5(original), metadata };
  return { container: containerWith(name, stored, blockSizes, nonce), listed };
}

let pool: HashPool;
beforeAll(() => {
  pool = new HashPool(2);
});
afterAll(async () => {
  await pool.close();
});

describe("verify's hash workers", () => {
  // Random bytes do not compress: the gzip is as large as its content, many slots and stream chunks long.
  const content = randomBytes(9 * MiB + 12_345);
  const gzip = gzipSync(content);

  it("report the SHA-256, MD5 and decompressed SHA-256 node:crypto computes, for gzip in many chunks", async () => {
    const { container, listed } = evidence(gzip, gzip, content);
    const row = await checkEvidenceBlob(container, listed, undefined, { digest: pool.digest });
    expect(row).toMatchObject({ status: "OK", size: gzip.length, sha256: sha256(gzip), decompressedSha256: sha256(content), problems: [] });
  });

  it("still find one changed byte a MISMATCH (SHA-256, MD5 and the decompressed content)", async () => {
    const tampered = Buffer.from(gzip);
    tampered[5 * MiB + 7] ^= 0x01;
    const { container, listed } = evidence(gzip, tampered, content);
    const row = await checkEvidenceBlob(container, listed, undefined, { digest: pool.digest });
    expect(row.status).toBe("MISMATCH");
    expect(row.sha256).toBe(sha256(tampered));
    expect(row.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^SHA-256 /),
        expect.stringMatching(/^MD5 /),
        expect.stringMatching(/decompressed/),
        expect.stringMatching(/Content-MD5 .* is not the MD5 of its bytes/),
      ]),
    );
  });

  it("take a stream chunk at once while a slot is free: no promise to wait for, and the chunk may be reused", async () => {
    const digest = pool.digest();
    const chunk = Buffer.alloc(64 * 1024, 1);
    expect(digest.update(chunk)).toBeUndefined();
    // The stream may hand this memory out again as soon as update returns.
    chunk.fill(2);
    expect(await digest.finish()).toEqual({ sha256: sha256(Buffer.alloc(64 * 1024, 1)), md5: md5(Buffer.alloc(64 * 1024, 1)) });
  });

  it("fail a read whose worker is gone instead of leaving it waiting", async () => {
    const own = new HashPool(2);
    try {
      const digest = own.digest();
      await (own as unknown as { workers: { terminate(): Promise<number> }[] }).workers[0].terminate();
      const read = async () => {
        const fed = digest.update(randomBytes(20 * MiB));
        if (fed) await fed;
        return digest.finish();
      };
      await expect(read()).rejects.toThrow(/hash worker exited/);
    } finally {
      await own.close();
    }
  });
});
