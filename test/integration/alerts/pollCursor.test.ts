/**
 * The alerts_v2 poller's cursor blob against Azurite: conditional writes (If-None-Match: * to create,
 * If-Match to update; https://learn.microsoft.com/rest/api/storageservices/specifying-conditional-headers-for-blob-service-operations),
 * a lost race as a value, a corrupt blob as a code, and a bounded list of handled ids.
 */
import { randomUUID } from "node:crypto";
import { BlobServiceClient } from "@azure/storage-blob";
import {
  blobPollCursorStore,
  boundHandled,
  cursorBlobName,
  MAX_HANDLED_IDS,
  parseCursor,
  type PollCursor,
} from "../../../shared/alerts/pollCursor";
import { freshEvidenceContainer, testAzurite } from "../../support/azurite";

const BLOB = cursorBlobName("https://graph.microsoft.com");
const cursor = (handled: Record<string, string> = {}): PollCursor => ({
  version: 1,
  windowStart: "2026-03-02T10:00:00.000Z",
  windowEnd: "2026-03-02T10:05:00.000Z",
  handled,
});

describe("blobPollCursorStore (Azurite)", () => {
  it("creates the blob only if absent (If-None-Match: *), and updates only the version read (If-Match); a lost race is a value", async () => {
    const container = await freshEvidenceContainer("cursor");
    const a = blobPollCursorStore(container, BLOB);
    const b = blobPollCursorStore(container, BLOB);
    expect(await a.read()).toEqual({ ok: true });
    const created = await a.write(cursor({ x: "1" }), undefined);
    expect(created).toEqual({ ok: true, etag: expect.any(String) });
    // A second "first" write, as a run that read before the blob existed would make.
    expect(await b.write(cursor({ y: "1" }), undefined)).toEqual({ ok: false, reason: "Conflict" });
    const readByA = await a.read();
    const readByB = await b.read();
    expect(readByA).toEqual({ ok: true, cursor: cursor({ x: "1" }), etag: created.ok ? created.etag : "" });
    const updated = await a.write(cursor({ x: "1", z: "2" }), readByA.ok ? readByA.etag : undefined);
    expect(updated.ok).toBe(true);
    // B still holds the ETag A replaced.
    expect(await b.write(cursor({ y: "2" }), readByB.ok ? readByB.etag : undefined)).toEqual({ ok: false, reason: "Conflict" });
    expect(await b.read()).toMatchObject({ ok: true, cursor: cursor({ x: "1", z: "2" }) });
  });

  it("creates its container on the first write when it is missing (a local run)", async () => {
    const service = BlobServiceClient.fromConnectionString(testAzurite.evidenceConnectionString);
    const missing = service.getContainerClient(`cursor-${randomUUID().slice(0, 8)}`);
    const store = blobPollCursorStore(missing, BLOB);
    expect(await store.write(cursor(), undefined)).toMatchObject({ ok: true });
    expect(await missing.exists()).toBe(true);
  });

  it.each([
    ["not JSON", "{ not json"],
    ["an empty blob", ""],
    ["JSON of another shape", JSON.stringify({ version: 2, windowStart: "2026-03-02T10:00:00Z", handled: {} })],
    ["a window that ends before it starts", JSON.stringify({ ...cursor(), windowEnd: "2026-03-02T09:00:00.000Z" })],
    ["a handled id that is not a string pair", JSON.stringify({ ...cursor(), handled: { a: 1 } })],
  ])("a blob holding %s reads as CursorCorrupt, naming the blob, without throwing", async (_name, text) => {
    const container = await freshEvidenceContainer("cursor");
    await container.getBlockBlobClient(BLOB).upload(text, Buffer.byteLength(text));
    const read = await blobPollCursorStore(container, BLOB).read();
    expect(read).toEqual({ ok: false, code: "CursorCorrupt", detail: expect.stringContaining(BLOB) });
  });

  it("a blob larger than any cursor is CursorCorrupt without being downloaded", async () => {
    const container = await freshEvidenceContainer("cursor");
    const big = Buffer.alloc(2 * 1024 * 1024 + 1, 0x20);
    await container.getBlockBlobClient(BLOB).upload(big, big.length);
    expect(await blobPollCursorStore(container, BLOB).read()).toMatchObject({ ok: false, code: "CursorCorrupt" });
  });

  it(`keeps at most ${MAX_HANDLED_IDS} handled ids, the newest`, async () => {
    const container = await freshEvidenceContainer("cursor");
    const store = blobPollCursorStore(container, BLOB);
    const many = Object.fromEntries(Array.from({ length: MAX_HANDLED_IDS + 250 }, (_, i) => [`da${i}_1`, "2026-03-02T10:01:00Z"]));
    expect((await store.write(cursor(many), undefined)).ok).toBe(true);
    const read = await store.read();
    const ids = read.ok ? Object.keys(read.cursor!.handled) : [];
    expect(ids).toHaveLength(MAX_HANDLED_IDS);
    expect(ids[0]).toBe("da250_1");
    expect(ids.at(-1)).toBe(`da${MAX_HANDLED_IDS + 249}_1`);
  });
});

describe("pollCursor: pure parts", () => {
  it("boundHandled keeps the newest entries in order and leaves a small map as is", () => {
    const small = { a: "1", b: "2" };
    expect(boundHandled(small, 3)).toBe(small);
    expect(boundHandled({ a: "1", b: "2", c: "3", d: "4" }, 2)).toEqual({ c: "3", d: "4" });
  });

  it("parseCursor takes a cursor with or without an open window, and copies only its fields", () => {
    expect(parseCursor(JSON.stringify({ ...cursor({ a: "1" }), extra: "x" }), BLOB)).toEqual({ ok: true, cursor: cursor({ a: "1" }) });
    const between = { version: 1, windowStart: "2026-03-02T10:00:00.000Z", handled: {} };
    expect(parseCursor(JSON.stringify(between), BLOB)).toEqual({ ok: true, cursor: between });
    expect(parseCursor(JSON.stringify({ ...between, windowStart: "yesterday" }), BLOB)).toMatchObject({ ok: false });
  });

  it("one blob per Graph host, with only safe characters", () => {
    expect(cursorBlobName("https://graph.microsoft.us")).toBe("alerts-v2-poll/graph.microsoft.us.json");
    expect(cursorBlobName("http://127.0.0.1:7072")).toBe("alerts-v2-poll/127.0.0.1_7072.json");
  });
});
