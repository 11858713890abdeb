import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { ContainerClient } from "@azure/storage-blob";
import { CollectorError } from "../../../shared/errors";
import type { Logger, LogProperties } from "../../../shared/log";
import { BlobEvidenceStore, createEvidenceStore } from "../../../shared/evidence/blobWriter";
import type { CopyOptions, LinkSource } from "../../../shared/evidence/types";
import { freshEvidenceContainer, testAzurite } from "../../support/azurite";
import { copyWhole, WHOLE_CHUNK_BYTES } from "../../support/copyWhole";
import { freshSourceContainer, LOCAL_SOURCES, putSource, randomContent, sasUrl, startCuttingProxy } from "../../support/sourceFixture";

const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const md5 = (b: Buffer) => createHash("md5").update(b).digest("base64");

let source: ContainerClient;
let evidence: ContainerClient;
let store: BlobEvidenceStore;

beforeAll(async () => {
  source = await freshSourceContainer();
});

beforeEach(async () => {
  evidence = await freshEvidenceContainer("evidence");
  // Small blocks so a few MiB spans several blocks (and a partial last one).
  store = new BlobEvidenceStore(evidence, { sourceHosts: LOCAL_SOURCES, blockSizeInBytes: 1 * MiB, maxBlocksInFlight: 3 });
});

const options = (blobName: string, extra: Partial<CopyOptions> = {}): CopyOptions => ({
  blobName,
  contentType: "application/octet-stream",
  metadata: { machineid: "1e5bc9d7e413ddd7902c2932e418702b84d0cc07", commandindex: "2" },
  ...extra,
});

/** A link source that hands out the given URLs in turn (the last one repeatedly), counting calls. */
function links(...urls: string[]): LinkSource & jest.Mock {
  return jest.fn(async () => (urls.length > 1 ? (urls.shift() as string) : urls[0]));
}

/** A logger keeping every entry, to check what reaches the logs. */
function recordingLogger(): Logger & { entries: { level: string; message: string; properties?: LogProperties }[] } {
  const entries: { level: string; message: string; properties?: LogProperties }[] = [];
  const at = (level: string) => (message: string, properties?: LogProperties) => void entries.push({ level, message, properties });
  return { entries, info: at("info"), warn: at("warn"), error: at("error") };
}

async function contentOf(blobName: string): Promise<Buffer> {
  return evidence.getBlockBlobClient(blobName).downloadToBuffer();
}

