import { createHash, randomBytes } from "node:crypto";
import { ResumableHasher } from "../../../../shared/evidence/resumableHashing";

describe("ResumableHasher", () => {
  it("gives node:crypto's SHA-256 and MD5 of the whole input when resumed from saved JSON in new instances", async () => {
    const data = randomBytes(1_000_003);
    const cuts = [0, 65_536, 65_537, 500_000, data.length];
    let saved: ReturnType<ResumableHasher["save"]> | undefined;
    let hasher: ResumableHasher | undefined;
    for (let i = 1; i < cuts.length; i++) {
      // A round trip through JSON, as the state travels through the orchestration history.
      const restored = saved && (JSON.parse(JSON.stringify(saved)) as typeof saved);
      hasher = await ResumableHasher.create(restored && { ...restored, size: cuts[i - 1] });
      hasher.update(data.subarray(cuts[i - 1], cuts[i]));
      saved = hasher.save();
    }
    const digest = (hasher as ResumableHasher).digest();
    expect(digest).toMatchObject({
      sha256: createHash("sha256").update(data).digest("hex"),
      md5: createHash("md5").update(data).digest("base64"),
      size: data.length,
    });
    expect(digest.md5Bytes.equals(createHash("md5").update(data).digest())).toBe(true);
    expect((saved?.sha256State.length ?? 0) + (saved?.md5State.length ?? 0)).toBeLessThan(400);
  });

  it("refuses a state it cannot resume with InvalidCopyState", async () => {
    await expect(ResumableHasher.create({ sha256State: "AAAA", md5State: "AAAA", size: 0 })).rejects.toMatchObject({
      code: "InvalidCopyState",
    });
  });
});

describe("ResumableHasher saved states", () => {
  it("are identical whatever the chunking, and hold none of the content, at a multiple of 64 bytes", async () => {
    const data = Buffer.alloc(64 * 1000, 0xab);
    const saveAfter = async (pieces: number[]) => {
      const hasher = await ResumableHasher.create();
      let at = 0;
      for (const n of pieces) {
        hasher.update(data.subarray(at, at + n));
        at += n;
      }
      expect(at).toBe(data.length);
      return hasher.save();
    };
    const a = await saveAfter([64 * 1000]);
    const b = await saveAfter([1, 63, 100, 28, 7000, 64 * 1000 - 7192]);
    expect(b).toEqual(a);
    for (const state of [a.sha256State, a.md5State])
      expect(Buffer.from(state, "base64").includes(Buffer.from([0xab, 0xab, 0xab, 0xab]))).toBe(false);
  });
});

describe("ResumableHasher digests", () => {
  it("match node:crypto over data fed in uneven pieces, none a multiple of 64", async () => {
    const input = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31 + 7) % 256));
    const hasher = await ResumableHasher.create();
    for (let at = 0, step = 1; at < input.length; at += step, step = (step * 7) % 65_537) hasher.update(input.subarray(at, at + step));
    const digest = hasher.digest();
    expect(digest).toMatchObject({
      sha256: createHash("sha256").update(input).digest("hex"),
      md5: createHash("md5").update(input).digest("base64"),
      size: input.length,
    });
    expect(digest.md5Bytes.toString("base64")).toBe(digest.md5);
  });

  it("are the well-known digests of empty input and the published SHA-256 of 'abc'", async () => {
    const empty = (await ResumableHasher.create()).digest();
    expect(empty).toMatchObject({
      sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      md5: "1B2M2Y8AsgTpgAmY7PhCfg==",
      size: 0,
    });
    const abc = await ResumableHasher.create();
    abc.update(Buffer.from("abc"));
    expect(abc.digest().sha256).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});
