import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { EvidenceHasher, HashingTransform } from "../../../shared/evidence/hashing";

const input = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31 + 7) % 256));
const expected = {
  sha256: createHash("sha256").update(input).digest("hex"),
  md5: createHash("md5").update(input).digest("base64"),
  size: input.length,
};

describe("EvidenceHasher", () => {
  it("matches node:crypto over data fed in uneven chunks", () => {
    const hasher = new EvidenceHasher();
    for (let at = 0, step = 1; at < input.length; at += step, step = (step * 7) % 65_537) hasher.update(input.subarray(at, at + step));
    const digest = hasher.digest();
    expect({ sha256: digest.sha256, md5: digest.md5, size: digest.size }).toEqual(expected);
    expect(digest.md5Bytes.toString("base64")).toBe(expected.md5);
  });

  it("gives the well-known digests of empty input", () => {
    const digest = new EvidenceHasher().digest();
    expect(digest.sha256).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(digest.md5).toBe("1B2M2Y8AsgTpgAmY7PhCfg==");
    expect(digest.size).toBe(0);
  });

  it("gives the published SHA-256 of 'abc'", () => {
    const hasher = new EvidenceHasher();
    hasher.update(Buffer.from("abc"));
    expect(hasher.digest().sha256).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("HashingTransform", () => {
  it("passes bytes through unchanged and hashes them", async () => {
    const transform = new HashingTransform();
    const out: Buffer[] = [];
    await pipeline(Readable.from([input.subarray(0, 1000), input.subarray(1000)]), transform, async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) out.push(chunk);
    });
    expect(Buffer.concat(out).equals(input)).toBe(true);
    const { sha256, md5, size } = transform.digest();
    expect({ sha256, md5, size }).toEqual(expected);
  });

  it("refuses a digest before the stream finished", () => {
    expect(() => new HashingTransform().digest()).toThrow(/before the stream finished/);
  });
});
