import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { ContainerClient } from "@azure/storage-blob";
import { BlobEvidenceStore } from "../../../shared/evidence/blobWriter";
import { ResumableHasher } from "../../../shared/evidence/resumableHashing";
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
  evidence = await freshEvidenceContainer("ranges");
});

afterEach(() => {
  jest.restoreAllMocks();
});

const store = () => new BlobEvidenceStore(evidence, { sourceHosts: LOCAL_SOURCES, blockSizeInBytes: 256 * KiB, maxBlocksInFlight: 3 });

const options = (blobName: string, chunkBytes = 1 * MiB): ChunkedCopyOptions => ({
  blobName,
  contentType: "application/octet-stream",
  metadata: { machineid: "1e5bc9d7e413ddd7902c2932e418702b84d0cc07", commandindex: "0" },
  chunkBytes,
});

async function copyAll(link: LinkSource, opts: ChunkedCopyOptions) {
  const writer = store();
  let state: ChunkedCopyState | undefined;
  for (let call = 1; call <= 100; call++) {
    const progress = await writer.copyChunk(link, state, opts);
    if (progress.result) return { result: progress.result, calls: call };
    state = JSON.parse(JSON.stringify(progress.state)) as ChunkedCopyState;
  }
  throw new Error("copy did not finish");
}

describe("copyChunk requests and hashers", () => {
  it("asks every chunk's GET for that chunk's range only, the first one included", async () => {
    const bytes = randomContent(3 * MiB + 5);
    const src = await putSource(source, bytes);
    const proxy = await startCuttingProxy({ cutAfterBytes: Number.MAX_SAFE_INTEGER });
    try {
      const url = proxy.via(await sasUrl(src));
      const { result, calls } = await copyAll(async () => url, options("ranges/a.bin"));
      expect(calls).toBe(4);
      expect(proxy.requests.map((r) => r.range)).toEqual([
        `bytes=0-${MiB - 1}`,
        `bytes=${MiB}-${2 * MiB - 1}`,
        `bytes=${2 * MiB}-${3 * MiB - 1}`,
        `bytes=${3 * MiB}-${4 * MiB - 1}`,
      ]);
      expect(result).toMatchObject({ size: bytes.length, sha256: sha256(bytes), md5: md5(bytes) });
      expect((await evidence.getBlockBlobClient("ranges/a.bin").downloadToBuffer()).equals(bytes)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it("reads a content-encoded source whole, in one call, though its first GET asked for a range", async () => {
    const content = randomContent(2 * MiB);
    const src = source.getBlockBlobClient(`encoded-${Date.now()}`);
    await src.uploadData(gzipSync(content), { blobHTTPHeaders: { blobContentEncoding: "gzip" } });
    const { result, calls } = await copyAll(async () => sasUrl(src), options("ranges/encoded.bin"));
    expect(calls).toBe(1);
    expect(result).toMatchObject({ size: content.length, sha256: sha256(content), md5: md5(content), linkFetches: 1 });
  });

  it("hashes a result that fits in one chunk without the resumable hasher, to the same digests", async () => {
    const create = jest.spyOn(ResumableHasher, "create");
    const bytes = randomContent(MiB - 7);
    const src = await putSource(source, bytes);
    const { result, calls } = await copyAll(async () => sasUrl(src), options("single/a.bin"));
    expect(calls).toBe(1);
    expect(create).not.toHaveBeenCalled();
    expect(result).toMatchObject({ size: bytes.length, sha256: sha256(bytes), md5: md5(bytes) });
    const stored = await evidence.getBlobClient("single/a.bin").getProperties();
    expect(Buffer.from(stored.contentMD5 ?? []).toString("base64")).toBe(md5(bytes));
  });

  it("keeps the resumable hasher for a copy that takes several chunks", async () => {
    const create = jest.spyOn(ResumableHasher, "create");
    const bytes = randomContent(2 * MiB + 1);
    const src = await putSource(source, bytes);
    const { result, calls } = await copyAll(async () => sasUrl(src), options("multi/a.bin"));
    expect(calls).toBe(3);
    expect(create).toHaveBeenCalledTimes(3);
    expect(result).toMatchObject({ size: bytes.length, sha256: sha256(bytes), md5: md5(bytes) });
  });
});
