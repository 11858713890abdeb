import { createHash, randomBytes } from "node:crypto";
import { BlobEvidenceStore } from "../../../shared/evidence/blobWriter";
import { blockIdOf } from "../../../shared/evidence/blockStager";
import type { ChunkedCopyState, CopyResult } from "../../../shared/evidence/types";
import { freshEvidenceContainer } from "../../support/azurite";
import { copyWhole } from "../../support/copyWhole";
import { freshSourceContainer, LOCAL_SOURCES, sasUrl } from "../../support/sourceFixture";

/**
 * 1 GiB through copyChunk, for figures rather than for CI: skipped unless EVIDENCE_BIG_TEST=1
 * (it takes a minute or two and Azurite's in-memory store grows by several GB).
 *   EVIDENCE_BIG_TEST=1 npx jest test/integration/evidence/chunkedCopyBig
 */
const enabled = process.env.EVIDENCE_BIG_TEST === "1";
const MiB = 1024 * 1024;
const FILE_MIB = Number(process.env.EVIDENCE_BIG_TEST_MIB ?? 1024);
const CHUNK_MIB = 256;

/** Samples RSS often while `work` runs. */
async function measured<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number; peakRssMiB: number; baseRssMiB: number }> {
  const baseRss = process.memoryUsage().rss;
  let peak = baseRss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const started = performance.now();
  try {
    const value = await work();
    return { value, seconds: (performance.now() - started) / 1000, peakRssMiB: peak / MiB, baseRssMiB: baseRss / MiB };
  } finally {
    clearInterval(timer);
  }
}

(enabled ? it : it.skip)(
  `copies ${FILE_MIB} MiB in ${CHUNK_MIB} MiB chunks with whole-file hashes, printing throughput and peak RSS`,
  async () => {
    // Staged 1 MiB at a time, so the test never holds the file.
    const source = (await freshSourceContainer()).getBlockBlobClient("big.bin");
    const sha256 = createHash("sha256");
    const md5 = createHash("md5");
    const ids: string[] = [];
    for (let i = 0; i < FILE_MIB; i++) {
      const block = randomBytes(MiB);
      sha256.update(block);
      md5.update(block);
      ids.push(blockIdOf(i));
      await source.stageBlock(ids[i], block, block.length);
    }
    await source.commitBlockList(ids);
    const expected = { sha256: sha256.digest("hex"), md5: md5.digest("base64"), size: FILE_MIB * MiB };
    const url = await sasUrl(source);
    const evidence = await freshEvidenceContainer("big");
    const store = new BlobEvidenceStore(evidence, { sourceHosts: LOCAL_SOURCES, blockSizeInBytes: 8 * MiB, maxBlocksInFlight: 4 });
    const options = { blobName: "big/chunked.bin", contentType: "application/octet-stream", metadata: {}, chunkBytes: CHUNK_MIB * MiB };

    const chunkSeconds: number[] = [];
    const stateSizes: number[] = [];
    const chunked = await measured(async () => {
      let state: ChunkedCopyState | undefined;
      for (;;) {
        const t = performance.now();
        const progress = await store.copyChunk(async () => url, state, options);
        chunkSeconds.push((performance.now() - t) / 1000);
        if (progress.result) return progress.result;
        const json = JSON.stringify(progress.state);
        stateSizes.push(Buffer.byteLength(json));
        state = JSON.parse(json) as ChunkedCopyState;
      }
    });
    // The same copy in one call (a chunk as large as the file): what chunking costs.
    const single = await measured(() =>
      copyWhole(store, async () => url, { ...options, blobName: "big/single.bin" }, Math.ceil(FILE_MIB / 8) * 8 * MiB),
    );

    const report = (label: string, m: { seconds: number; peakRssMiB: number; baseRssMiB: number }) =>
      `${label}: ${m.seconds.toFixed(1)} s, ${(FILE_MIB / m.seconds).toFixed(1)} MiB/s, peak RSS ${m.peakRssMiB.toFixed(0)} MiB (before: ${m.baseRssMiB.toFixed(0)} MiB)`;
    console.log(
      [
        `${FILE_MIB} MiB, 8 MiB blocks, 4 in flight, Node ${process.version}`,
        report(`copyChunk x${chunkSeconds.length} (${CHUNK_MIB} MiB)`, chunked),
        `  per chunk (s): ${chunkSeconds.map((s) => s.toFixed(1)).join(", ")}; state JSON sizes (bytes): ${stateSizes.join(", ")}`,
        report("copyChunk x1 (whole file, same run, baseline)", single),
      ].join("\n"),
    );

    const result: CopyResult = chunked.value;
    expect(result).toMatchObject({ created: true, ...expected });
    expect(single.value).toMatchObject({ created: true, ...expected });
    // Read back and hash what was stored: byte-identical, not merely reported so.
    const stored = createHash("sha256");
    for await (const piece of (await evidence.getBlockBlobClient(result.blobName).download()).readableStreamBody ?? [])
      stored.update(piece as Buffer);
    expect(stored.digest("hex")).toBe(expected.sha256);
    for (const size of stateSizes) expect(size).toBeLessThan(2048);
  },
  30 * 60_000,
);
