/**
 * Tampering with evidence during and after the copy, against Azurite: the block nonce, the
 * read-back after the commit, and the check of a blob already present. Each test fails on a writer
 * that trusts metadata or stages deterministic block ids without reading the blob back.
 */
import { createHash } from "node:crypto";
import type { ContainerClient } from "@azure/storage-blob";
import { BlobEvidenceStore } from "../../../shared/evidence/blobWriter";
import { blockIdOf, parseBlockId } from "../../../shared/evidence/blockStager";
import { ResumableHasher } from "../../../shared/evidence/resumableHashing";
import type { ChunkedCopyOptions, ChunkedCopyState, LinkSource } from "../../../shared/evidence/types";
import { freshEvidenceContainer } from "../../support/azurite";
import { freshSourceContainer, LOCAL_SOURCES, putSource, randomContent, sasUrl } from "../../support/sourceFixture";

const KiB = 1024;
const MiB = 1024 * KiB;
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const md5 = (b: Buffer) => createHash("md5").update(b).digest("base64");
const CALLER_METADATA = { machineid: "1e5bc9d7e413ddd7902c2932e418702b84d0cc07", commandindex: "1", commandtype: "GetFile" };

let source: ContainerClient;
let evidence: ContainerClient;

beforeAll(async () => {
  source = await freshSourceContainer();
});

beforeEach(async () => {
  evidence = await freshEvidenceContainer("integrity");
});

/** 256 KiB blocks, 1 MiB chunks: a 2 MiB result takes three calls. */
const store = () => new BlobEvidenceStore(evidence, { sourceHosts: LOCAL_SOURCES, blockSizeInBytes: 256 * KiB, maxBlocksInFlight: 3 });
const options = (blobName: string, extra: Partial<ChunkedCopyOptions> = {}): ChunkedCopyOptions => ({
  blobName,
  contentType: "application/octet-stream",
  metadata: CALLER_METADATA,
  chunkBytes: 1 * MiB,
  ...extra,
});
const links = (url: string): LinkSource & jest.Mock => jest.fn(async () => url);

async function copyAll(writer: BlobEvidenceStore, link: LinkSource, opts: ChunkedCopyOptions, from?: ChunkedCopyState) {
  let state = from;
  for (let call = 0; call < 100; call++) {
    const progress = await writer.copyChunk(link, state, opts);
    if (progress.result) return { result: progress.result, final: progress.state };
    state = JSON.parse(JSON.stringify(progress.state)) as ChunkedCopyState;
  }
  throw new Error("copy did not finish");
}

async function committedIds(blobName: string): Promise<string[]> {
  return ((await evidence.getBlockBlobClient(blobName).getBlockList("committed")).committedBlocks ?? []).map((b) => b.name);
}

describe("block ids", () => {
  it("carry a random nonce per copy, kept in the state: two copies of the same source commit different ids", async () => {
    const bytes = randomContent(600 * KiB);
    const url = await sasUrl(await putSource(source, bytes));
    const a = await copyAll(store(), links(url), options("ids/a.bin"));
    const b = await copyAll(store(), links(url), options("ids/b.bin"));
    const [idsA, idsB] = [await committedIds("ids/a.bin"), await committedIds("ids/b.bin")];
    expect(idsA.map((id) => parseBlockId(id))).toEqual([0, 1, 2].map((index) => ({ index, nonce: a.final?.nonce })));
    expect(idsB.map((id) => parseBlockId(id)?.nonce)).toEqual([b.final?.nonce, b.final?.nonce, b.final?.nonce]);
    expect(a.final?.nonce).not.toBe(b.final?.nonce);
    // No id of the old, guessable layout.
    expect(idsA).not.toContain(blockIdOf(0));
  });
});

