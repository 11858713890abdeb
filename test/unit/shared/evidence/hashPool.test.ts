import { createHash, randomBytes } from "node:crypto";
import { inlineDigest, type StreamDigestFactory } from "../../../../shared/evidence/streamDigest";
import { HashPool } from "../../../../shared/evidence/verify/hashPool";

const MiB = 1024 * 1024;
const expected = (b: Buffer) => ({
  sha256: createHash("sha256").update(b).digest("hex"),
  md5: createHash("md5").update(b).digest("base64"),
});

/** Feeds `bytes` in pieces of `piece` bytes, as a stream delivers them. */
async function digestOf(factory: StreamDigestFactory, bytes: Buffer, piece: number) {
  const digest = factory();
  for (let at = 0; at < bytes.length; at += piece) {
    const fed = digest.update(bytes.subarray(at, at + piece));
    if (fed) await fed;
  }
  return digest.finish();
}

let pool: HashPool;
beforeAll(() => {
  pool = new HashPool(2);
});
afterAll(async () => {
  await pool.close();
});

describe("HashPool", () => {
  it.each([
    ["nothing", 0, 1],
    ["a few bytes", 5, 3],
    ["exactly one slot", 2 * MiB, 64 * 1024],
    ["many slots in odd pieces", 9 * MiB + 17, 65_537],
    ["one piece larger than all slots together", 9 * MiB + 1, 9 * MiB + 1],
  ])("computes the same SHA-256 and MD5 as node:crypto on one thread: %s", async (_what, size, piece) => {
    const bytes = randomBytes(size);
    expect(await digestOf(pool.digest, bytes, piece)).toEqual(expected(bytes));
    expect(await digestOf(inlineDigest, bytes, piece)).toEqual(expected(bytes));
  });

  it("keeps concurrent reads apart, and works with a single worker", async () => {
    const blobs = [randomBytes(5 * MiB + 3), randomBytes(3 * MiB), randomBytes(100)];
    expect(await Promise.all(blobs.map((b, i) => digestOf(pool.digest, b, 10_000 + i)))).toEqual(blobs.map(expected));
    const single = new HashPool(1);
    try {
      expect(await digestOf(single.digest, blobs[0], 70_000)).toEqual(expected(blobs[0]));
    } finally {
      await single.close();
    }
  });

  it("drops an abandoned read without disturbing the next one", async () => {
    const abandoned = pool.digest();
    await abandoned.update(randomBytes(3 * MiB));
    abandoned.abort();
    const bytes = randomBytes(1 * MiB);
    expect(await digestOf(pool.digest, bytes, 4096)).toEqual(expected(bytes));
  });
});
