/**
 * Benchmark (not a test) of the evidence writer against Azurite, with the baselines that make
 * its figure meaningful, measured in the same run:
 *   (a) plain fetch of the SAS link, bytes thrown away;
 *   (b) fetch + SHA-256 + MD5 with the writer's own (resumable) hasher, bytes thrown away;
 *   (c) the evidence writer: fetch, hashes, format detection, staged blocks, conditional commit;
 *   (d) Azurite's own ingest of the same number of bytes from memory (stageBlock + commit).
 * Azurite is one Node.js process and saturates one core (each run shows it: (d) stays well below (a)), so the fair
 * ceiling for (c) is min(a, d).
 *
 * Settings (environment): BENCH_MIB (default 256), BENCH_BLOCK_MIB (8), BENCH_BLOCKS_IN_FLIGHT (4), BENCH_CHUNK_MIB (512).
 * Run with `npm run bench:evidence` (Node 22).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { BlobSASPermissions, BlobServiceClient, type BlockBlobClient } from "@azure/storage-blob";
import { startAzurite } from "../simulator";
import { BlobEvidenceStore } from "../shared/evidence/blobWriter";
import { blockIdOf } from "../shared/evidence/blockStager";
import { ResumableHasher } from "../shared/evidence/resumableHashing";
import type { ChunkedCopyState } from "../shared/evidence/types";
import { benchSetting } from "./benchSettings";

const MiB = 1024 * 1024;

interface Measured {
  label: string;
  seconds: number;
  mibPerSecond: number;
  rssAtStartMiB: number;
  peakRssMiB: number;
}

/** Runs one phase, sampling RSS every 20 ms; collects garbage first when node runs with --expose-gc. */
async function measure(label: string, bytes: number, work: () => Promise<void>): Promise<Measured> {
  (globalThis as { gc?: () => void }).gc?.();
  const rssAtStart = process.memoryUsage.rss();
  let peak = rssAtStart;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  const started = process.hrtime.bigint();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  peak = Math.max(peak, process.memoryUsage.rss());
  return { label, seconds, mibPerSecond: bytes / MiB / seconds, rssAtStartMiB: rssAtStart / MiB, peakRssMiB: peak / MiB };
}

async function drain(url: string, onChunk: (chunk: Uint8Array) => void = () => {}): Promise<number> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`source answered HTTP ${response.status}`);
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    onChunk(chunk);
  }
  return size;
}

/** Stages `mib` MiB of random bytes block by block, so the benchmark never holds the file. */
async function createSource(blob: BlockBlobClient, mib: number): Promise<void> {
  const ids: string[] = [];
  const blockMiB = 8;
  for (let done = 0; done < mib; done += blockMiB) {
    const block = randomBytes(Math.min(blockMiB, mib - done) * MiB);
    ids.push(blockIdOf(ids.length));
    await blob.stageBlock(ids[ids.length - 1], block, block.length);
  }
  await blob.commitBlockList(ids);
}

/** Azurite's ingest ceiling: the same bytes staged from one reused buffer, `inFlight` at a time. */
async function ingestFromMemory(blob: BlockBlobClient, totalBytes: number, blockSize: number, inFlight: number): Promise<void> {
  const buffer = randomBytes(blockSize);
  const count = Math.ceil(totalBytes / blockSize);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const length = Math.min(blockSize, totalBytes - i * blockSize);
      await blob.stageBlock(blockIdOf(i), buffer.subarray(0, length), length);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  await blob.commitBlockList(Array.from({ length: count }, (_, i) => blockIdOf(i)));
}

async function main(): Promise<void> {
  const mib = benchSetting("BENCH_MIB", 256);
  const blockSize = benchSetting("BENCH_BLOCK_MIB", 8) * MiB;
  const inFlight = benchSetting("BENCH_BLOCKS_IN_FLIGHT", 4);
  const total = mib * MiB;
  const azurite = await startAzurite();
  try {
    const sourceContainer = BlobServiceClient.fromConnectionString(azurite.sourceConnectionString).getContainerClient(
      `bench-${randomUUID().slice(0, 8)}`,
    );
    await sourceContainer.create();
    const source = sourceContainer.getBlockBlobClient("result.bin");
    await createSource(source, mib);
    const url = await source.generateSasUrl({ permissions: BlobSASPermissions.parse("r"), expiresOn: new Date(Date.now() + 60 * 60_000) });
    const evidence = BlobServiceClient.fromConnectionString(azurite.evidenceConnectionString).getContainerClient(
      `bench-${randomUUID().slice(0, 8)}`,
    );
    await evidence.create();

    const results: Measured[] = [];
    results.push(await measure("(a) fetch to nowhere", total, async () => void (await drain(url))));
    results.push(
      await measure("(b) fetch + SHA-256 + MD5 to nowhere", total, async () => {
        const hasher = await ResumableHasher.create();
        await drain(url, (chunk) => hasher.update(chunk));
        hasher.digest();
      }),
    );
    const store = new BlobEvidenceStore(evidence, {
      sourceHosts: { hosts: [], allowLoopback: true },
      blockSizeInBytes: blockSize,
      maxBlocksInFlight: inFlight,
    });
    // The product's path: chunk by chunk, as the collect activity calls it (BENCH_CHUNK_MIB, default 512 as EVIDENCE_CHUNK_MIB).
    const chunkBytes = Number(process.env.BENCH_CHUNK_MIB ?? 512) * MiB;
    results.push(
      await measure(`(c) evidence writer, ${chunkBytes / MiB} MiB chunks`, total, async () => {
        let state: ChunkedCopyState | undefined;
        for (;;) {
          const progress = await store.copyChunk(async () => url, state, {
            blobName: "evidence.bin",
            contentType: "application/octet-stream",
            metadata: {},
            chunkBytes,
          });
          if (progress.result) {
            if (progress.result.size !== total) throw new Error(`copied ${progress.result.size} bytes, expected ${total}`);
            return;
          }
          state = progress.state;
        }
      }),
    );
    results.push(
      await measure("(d) Azurite ingest from memory", total, () =>
        ingestFromMemory(evidence.getBlockBlobClient("ingest.bin"), total, blockSize, inFlight),
      ),
    );

    console.log(`Evidence writer benchmark: ${mib} MiB, blocks of ${blockSize / MiB} MiB, ${inFlight} in flight, Node ${process.version}`);
    for (const r of results) {
      console.log(
        `${r.label.padEnd(40)} ${r.mibPerSecond.toFixed(1).padStart(7)} MiB/s  ${r.seconds.toFixed(2).padStart(6)} s  RSS ${r.rssAtStartMiB.toFixed(0)} -> peak ${r.peakRssMiB.toFixed(0)} MiB`,
      );
    }
    const [a, , c, d] = results;
    console.log(`ratio (c)/(a): ${(c.mibPerSecond / a.mibPerSecond).toFixed(2)}`);
    console.log(`ratio (c)/min(a, d): ${(c.mibPerSecond / Math.min(a.mibPerSecond, d.mibPerSecond)).toFixed(2)}`);
  } finally {
    await azurite.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