describe("during the copy", () => {
  it("catches a staged block swapped between two chunks (under the copy's own id) by reading the blob back after the commit", async () => {
    const bytes = randomContent(2 * MiB + 5);
    const url = await sasUrl(await putSource(source, bytes));
    const writer = store();
    const opts = options("swap/0-GetFile-a.bin");
    const first = await writer.copyChunk(links(url), undefined, opts);
    // An intruder with data-plane access lists the uncommitted ids and replaces block 1 with bytes of its own.
    const blob = evidence.getBlockBlobClient(opts.blobName);
    const staged = (await blob.getBlockList("uncommitted")).uncommittedBlocks ?? [];
    expect(staged.map((b) => parseBlockId(b.name)?.nonce)).toEqual(staged.map(() => first.state?.nonce));
    const forged = Buffer.alloc(256 * KiB, 0x41);
    await blob.stageBlock(staged[1].name, forged, forged.length);

    const second = await writer.copyChunk(links(url), first.state, opts);
    const error = await writer.copyChunk(links(url), second.state, opts).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "IntegrityError",
      message: expect.stringContaining(`read back does not hold the bytes copied: ${opts.blobName}: SHA-256`),
    });
    expect((error as Error).message).toContain(sha256(bytes));

    // A retry finds the committed blob and says the same: its metadata records what was copied, not what is stored.
    await expect(writer.copyChunk(links(url), second.state, opts)).rejects.toMatchObject({
      code: "IntegrityError",
      message: expect.stringContaining("its metadata says"),
    });
  });

  it("stages every block with its transactional MD5, which the service checks", async () => {
    const bytes = randomContent(300 * KiB);
    const url = await sasUrl(await putSource(source, bytes));
    const writer = store();
    const stageBlock = jest.spyOn(Object.getPrototypeOf(evidence.getBlockBlobClient("x")), "stageBlock");
    try {
      await copyAll(writer, links(url), options("md5/a.bin"));
      const calls = stageBlock.mock.calls as [string, Buffer, number, { transactionalContentMD5?: Uint8Array }][];
      expect(
        calls.map(
          ([, body, length, o]) => Buffer.from(o.transactionalContentMD5 ?? []).toString("base64") === md5(body.subarray(0, length)),
        ),
      ).toEqual([true, true]);
    } finally {
      stageBlock.mockRestore();
    }
    // Azurite refuses a block whose bytes do not match the MD5 sent with them.
    const wrong = createHash("md5").update("other bytes").digest();
    await expect(
      evidence
        .getBlockBlobClient("md5/b.bin")
        .stageBlock(blockIdOf(0, "AAAAAAAAAAAAAAAA"), bytes, bytes.length, { transactionalContentMD5: wrong }),
    ).rejects.toMatchObject({
      statusCode: 400,
    });
  });
});

describe("a blob already present", () => {
  it("is an integrity error when it holds other bytes than its metadata records (a 6-byte blob carrying the real SHA-256)", async () => {
    const real = randomContent(300 * KiB);
    const url = await sasUrl(await putSource(source, real));
    const planted = Buffer.from("MZ\x90\x00\x03\x00", "latin1");
    await evidence.getBlockBlobClient("plant/1-GetFile-a.exe").upload(planted, planted.length, {
      metadata: { ...CALLER_METADATA, sha256: sha256(real), md5: md5(real), size: String(real.length), contentformat: "raw" },
    });
    const link = links(url);
    const error = await store()
      .copyChunk(link, undefined, options("plant/1-GetFile-a.exe"))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "IntegrityError" });
    expect((error as Error).message).toContain(`size 6, its metadata says ${real.length}`);
    expect((error as Error).message).toContain(`SHA-256 ${sha256(planted)}, its metadata says ${sha256(real)}`);
    expect(link).not.toHaveBeenCalled();
  });

  it("is an integrity error when its metadata matches its own bytes but not this copy's metadata or the writer's block layout", async () => {
    const fake = randomContent(1000);
    const selfConsistent = { sha256: sha256(fake), md5: md5(fake), size: String(fake.length), contentformat: "raw" };
    // Written in one Put Blob: no block list at all.
    await evidence.getBlockBlobClient("plant/a.bin").upload(fake, fake.length, { metadata: { ...CALLER_METADATA, ...selfConsistent } });
    await expect(store().copyChunk(links("https://unused.example/x"), undefined, options("plant/a.bin"))).rejects.toMatchObject({
      code: "IntegrityError",
      message: expect.stringContaining("not committed from staged blocks"),
    });
    // Staged with the writer's id shape, but for another command.
    const blob = evidence.getBlockBlobClient("plant/b.bin");
    await blob.stageBlock(blockIdOf(0, "AAAAAAAAAAAAAAAA"), fake, fake.length);
    await blob.commitBlockList([blockIdOf(0, "AAAAAAAAAAAAAAAA")], {
      metadata: { ...CALLER_METADATA, commandindex: "0", ...selfConsistent },
    });
    await expect(store().copyChunk(links("https://unused.example/x"), undefined, options("plant/b.bin"))).rejects.toMatchObject({
      code: "IntegrityError",
      message: expect.stringContaining('metadata commandindex is "0", this copy says "1"'),
    });
  });

  it("is this copy's blob on a retry: same nonce, its own leftover blocks tolerated; another copy's blocks staged afterwards are not", async () => {
    const bytes = randomContent(1 * MiB + 3);
    const url = await sasUrl(await putSource(source, bytes));
    const writer = store();
    const opts = options("retry/a.bin", { captureHeadBytes: 4 });
    const { result, final } = await copyAll(writer, links(url), opts);
    // A zombie attempt of the last chunk stages a block after the commit: same nonce, never committed.
    const blob = evidence.getBlockBlobClient(opts.blobName);
    await blob.stageBlock(blockIdOf(4, final?.nonce), Buffer.from("zzz"), 3);
    const again = await writer.copyChunk(links("https://unused.example/x"), final, opts);
    expect(again.result).toMatchObject({ created: false, sha256: result.sha256, size: bytes.length });
    expect(again.result?.head?.equals(bytes.subarray(0, 4))).toBe(true);
    // The state of another copy (another nonce) does not own this blob.
    const other = { ...(final as ChunkedCopyState), nonce: "BBBBBBBBBBBBBBBB" };
    await expect(writer.copyChunk(links("https://unused.example/x"), other, opts)).rejects.toMatchObject({
      code: "IntegrityError",
      message: expect.stringContaining("committed block 0 does not carry the copy's nonce BBBBBBBBBBBBBBBB"),
    });
    // Without a state, a block left staged on the committed blob is someone else's.
    await expect(writer.copyChunk(links("https://unused.example/x"), undefined, opts)).rejects.toMatchObject({
      code: "IntegrityError",
      message: expect.stringContaining("uncommitted block"),
    });
  });
});

