import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { ContainerClient } from "@azure/storage-blob";
import { BlobEvidenceStore } from "../../../shared/evidence/blobWriter";
import { blockIdOf } from "../../../shared/evidence/blockStager";
import type { ChunkedCopyOptions, ChunkedCopyState, LinkSource } from "../../../shared/evidence/types";
import { freshEvidenceContainer } from "../../support/azurite";
import { freshSourceContainer, LOCAL_SOURCES, putSource, randomContent, sasUrl, startCuttingProxy } from "../../support/sourceFixture";

const MiB = 1024 * 1024;
const KiB = 1024;
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const md5 = (b: Buffer) => createHash("md5").update(b).digest("base64");

let source: ContainerClient;
let evidence: ContainerClient;

beforeAll(async () => {
  source = await freshSourceContainer();
});

beforeEach(async () => {
  evidence = await freshEvidenceContainer("chunked");
});

/** 2 MiB blocks, 8 MiB chunks: 4 blocks per call, so ~40 MiB takes 5+ calls. */
const storeOf = (blockSize = 2 * MiB, extra: ConstructorParameters<typeof BlobEvidenceStore>[1] = {}) =>
  new BlobEvidenceStore(evidence, { sourceHosts: LOCAL_SOURCES, blockSizeInBytes: blockSize, maxBlocksInFlight: 3, ...extra });

const options = (blobName: string, chunkBytes = 8 * MiB, extra: Partial<ChunkedCopyOptions> = {}): ChunkedCopyOptions => ({
  blobName,
  contentType: "application/octet-stream",
  metadata: { machineid: "1e5bc9d7e413ddd7902c2932e418702b84d0cc07", commandindex: "0" },
  chunkBytes,
  ...extra,
});

/** Hands out the given URLs in turn (the last one repeatedly), counting calls. */
function links(...urls: string[]): LinkSource & jest.Mock {
  return jest.fn(async () => (urls.length > 1 ? (urls.shift() as string) : urls[0]));
}

/** Drives copyChunk the way the orchestrator does: the state through JSON, as the history stores it. */
async function copyAll(store: BlobEvidenceStore, link: LinkSource, opts: ChunkedCopyOptions, from?: ChunkedCopyState) {
  let state = from;
  const states: string[] = [];
  for (let call = 1; call <= 1000; call++) {
    const progress = await store.copyChunk(link, state, opts);
    if (progress.result) return { result: progress.result, calls: call, states, final: progress.state };
    const json = JSON.stringify(progress.state);
    states.push(json);
    state = JSON.parse(json) as ChunkedCopyState;
  }
  throw new Error("copy did not finish");
}

async function committedBlocks(blobName: string): Promise<number> {
  const list = await evidence.getBlockBlobClient(blobName).getBlockList("all");
  expect(list.uncommittedBlocks ?? []).toHaveLength(0);
  return list.committedBlocks?.length ?? 0;
}

