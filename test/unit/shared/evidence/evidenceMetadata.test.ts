import { evidenceMetadata, storedEvidenceFrom } from "../../../../shared/evidence/evidenceMetadata";

const digest = { sha256: "ab".repeat(32), md5: "1B2M2Y8AsgTpgAmY7PhCfg==", size: 42 };
const now = () => new Date("2026-11-05T10:00:00Z");

describe("evidence metadata", () => {
  it("round-trips a gzip result through metadata and properties", () => {
    const metadata = evidenceMetadata({ machineid: "m1", sha256: "caller cannot override" }, digest, {
      format: "gzip",
      decompressed: { sha256: "cd".repeat(32), size: 100 },
    });
    expect(metadata).toEqual({
      machineid: "m1",
      sha256: digest.sha256,
      md5: digest.md5,
      size: "42",
      contentformat: "gzip",
      decompressedsha256: "cd".repeat(32),
      decompressedsize: "100",
    });
    const stored = storedEvidenceFrom("b", "http://x/b", { metadata, contentLength: 42, createdOn: now() }, now);
    expect(stored).toEqual({
      blobName: "b",
      blobUrl: "http://x/b",
      size: 42,
      sha256: digest.sha256,
      md5: digest.md5,
      contentFormat: "gzip",
      decompressed: { sha256: "cd".repeat(32), size: 100 },
      committedAt: "2026-11-05T10:00:00.000Z",
    });
  });

  it("keeps a decompression error as printable ASCII, and records a decoded Content-Encoding", () => {
    const metadata = evidenceMetadata(
      {},
      digest,
      { format: "gzip", decompressed: { error: "bad\u00e9\nheader" } },
      { sourceContentEncoding: "gzip" },
    );
    expect(metadata.decompresserror).toBe("bad??header");
    expect(metadata.sourcecontentencoding).toBe("gzip");
    expect(storedEvidenceFrom("b", "u", { metadata, contentLength: 42 }, now).decompressed).toEqual({ error: "bad??header" });
  });

  it("records the copy's block nonce and reads it back", () => {
    const metadata = evidenceMetadata({}, digest, { format: "raw" }, { blockNonce: "AbCdEfGhIjKlMn-_" });
    expect(metadata.blocknonce).toBe("AbCdEfGhIjKlMn-_");
    expect(storedEvidenceFrom("b", "u", { metadata, contentLength: 42 }, now).blockNonce).toBe("AbCdEfGhIjKlMn-_");
  });

  it("refuses a blob without the collector's metadata", () => {
    expect(() => storedEvidenceFrom("b", "u", { metadata: { other: "x" }, contentLength: 1 }, now)).toThrow(
      expect.objectContaining({ code: "NotEvidence" }),
    );
  });
});