/** copyChunk with a chunk larger than the result: the whole copy and commit in one call (chunkedCopy.test.ts covers several calls). */
describe("copyChunk, a whole result in one call", () => {
  it("lands a few-MiB result byte for byte, with SHA-256, MD5, size, metadata, tags and Content-MD5 in the commit", async () => {
    const bytes = randomContent(3 * MiB + 123);
    const src = await putSource(source, bytes);
    const result = await copyWhole(
      store,
      links(await sasUrl(src)),
      options("m/a/2-GetFile-big.bin", { tags: { case: "IR-42" }, captureHeadBytes: 16 }),
    );

    expect(result).toMatchObject({
      created: true,
      linkFetches: 1,
      size: bytes.length,
      sha256: sha256(bytes),
      md5: md5(bytes),
      contentFormat: "raw",
    });
    expect(result.head?.equals(bytes.subarray(0, 16))).toBe(true);
    expect(result.blobUrl).toBe(store.urlOf("m/a/2-GetFile-big.bin"));
    expect(result.blobUrl).not.toContain("?");
    expect((await contentOf(result.blobName)).equals(bytes)).toBe(true);

    const properties = await evidence.getBlobClient(result.blobName).getProperties();
    expect(Buffer.from(properties.contentMD5 as Uint8Array).toString("base64")).toBe(md5(bytes));
    expect(properties.contentType).toBe("application/octet-stream");
    expect(properties.metadata).toEqual({
      machineid: "1e5bc9d7e413ddd7902c2932e418702b84d0cc07",
      commandindex: "2",
      sha256: sha256(bytes),
      md5: md5(bytes),
      size: String(bytes.length),
      contentformat: "raw",
      blocknonce: result.blockNonce,
    });
    expect(result.blockNonce).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect((await evidence.getBlobClient(result.blobName).getTags()).tags).toEqual({ case: "IR-42" });
    expect(await store.find(result.blobName)).toEqual({
      ...result,
      created: undefined,
      linkFetches: undefined,
      head: undefined,
      committedAt: expect.any(String),
    });
  });

  it("records the decompressed SHA-256 and size of a gzip result (how GetFile results arrive)", async () => {
    const original = Buffer.concat([Buffer.from("MZ"), randomContent(200_000), Buffer.alloc(300_000, 0x41)]);
    const gz = gzipSync(original);
    const src = await putSource(source, gz);
    const result = await copyWhole(store, links(await sasUrl(src)), options("gz/0-GetFile-evil.exe"));

    expect(result).toMatchObject({
      created: true,
      sha256: sha256(gz),
      size: gz.length,
      contentFormat: "gzip",
      decompressed: { sha256: sha256(original), size: original.length },
    });
    expect((await contentOf(result.blobName)).equals(gz)).toBe(true);
    const metadata = (await evidence.getBlobClient(result.blobName).getProperties()).metadata;
    expect(metadata).toMatchObject({
      contentformat: "gzip",
      decompressedsha256: sha256(original),
      decompressedsize: String(original.length),
    });
    expect((await store.find(result.blobName))?.decompressed).toEqual({ sha256: sha256(original), size: original.length });
  });

  it("keeps the bytes of a corrupt gzip and records why it could not be decompressed", async () => {
    const gz = gzipSync(Buffer.from("evidence ".repeat(10_000)));
    gz.fill(0, 12, 40);
    const src = await putSource(source, gz);
    const result = await copyWhole(store, links(await sasUrl(src)), options("gz/bad.gz"));
    expect(result.sha256).toBe(sha256(gz));
    expect(result.decompressed).toEqual({ error: expect.any(String) });
    expect((await evidence.getBlobClient(result.blobName).getProperties()).metadata?.decompresserror).toBeTruthy();
  });

  it("does nothing on a re-run: returns the stored blob with created false and never asks for a link", async () => {
    const bytes = Buffer.from('{"script_name":"triage.ps1","exit_code":0,"script_output":"ok","script_errors":""}');
    const src = await putSource(source, bytes);
    const first = await copyWhole(store, links(await sasUrl(src)), options("rerun/1-RunScript-triage.ps1"));
    const link = links(await sasUrl(src));
    const again = await copyWhole(store, link, options("rerun/1-RunScript-triage.ps1", { captureHeadBytes: 15 }));

    expect(link).not.toHaveBeenCalled();
    expect(again).toMatchObject({ created: false, linkFetches: 0, sha256: first.sha256, md5: first.md5, size: first.size });
    // The head still comes back, read from the stored evidence rather than from MDE.
    expect(again.head?.toString()).toBe('{"script_name":');
  });

  it("gets a fresh link when the first one has expired (403) and lands the result", async () => {
    const bytes = randomContent(512 * 1024);
    const src = await putSource(source, bytes);
    const expired = await sasUrl(src, -60_000);
    expect((await fetch(expired)).status).toBe(403);
    const link = links(expired, await sasUrl(src));
    const logger = recordingLogger();
    const logged = new BlobEvidenceStore(evidence, { sourceHosts: LOCAL_SOURCES, logger });
    const result = await copyWhole(logged, link, options("expired/0-GetFile-a.bin"));
    expect(result).toMatchObject({ created: true, linkFetches: 2, sha256: sha256(bytes) });
    expect(link).toHaveBeenCalledTimes(2);
    expect(logger.entries.map((e) => e.message)).toEqual([
      "Evidence download interrupted; fetching a fresh link",
      "Evidence stored",
      "Evidence read back",
    ]);
    expect(logger.entries[0].properties).toMatchObject({ status: 403, offset: 0, blobName: "expired/0-GetFile-a.bin" });
    expect(JSON.stringify(logger.entries)).not.toMatch(/sig=|se=|sp=/);
  });

  it("resumes a stream that breaks mid-way with a Range request, continuing the same hash", async () => {
    const bytes = randomContent(3 * MiB);
    const src = await putSource(source, bytes);
    const proxy = await startCuttingProxy({ cutAfterBytes: 1 * MiB + 777 });
    try {
      const url = proxy.via(await sasUrl(src));
      const result = await copyWhole(store, links(url), options("broken/0-GetFile-a.bin"));
      expect(result).toMatchObject({ created: true, linkFetches: 2, sha256: sha256(bytes), md5: md5(bytes), size: bytes.length });
      expect(proxy.requests).toHaveLength(2);
      // Even a result in one chunk asks for the chunk's range only (Azure answers 206 with what exists).
      expect(proxy.requests[0].range).toBe(`bytes=0-${WHOLE_CHUNK_BYTES - 1}`);
      // Resumed where the bytes stopped, up to the end of the chunk (here beyond the end of the content).
      expect(proxy.requests[1].range).toMatch(new RegExp(`^bytes=[1-9]\\d*-${WHOLE_CHUNK_BYTES - 1}$`));
      expect((await contentOf(result.blobName)).equals(bytes)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it("starts again from byte 0 when the resumed request is answered in full (200) instead of 206", async () => {
    const bytes = randomContent(2 * MiB + 5);
    const src = await putSource(source, bytes);
    const proxy = await startCuttingProxy({ cutAfterBytes: 1 * MiB + 3, ignoreRange: true });
    try {
      const result = await copyWhole(store, links(proxy.via(await sasUrl(src))), options("restart/0-GetFile-a.bin"));
      expect(result).toMatchObject({ created: true, linkFetches: 2, sha256: sha256(bytes), size: bytes.length });
      expect((await contentOf(result.blobName)).equals(bytes)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it("gives up after maxLinkFetches links with a DownloadFailed error that carries no signature, and commits nothing", async () => {
    const src = await putSource(source, randomContent(1000));
    const expired = await sasUrl(src, -60_000);
    const link = links(expired);
    const strict = new BlobEvidenceStore(evidence, { sourceHosts: LOCAL_SOURCES, maxLinkFetches: 3 });
    const error = await copyWhole(strict, link, options("failed/0-GetFile-a.bin")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CollectorError);
    expect((error as CollectorError).code).toBe("DownloadFailed");
    expect((error as CollectorError).message).toContain("HTTP 403");
    expect((error as CollectorError).message).not.toContain("sig=");
    expect(link).toHaveBeenCalledTimes(3);
    expect(await strict.find("failed/0-GetFile-a.bin")).toBeUndefined();
  });

  it("stops when aborted and commits nothing", async () => {
    const src = await putSource(source, randomContent(1000));
    const controller = new AbortController();
    controller.abort();
    const link = links(await sasUrl(src));
    await expect(copyWhole(store, link, options("aborted/x", { abortSignal: controller.signal }))).rejects.toMatchObject({
      name: "AbortError",
    });
    expect(link).toHaveBeenCalledTimes(1);
    expect(await store.find("aborted/x")).toBeUndefined();
  });

  it("refuses plain http unless loopback http is explicitly allowed", async () => {
    const src = await putSource(source, Buffer.from("x"));
    const production = new BlobEvidenceStore(evidence);
    await expect(copyWhole(production, links(await sasUrl(src)), options("http/x"))).rejects.toMatchObject({
      code: "UntrustedDownloadLink",
    });
  });

  it("follows links to the hosts of the store's allow-list only, from createEvidenceStore too", async () => {
    const src = await putSource(source, Buffer.from("allowed"));
    const account = { connectionString: testAzurite.evidenceConnectionString };
    const allowLoopback = createEvidenceStore(account, evidence.containerName, { sourceHosts: { hosts: [], allowLoopback: true } });
    expect(await copyWhole(allowLoopback, links(await sasUrl(src)), options("hosts/a"))).toMatchObject({ created: true, size: 7 });
    const blobsOnly = createEvidenceStore(account, evidence.containerName, {
      sourceHosts: { hosts: ["*.blob.core.windows.net"], allowLoopback: false },
    });
    await expect(copyWhole(blobsOnly, links(await sasUrl(src)), options("hosts/b"))).rejects.toMatchObject({
      code: "UntrustedDownloadLink",
    });
    expect(await blobsOnly.find("hosts/b")).toBeUndefined();
  });

  it("lets exactly one of two concurrent copies create the blob; both report the same hash", async () => {
    const bytes = randomContent(4 * MiB);
    const src = await putSource(source, bytes);
    const url = await sasUrl(src);
    const [a, b] = await Promise.all([
      copyWhole(store, links(url), options("race/0-GetFile-a.bin")),
      copyWhole(store, links(url), options("race/0-GetFile-a.bin")),
    ]);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(a.sha256).toBe(sha256(bytes));
    expect(b.sha256).toBe(sha256(bytes));
    expect((await contentOf("race/0-GetFile-a.bin")).equals(bytes)).toBe(true);
  });

  it("returns the blob a concurrent attempt committed between our check and our commit (409 BlobAlreadyExists)", async () => {
    const bytes = randomContent(300_000);
    const src = await putSource(source, bytes);
    const url = await sasUrl(src);
    let winner: Promise<unknown> | undefined;
    // The loser's link() runs after its own "already stored?" check, so the winner commits in between.
    const loserLink = jest.fn(async () => {
      winner = copyWhole(store, links(url), options("late/0-GetFile-a.bin"));
      await winner;
      return url;
    });
    const loser = await copyWhole(store, loserLink, options("late/0-GetFile-a.bin"));
    expect(await winner).toMatchObject({ created: true });
    expect(loser).toMatchObject({ created: false, linkFetches: 1, sha256: sha256(bytes) });
  });

  it("stores an empty result", async () => {
    const src = await putSource(source, Buffer.alloc(0));
    const result = await copyWhole(store, links(await sasUrl(src)), options("empty/0-GetFile-empty.txt", { captureHeadBytes: 10 }));
    expect(result).toMatchObject({
      created: true,
      size: 0,
      sha256: sha256(Buffer.alloc(0)),
      md5: md5(Buffer.alloc(0)),
      contentFormat: "raw",
      linkFetches: 1,
    });
    expect(result.head).toEqual(Buffer.alloc(0));
    expect((await evidence.getBlobClient(result.blobName).getProperties()).contentLength).toBe(0);
    const again = await copyWhole(store, links(await sasUrl(src)), options("empty/0-GetFile-empty.txt", { captureHeadBytes: 10 }));
    expect(again).toMatchObject({ created: false, size: 0, head: Buffer.alloc(0) });
  });
});

describe("writeJson", () => {
  it("writes pretty JSON once, with Content-MD5 and sha256; the same document again is left untouched, another is an integrity error", async () => {
    const first = await store.writeJson(
      "m/a/manifest.json",
      { version: 1, commands: [] },
      { metadata: { kind: "manifest" }, tags: { case: "IR-42" } },
    );
    const body = await contentOf("m/a/manifest.json");
    expect(body.toString()).toBe('{\n  "version": 1,\n  "commands": []\n}\n');
    expect(first).toMatchObject({ created: true, sha256: sha256(body), md5: md5(body), size: body.length, linkFetches: 0 });
    const properties = await evidence.getBlobClient("m/a/manifest.json").getProperties();
    expect(Buffer.from(properties.contentMD5 as Uint8Array).toString("base64")).toBe(md5(body));
    expect(properties.metadata).toMatchObject({ kind: "manifest", sha256: sha256(body) });

    const second = await store.writeJson("m/a/manifest.json", { version: 1, commands: [] }, { metadata: {} });
    expect(second).toMatchObject({ created: false, sha256: first.sha256, size: body.length });
    await expect(store.writeJson("m/a/manifest.json", { version: 2 }, { metadata: {} })).rejects.toMatchObject({
      code: "IntegrityError",
      message: expect.stringContaining("m/a/manifest.json"),
    });
    const sameSize = { version: 9, commands: [] };
    await expect(store.writeJson("m/a/manifest.json", sameSize, { metadata: {} })).rejects.toMatchObject({
      code: "IntegrityError",
      message: expect.stringContaining("SHA-256"),
    });
    expect((await contentOf("m/a/manifest.json")).equals(body)).toBe(true);
  });
});

describe("find, urlOf and createEvidenceStore", () => {
  it("finds nothing for a missing blob and builds URLs without a query", async () => {
    const built = createEvidenceStore({ connectionString: testAzurite.evidenceConnectionString }, evidence.containerName);
    expect(await built.find("nothing/here")).toBeUndefined();
    expect(built.urlOf("a/b c.txt")).toBe(`${testAzurite.blobEndpoint}/devstoreaccount1/${evidence.containerName}/a/b%20c.txt`);
  });
});