describe("copyChunk", () => {
  it("copies ~40 MiB in 8 MiB chunks into one blob, byte for byte, with whole-file SHA-256, MD5 and Content-MD5 in the commit", async () => {
    const bytes = randomContent(40 * MiB + 1234);
    const src = await putSource(source, bytes);
    const url = await sasUrl(src);
    const link = links(url);
    const store = storeOf();
    const { result, calls, states, final } = await copyAll(
      store,
      link,
      options("big/0-GetFile-memory.dmp", 8 * MiB, { tags: { case: "IR-7" }, captureHeadBytes: 8 }),
    );

    expect(calls).toBe(6);
    expect(link).toHaveBeenCalledTimes(6);
    expect(result).toMatchObject({
      created: true,
      size: bytes.length,
      sha256: sha256(bytes),
      md5: md5(bytes),
      contentFormat: "raw",
      linkFetches: 6,
    });
    expect(result.head?.equals(bytes.subarray(0, 8))).toBe(true);
    expect(final).toMatchObject({ done: true, offset: bytes.length, blockCount: 21, chunks: 6 });
    const downloaded = await evidence.getBlockBlobClient(result.blobName).downloadToBuffer();
    expect(downloaded.equals(bytes)).toBe(true);
    const properties = await evidence.getBlobClient(result.blobName).getProperties();
    expect(Buffer.from(properties.contentMD5 as Uint8Array).toString("base64")).toBe(md5(bytes));
    expect(properties.metadata).toEqual({
      machineid: "1e5bc9d7e413ddd7902c2932e418702b84d0cc07",
      commandindex: "0",
      sha256: sha256(bytes),
      md5: md5(bytes),
      size: String(bytes.length),
      contentformat: "raw",
      blocknonce: final?.nonce,
    });
    expect((await evidence.getBlobClient(result.blobName).getTags()).tags).toEqual({ case: "IR-7" });
    expect(await committedBlocks(result.blobName)).toBe(21);
    expect(await store.find(result.blobName)).toMatchObject({ sha256: sha256(bytes), size: bytes.length });

    const sizes = states.map((s) => Buffer.byteLength(s));
    console.log(
      `ChunkedCopyState JSON sizes (bytes) after each chunk, blob name of ${result.blobName.length} chars: ${sizes.join(", ")}\n${states[states.length - 1]}`,
    );
    for (const s of states) {
      expect(Buffer.byteLength(s)).toBeLessThan(2048);
      // Never a URL or a SAS in the orchestration history.
      expect(s).not.toMatch(/https?:|sig=|se=|127\.0\.0\.1/);
    }
  });

  it("ends on the announced size when the content is an exact number of chunks", async () => {
    const bytes = randomContent(4 * MiB);
    const src = await putSource(source, bytes);
    const link = links(await sasUrl(src));
    const { result, calls } = await copyAll(storeOf(256 * KiB), link, options("exact/a.bin", 1 * MiB));
    expect(calls).toBe(4);
    expect(result).toMatchObject({ created: true, size: bytes.length, sha256: sha256(bytes) });
    expect(await committedBlocks("exact/a.bin")).toBe(16);
  });

  it("survives a retried chunk (the first attempt's outcome lost, as after a host restart): one blob, hashes counted once", async () => {
    const bytes = randomContent(5 * MiB + 99);
    const src = await putSource(source, bytes);
    const url = await sasUrl(src);
    const store = storeOf(512 * KiB);
    const opts = options("retry/a.bin", 1 * MiB);
    const first = await store.copyChunk(links(url), undefined, opts);
    const second = await store.copyChunk(links(url), first.state, opts);
    // The activity staged chunk 3 and died before its output reached the history: same input again.
    const lost = await store.copyChunk(links(url), second.state, opts);
    expect(lost.result).toBeUndefined();
    const retried = await store.copyChunk(links(url), second.state, opts);
    expect(retried.state).toEqual({ ...(lost.state as ChunkedCopyState), linkFetches: expect.any(Number) });
    const { result } = await copyAll(store, links(url), opts, retried.state);

    expect(result).toMatchObject({ created: true, size: bytes.length, sha256: sha256(bytes), md5: md5(bytes) });
    expect((await evidence.getBlockBlobClient("retry/a.bin").downloadToBuffer()).equals(bytes)).toBe(true);
    expect(await committedBlocks("retry/a.bin")).toBe(11);
    expect((await evidence.listBlobsFlat().next()).value?.name).toBe("retry/a.bin");
  });

  it("survives a chunk that fails half-way (blocks partly staged) when retried with the same state", async () => {
    const bytes = randomContent(4 * MiB + 5);
    const src = await putSource(source, bytes);
    const url = await sasUrl(src);
    const opts = options("halfway/a.bin", 2 * MiB);
    const first = await storeOf(256 * KiB).copyChunk(links(url), undefined, opts);
    // One link only and a stream cut after 1.2 MiB: the chunk fails after staging some blocks.
    const proxy = await startCuttingProxy({ cutAfterBytes: 1.2 * MiB });
    try {
      const failing = storeOf(256 * KiB, { maxLinkFetches: 1 });
      await expect(failing.copyChunk(links(proxy.via(url)), first.state, opts)).rejects.toMatchObject({ code: "DownloadFailed" });
      expect((await evidence.getBlockBlobClient("halfway/a.bin").getBlockList("uncommitted")).uncommittedBlocks?.length).toBeGreaterThan(8);
    } finally {
      await proxy.close();
    }
    const { result } = await copyAll(storeOf(256 * KiB), links(url), opts, first.state);
    expect(result).toMatchObject({ created: true, size: bytes.length, sha256: sha256(bytes), md5: md5(bytes) });
    expect((await evidence.getBlockBlobClient("halfway/a.bin").downloadToBuffer()).equals(bytes)).toBe(true);
  });

  it("fetches a fresh link when a later chunk's link has expired, and counts it", async () => {
    const bytes = randomContent(3 * MiB + 7);
    const src = await putSource(source, bytes);
    const store = storeOf(512 * KiB);
    const opts = options("expired/a.bin", 1 * MiB);
    const first = await store.copyChunk(links(await sasUrl(src)), undefined, opts);
    expect(first.state?.linkFetches).toBe(1);
    const expired = await sasUrl(src, -60_000);
    const link = links(expired, await sasUrl(src));
    const second = await store.copyChunk(link, first.state, opts);
    expect(link).toHaveBeenCalledTimes(2);
    expect(second.state).toMatchObject({ offset: 2 * MiB, linkFetches: 3 });
    const { result } = await copyAll(store, links(await sasUrl(src)), opts, second.state);
    expect(result).toMatchObject({ created: true, sha256: sha256(bytes), linkFetches: 5 });
  });

  it("resumes a stream that breaks inside a later chunk with a Range bounded by the chunk end", async () => {
    const bytes = randomContent(3 * MiB);
    const src = await putSource(source, bytes);
    const url = await sasUrl(src);
    const store = storeOf(256 * KiB);
    const opts = options("broken/a.bin", 1 * MiB);
    const first = await store.copyChunk(links(url), undefined, opts);
    const proxy = await startCuttingProxy({ cutAfterBytes: 300_000 });
    try {
      const second = await store.copyChunk(links(proxy.via(url)), first.state, opts);
      expect(proxy.requests.map((r) => r.range)).toEqual([
        `bytes=${MiB}-${2 * MiB - 1}`,
        expect.stringMatching(new RegExp(`^bytes=\\d+-${2 * MiB - 1}$`)),
      ]);
      const { result } = await copyAll(store, links(url), opts, second.state);
      expect(result).toMatchObject({ sha256: sha256(bytes), md5: md5(bytes) });
      expect((await evidence.getBlockBlobClient("broken/a.bin").downloadToBuffer()).equals(bytes)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it("still lands the exact bytes when the source ignores Range (reads past the bytes already copied)", async () => {
    const bytes = randomContent(3 * MiB + 1);
    const src = await putSource(source, bytes);
    const proxy = await startCuttingProxy({ cutAfterBytes: Number.MAX_SAFE_INTEGER, ignoreRange: true });
    try {
      const { result, calls } = await copyAll(storeOf(256 * KiB), links(proxy.via(await sasUrl(src))), options("norange/a.bin", 1 * MiB));
      expect(calls).toBe(4);
      expect(result).toMatchObject({ size: bytes.length, sha256: sha256(bytes), md5: md5(bytes) });
      expect((await evidence.getBlockBlobClient("norange/a.bin").downloadToBuffer()).equals(bytes)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it("does nothing after the commit: created false, no link asked for, with or without the final state", async () => {
    const bytes = randomContent(2 * MiB + 3);
    const src = await putSource(source, bytes);
    const store = storeOf(512 * KiB);
    const opts = options("rerun/a.bin", 1 * MiB, { captureHeadBytes: 4 });
    const { result, final } = await copyAll(store, links(await sasUrl(src)), opts);
    for (const state of [final, undefined]) {
      const link = links("https://unused.example/x");
      const again = await store.copyChunk(link, state, opts);
      expect(link).not.toHaveBeenCalled();
      expect(again.result).toMatchObject({ created: false, linkFetches: 0, sha256: result.sha256, md5: result.md5, size: result.size });
      expect(again.result?.head?.equals(bytes.subarray(0, 4))).toBe(true);
    }
  });

  it("refuses a foreign blob of the same name as an integrity error, without asking for a link", async () => {
    await evidence.getBlockBlobClient("foreign/x").upload("not evidence", 12);
    const link = links("https://unused.example/x");
    await expect(storeOf().copyChunk(link, undefined, options("foreign/x"))).rejects.toMatchObject({
      code: "IntegrityError",
      message: expect.stringContaining("no sha256 metadata"),
    });
    expect(link).not.toHaveBeenCalled();
  });

  it("computes the decompressed SHA-256 of a gzip result that fits in the first chunk, though it spans several blocks", async () => {
    const original = Buffer.concat([Buffer.from("MZ"), randomContent(200_000), Buffer.alloc(300_000, 0x41)]);
    const gz = gzipSync(original);
    const src = await putSource(source, gz);
    const store = storeOf(64 * KiB);
    const { result, calls } = await copyAll(store, links(await sasUrl(src)), options("gz/small.gz", 1 * MiB));
    expect(calls).toBe(1);
    expect(await committedBlocks("gz/small.gz")).toBe(Math.ceil(gz.length / (64 * KiB)));
    expect(result).toMatchObject({
      contentFormat: "gzip",
      sha256: sha256(gz),
      decompressed: { sha256: sha256(original), size: original.length },
    });
    expect(await store.find("gz/small.gz")).toMatchObject({
      contentFormat: "gzip",
      decompressed: { sha256: sha256(original), size: original.length },
    });
  });

  it("computes the decompressed SHA-256 of a gzip result copied in several chunks from the read-back after the commit", async () => {
    const original = randomContent(3 * MiB);
    const gz = gzipSync(original);
    const src = await putSource(source, gz);
    const { result, calls } = await copyAll(storeOf(256 * KiB), links(await sasUrl(src)), options("gz/big.gz", 1 * MiB));
    expect(calls).toBeGreaterThan(1);
    expect(result).toMatchObject({
      contentFormat: "gzip",
      sha256: sha256(gz),
      decompressed: { sha256: sha256(original), size: original.length },
    });
    // The commit came first: the metadata names the format, the result (and so the manifest) the decompressed digest.
    const metadata = (await evidence.getBlobClient("gz/big.gz").getProperties()).metadata;
    expect(metadata).toMatchObject({ contentformat: "gzip" });
    expect(metadata).not.toHaveProperty("decompresserror");
  });

  it("refuses to continue onto another source (other ETag) with SourceChanged, and a state of another blob with InvalidCopyState", async () => {
    const a = await putSource(source, randomContent(2 * MiB));
    const b = await putSource(source, randomContent(2 * MiB));
    const store = storeOf(256 * KiB);
    const first = await store.copyChunk(links(await sasUrl(a)), undefined, options("changed/a.bin", 1 * MiB));
    await expect(store.copyChunk(links(await sasUrl(b)), first.state, options("changed/a.bin", 1 * MiB))).rejects.toMatchObject({
      code: "SourceChanged",
    });
    await expect(store.copyChunk(links(await sasUrl(a)), first.state, options("changed/other.bin", 1 * MiB))).rejects.toMatchObject({
      code: "InvalidCopyState",
    });
    await expect(store.copyChunk(links(await sasUrl(a)), first.state, options("changed/a.bin", 1 * MiB + 1))).rejects.toThrow(RangeError);
    expect(await store.find("changed/a.bin")).toBeUndefined();
  });

  it("keeps block ids tied to byte offsets: block n of a chunked copy is block n of the source layout, under the copy's nonce", async () => {
    const bytes = randomContent(1 * MiB + 10);
    const src = await putSource(source, bytes);
    const { result, final } = await copyAll(storeOf(256 * KiB), links(await sasUrl(src)), options("ids/a.bin", 512 * KiB));
    const list = await evidence.getBlockBlobClient(result.blobName).getBlockList("committed");
    expect(final).toMatchObject({ version: 2, nonce: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/) });
    expect(list.committedBlocks?.map((b) => b.name)).toEqual([0, 1, 2, 3, 4].map((i) => blockIdOf(i, final?.nonce)));
    expect(list.committedBlocks?.map((b) => b.size)).toEqual([256 * KiB, 256 * KiB, 256 * KiB, 256 * KiB, 10]);
  });
});
