import { randomBytes } from "node:crypto";
import { InlineHasher } from "../../../../shared/evidence/contentHasher";
import { ResumableHasher } from "../../../../shared/evidence/resumableHashing";

/** Feeds both hashers the same bytes in the same uneven pieces. */
async function bothDigests(bytes: Buffer, pieces: number[]) {
  const inline = new InlineHasher();
  const resumable = await ResumableHasher.create();
  let at = 0;
  for (const n of [...pieces, bytes.length]) {
    const piece = bytes.subarray(at, Math.min(bytes.length, at + n));
    inline.update(piece);
    resumable.update(piece);
    at += piece.length;
    if (at >= bytes.length) break;
  }
  return { inline: inline.digest(), resumable: resumable.digest() };
}

describe("InlineHasher (node:crypto, a copy that ends in one call)", () => {
  it("gives the same SHA-256, MD5 and size as the resumable hasher", async () => {
    const bytes = randomBytes(300_001);
    const { inline, resumable } = await bothDigests(bytes, [1, 63, 64, 65, 4095, 100_000]);
    expect(inline).toEqual(resumable);
    expect(inline.size).toBe(bytes.length);
    expect(inline.md5Bytes.toString("base64")).toBe(inline.md5);
  });

  it("gives the same digests for empty content", async () => {
    const { inline, resumable } = await bothDigests(Buffer.alloc(0), []);
    expect(inline).toEqual(resumable);
    expect(inline.sha256).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });
});
