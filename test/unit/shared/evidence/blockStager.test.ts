import { createHash } from "node:crypto";
import type { BlockBlobClient } from "@azure/storage-blob";
import { blockIdOf, BlockStager, newBlockNonce, parseBlockId } from "../../../../shared/evidence/blockStager";

/** A fake blob that records staged blocks and completes uploads when told to. */
function fakeBlob() {
  const staged = new Map<string, Buffer>();
  const pending: Array<() => void> = [];
  const buffers = new Set<number>();
  let concurrent = 0;
  let peakConcurrent = 0;
  const blob = {
    stageBlock(id: string, body: Buffer, length: number) {
      concurrent += 1;
      peakConcurrent = Math.max(peakConcurrent, concurrent);
      buffers.add(body.byteOffset);
      const copy = Buffer.from(body.subarray(0, length));
      return new Promise((resolve) => {
        pending.push(() => {
          staged.set(id, copy);
          concurrent -= 1;
          resolve({});
        });
      });
    },
  } as unknown as BlockBlobClient;
  const drain = () => {
    for (const complete of pending.splice(0)) complete();
  };
  return {
    blob,
    staged,
    drain,
    get peakConcurrent() {
      return peakConcurrent;
    },
    buffers,
  };
}

it("uses block ids of equal length derived from the index only", () => {
  expect(blockIdOf(0)).toBe(blockIdOf(0));
  expect(blockIdOf(0)).not.toBe(blockIdOf(1));
  expect(blockIdOf(0).length).toBe(blockIdOf(49_999).length);
});

it("cuts the stream into blocks, keeping at most maxBlocksInMemory buffers", async () => {
  const fake = fakeBlob();
  const stager = new BlockStager(fake.blob, 10, 3);
  const data = Buffer.from(Array.from({ length: 95 }, (_, i) => i));
  const timer = setInterval(fake.drain, 1);
  try {
    for (let at = 0; at < data.length; at += 7) await stager.write(data.subarray(at, at + 7));
    const ids = await stager.finish();
    expect(ids).toEqual(Array.from({ length: 10 }, (_, i) => blockIdOf(i)));
    expect(Buffer.concat(ids.map((id) => fake.staged.get(id) as Buffer)).equals(data)).toBe(true);
    // Buffers are reused from a pool: never more than three distinct ones, never more than three uploads.
    expect(fake.buffers.size).toBeLessThanOrEqual(3);
    expect(fake.peakConcurrent).toBeLessThanOrEqual(3);
  } finally {
    clearInterval(timer);
  }
});

it("waits for a free buffer instead of allocating more", async () => {
  const fake = fakeBlob();
  const stager = new BlockStager(fake.blob, 4, 2);
  await stager.write(Buffer.alloc(4)); // block 0 uploading, no buffer filling
  await stager.write(Buffer.alloc(4)); // block 1 uploading: both buffers busy
  let written = false;
  const third = stager.write(Buffer.alloc(1)).then(() => (written = true));
  await new Promise((r) => setTimeout(r, 10));
  expect(written).toBe(false);
  fake.drain();
  await third;
  expect(written).toBe(true);
  fake.drain();
});

it("starts again at block 0 after reset, and reports an upload failure", async () => {
  const failing = {
    stageBlock: () => Promise.reject(Object.assign(new Error("boom"), { statusCode: 500 })),
  } as unknown as BlockBlobClient;
  const stager = new BlockStager(failing, 4, 2);
  await stager.write(Buffer.alloc(4));
  await expect(stager.finish()).rejects.toThrow("boom");
  await stager.reset();
  expect(await stager.finish()).toEqual([]);
});

describe("block ids with a copy nonce", () => {
  it("carry the nonce and the index, all of one length, and parse back; index-only ids of older copies parse too", () => {
    const nonce = newBlockNonce();
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(newBlockNonce()).not.toBe(nonce);
    const ids = [0, 1, 49_999].map((i) => blockIdOf(i, nonce));
    expect(new Set(ids.map((id) => id.length)).size).toBe(1);
    expect(ids.map(parseBlockId)).toEqual([0, 1, 49_999].map((index) => ({ index, nonce })));
    expect(parseBlockId(blockIdOf(7))).toEqual({ index: 7 });
    expect(blockIdOf(7, nonce)).not.toBe(blockIdOf(7));
  });

  it("refuses ids the writer never produces", () => {
    for (const foreign of [
      Buffer.from("block-0").toString("base64"),
      Buffer.from("evidence-block-12345").toString("base64"),
      "not base64!",
      Buffer.from("evidence-block-short-000001").toString("base64"),
    ]) {
      expect(parseBlockId(foreign)).toBeUndefined();
    }
  });

  it("stages each block under the stager's nonce with the MD5 of its bytes as the transactional Content-MD5", async () => {
    const staged: { id: string; body: Buffer; md5?: Uint8Array }[] = [];
    const blob = {
      stageBlock: async (id: string, body: Buffer, length: number, options: { transactionalContentMD5?: Uint8Array }) => {
        staged.push({ id, body: Buffer.from(body.subarray(0, length)), md5: options.transactionalContentMD5 });
        return {};
      },
    } as unknown as BlockBlobClient;
    const nonce = newBlockNonce();
    const stager = new BlockStager(blob, 4, 2, { nonce, firstIndex: 3 });
    await stager.write(Buffer.from("abcdefghij"));
    const ids = await stager.finish();
    expect(ids).toEqual([0, 1, 2, 3, 4, 5].map((i) => blockIdOf(i, nonce)));
    expect(staged.map((s) => s.id)).toEqual([3, 4, 5].map((i) => blockIdOf(i, nonce)));
    for (const s of staged) expect(Buffer.from(s.md5 ?? []).equals(createHash("md5").update(s.body).digest())).toBe(true);
  });
});