describe("upgrade", () => {
  it("continues a version 1 state (blocks staged before nonces) with index-only ids, and keeps it version 1", async () => {
    const bytes = randomContent(2 * MiB + 5);
    const src = await putSource(source, bytes);
    const url = await sasUrl(src);
    const blobName = "v1/0-GetFile-a.bin";
    // What the previous writer left after its first chunk: four index-only blocks and the hash state.
    const blob = evidence.getBlockBlobClient(blobName);
    for (let i = 0; i < 4; i++) await blob.stageBlock(blockIdOf(i), bytes.subarray(i * 256 * KiB, (i + 1) * 256 * KiB), 256 * KiB);
    const hasher = await ResumableHasher.create();
    hasher.update(bytes.subarray(0, 1 * MiB));
    const etag = (await src.getProperties()).etag;
    const v1: ChunkedCopyState = {
      version: 1,
      blobName,
      blockSize: 256 * KiB,
      offset: 1 * MiB,
      blockCount: 4,
      ...hasher.save(),
      contentFormat: "raw",
      sourceSize: bytes.length,
      etag,
      linkFetches: 1,
      chunks: 1,
      done: false,
    };

    const { result, final } = await copyAll(store(), links(url), options(blobName), JSON.parse(JSON.stringify(v1)) as ChunkedCopyState);
    expect(result).toMatchObject({ created: true, size: bytes.length, sha256: sha256(bytes), md5: md5(bytes) });
    expect(final).toMatchObject({ version: 1, done: true });
    expect(final).not.toHaveProperty("nonce");
    expect(await committedIds(blobName)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => blockIdOf(i)));
  });

  it("refuses a version 2 state without a well-formed nonce, and a version 1 state with one", async () => {
    const url = await sasUrl(await putSource(source, randomContent(2 * MiB)));
    const first = await store().copyChunk(links(url), undefined, options("bad/a.bin"));
    const { nonce: _n, ...withoutNonce } = first.state as ChunkedCopyState;
    await expect(store().copyChunk(links(url), withoutNonce, options("bad/a.bin"))).rejects.toMatchObject({ code: "InvalidCopyState" });
    await expect(
      store().copyChunk(links(url), { ...(first.state as ChunkedCopyState), nonce: "short" }, options("bad/a.bin")),
    ).rejects.toMatchObject({ code: "InvalidCopyState" });
    await expect(
      store().copyChunk(links(url), { ...(first.state as ChunkedCopyState), version: 1 }, options("bad/a.bin")),
    ).rejects.toMatchObject({ code: "InvalidCopyState" });
  });
});
