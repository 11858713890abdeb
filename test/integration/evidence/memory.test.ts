import { createHash, randomBytes } from "node:crypto";
import { BlobEvidenceStore } from "../../../shared/evidence/blobWriter";
import { blockIdOf } from "../../../shared/evidence/blockStager";
import { freshEvidenceContainer } from "../../support/azurite";
import { copyWhole } from "../../support/copyWhole";
import { freshSourceContainer, LOCAL_SOURCES, sasUrl } from "../../support/sourceFixture";

const MiB = 1024 * 1024;
const FILE_MIB = 128;

/** Samples memory often while `work` runs; returns the peak growth over the figures before it. */
async function peakGrowth<T>(work: () => Promise<T>): Promise<{ result: T; rss: number; arrayBuffers: number }> {
  const before = process.memoryUsage();
  let rss = 0;
  let arrayBuffers = 0;
  const sample = () => {
    const now = process.memoryUsage();
    rss = Math.max(rss, now.rss - before.rss);
    arrayBuffers = Math.max(arrayBuffers, now.arrayBuffers - before.arrayBuffers);
  };
  const timer = setInterval(sample, 5);
  try {
    const result = await work();
    sample();
    return { result, rss, arrayBuffers };
  } finally {
    clearInterval(timer);
  }
}

it(`copies ${FILE_MIB} MiB with memory bounded by the blocks in flight, not the file size`, async () => {
  // The source is staged 1 MiB at a time, so this process never holds the file either.
  const source = (await freshSourceContainer()).getBlockBlobClient("big.bin");
  const hash = createHash("sha256");
  const ids: string[] = [];
  for (let i = 0; i < FILE_MIB; i++) {
    const block = randomBytes(MiB);
    hash.update(block);
    ids.push(blockIdOf(i));
    await source.stageBlock(ids[i], block, block.length);
  }
  await source.commitBlockList(ids);
  const expectedSha256 = hash.digest("hex");

  const store = new BlobEvidenceStore(await freshEvidenceContainer("memory"), {
    sourceHosts: LOCAL_SOURCES,
    blockSizeInBytes: MiB,
    maxBlocksInFlight: 4,
  });
  const url = await sasUrl(source);
  const { result, rss, arrayBuffers } = await peakGrowth(() =>
    copyWhole(store, async () => url, { blobName: "big.bin", contentType: "application/octet-stream", metadata: {} }, FILE_MIB * MiB),
  );

  expect(result).toMatchObject({ created: true, size: FILE_MIB * MiB, sha256: expectedSha256 });
  // Measured about 30 MiB of ArrayBuffers at 32, 64 and 128 MiB alike: 4 blocks of 1 MiB, plus
  // fetch chunks not yet collected (GC timing). Bounds are generous so GC cannot make this flaky,
  // yet far below what holding the file would take.
  expect(arrayBuffers).toBeLessThan(FILE_MIB * MiB * 0.4);
  expect(rss).toBeLessThan(FILE_MIB * MiB * 0.5);
});
