import { blockLayoutProblems, type BlockListView } from "../../../../shared/evidence/blockLayout";
import { blockIdOf } from "../../../../shared/evidence/blockStager";

const NONCE = "AAAAAAAAAAAAAAAA";
const OTHER = "BBBBBBBBBBBBBBBB";
const list = (sizes: number[], nonce: string | undefined = NONCE, uncommitted: { name: string; size: number }[] = []): BlockListView => ({
  committed: sizes.map((size, i) => ({ name: blockIdOf(i, nonce), size })),
  uncommitted,
});

describe("blockLayoutProblems", () => {
  it("accepts the writer's layout: one nonce, indexes in order, equal blocks but a smaller last one, adding up to the size", () => {
    expect(blockLayoutProblems(list([8, 8, 3]), { size: 19, nonce: NONCE })).toEqual([]);
    expect(blockLayoutProblems(list([8, 8, 3], undefined), { size: 19 })).toEqual([]);
    expect(blockLayoutProblems(list([]), { size: 0 })).toEqual([]);
  });

  it("names a block of another copy, another writer or the wrong place", () => {
    const mixed = list([8, 8]);
    mixed.committed[1] = { name: blockIdOf(1, OTHER), size: 8 };
    expect(blockLayoutProblems(mixed, { size: 16, nonce: NONCE })).toEqual([
      "committed blocks carry 2 different copy nonces",
      `committed block 1 does not carry the copy's nonce ${NONCE}: staged by another writer`,
    ]);
    const foreign = list([8, 8]);
    foreign.committed[0] = { name: Buffer.from("intruder").toString("base64"), size: 8 };
    expect(blockLayoutProblems(foreign, { size: 16 })).toEqual(["committed block 0 has an id the evidence writer never produces"]);
    const swapped = list([8, 8]);
    swapped.committed.reverse();
    expect(blockLayoutProblems(swapped, { size: 16 })).toEqual(["committed block 0 has index 1"]);
  });

  it("finds uneven blocks, a wrong total and a blob written without blocks", () => {
    expect(blockLayoutProblems(list([8, 4, 8]), { size: 20 })).toEqual(["committed block 1 is 4 bytes, the blob's blocks are 8"]);
    expect(blockLayoutProblems(list([8, 9]), { size: 17 })).toEqual(["committed block 1 is 9 bytes, the blob's blocks are 8"]);
    expect(blockLayoutProblems(list([8, 8]), { size: 17 })).toEqual(["committed blocks hold 16 bytes, the blob 17"]);
    expect(blockLayoutProblems(list([]), { size: 5 })).toEqual(["no committed block list: the blob was not committed from staged blocks"]);
  });

  it("reports blocks staged on a committed blob, except the copy's own leftovers", () => {
    const leftover = { name: blockIdOf(2, NONCE), size: 3 };
    const planted = { name: blockIdOf(0, OTHER), size: 3 };
    expect(blockLayoutProblems(list([8], NONCE, [leftover, planted]), { size: 8 })).toEqual([
      "2 uncommitted block(s) staged on the committed blob",
    ]);
    expect(blockLayoutProblems(list([8], NONCE, [leftover, planted]), { size: 8, ownUncommitted: NONCE })).toEqual([
      "1 uncommitted block(s) staged on the committed blob",
    ]);
    expect(blockLayoutProblems(list([8], undefined, [{ name: blockIdOf(1), size: 3 }]), { size: 8, ownUncommitted: null })).toEqual([]);
  });
});
