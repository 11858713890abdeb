import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { ContentInspector, detectFormat } from "../../../../shared/evidence/contentFormat";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Feeds the bytes in chunks of the given size, as a network stream would. */
async function inspect(bytes: Buffer, chunkSize = 7, inspector = new ContentInspector()) {
  for (let at = 0; at < bytes.length; at += chunkSize) await inspector.write(bytes.subarray(at, at + chunkSize));
  return inspector.finish();
}

describe("detectFormat", () => {
  it("recognises gzip, zip and raw by their first bytes", () => {
    expect(detectFormat(Buffer.from([0x1f, 0x8b, 0x08, 0x00]))).toBe("gzip");
    expect(detectFormat(Buffer.from([0x50, 0x4b, 0x03, 0x04]))).toBe("zip");
    expect(detectFormat(Buffer.from([0x50, 0x4b, 0x05, 0x06]))).toBe("zip");
    expect(detectFormat(Buffer.from("PK is not enough"))).toBe("raw");
    expect(detectFormat(Buffer.from('{"script_name":'))).toBe("raw");
    expect(detectFormat(Buffer.alloc(0))).toBe("raw");
    expect(detectFormat(Buffer.from([0x1f]))).toBe("raw");
  });
});

describe("ContentInspector", () => {
  it("hashes the decompressed content of a gzip stream fed in small chunks", async () => {
    const content = Buffer.from("MZ".padEnd(100_000, "evidence "));
    const result = await inspect(gzipSync(content), 3);
    expect(result).toEqual({ format: "gzip", decompressed: { size: content.length, sha256: sha256(content) } });
  });

  it("decides the format when the first chunk is shorter than the signature", async () => {
    const inspector = new ContentInspector();
    const gz = gzipSync(Buffer.from("x"));
    await inspector.write(gz.subarray(0, 1));
    await inspector.write(gz.subarray(1));
    expect((await inspector.finish()).format).toBe("gzip");
  });

  it("reports a corrupt gzip as an error instead of failing", async () => {
    const gz = gzipSync(Buffer.from("hello ".repeat(1000)));
    gz.fill(0xff, 10, 30);
    const result = await inspect(gz);
    expect(result.format).toBe("gzip");
    expect(result.decompressed).toEqual({ error: expect.any(String) });
  });

  it("reports a truncated gzip as an error", async () => {
    const gz = gzipSync(Buffer.from("hello ".repeat(1000)));
    const result = await inspect(gz.subarray(0, gz.length - 20));
    expect(result.decompressed).toEqual({ error: expect.stringMatching(/end of file/i) });
  });

  it("stops hashing beyond the decompressed limit", async () => {
    const result = await inspect(gzipSync(Buffer.alloc(1_000_000)), 1000, new ContentInspector(100_000));
    expect(result.decompressed).toEqual({ error: expect.stringMatching(/exceeds 100000 bytes/) });
  });

  it("reports raw, zip and empty content without decompressing", async () => {
    expect(await inspect(Buffer.from("plain text output"))).toEqual({ format: "raw" });
    expect(await inspect(Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]))).toEqual({ format: "zip" });
    expect(await inspect(Buffer.alloc(0))).toEqual({ format: "raw" });
  });
});
