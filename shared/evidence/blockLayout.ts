import type { BlockBlobClient } from "@azure/storage-blob";
import { parseBlockId } from "./blockStager";

/** A blob's block list as the service reports it. */
export interface BlockListView {
  committed: { name: string; size: number }[];
  uncommitted: { name: string; size: number }[];
}

/** Both lists of a block blob (Get Block List, `blocklisttype=all`). */
export async function readBlockList(blob: BlockBlobClient, abortSignal?: AbortSignal): Promise<BlockListView> {
  const list = await blob.getBlockList("all", { abortSignal });
  const view = (blocks: { name: string; size: number }[] | undefined) => (blocks ?? []).map((b) => ({ name: b.name, size: b.size }));
  return { committed: view(list.committedBlocks), uncommitted: view(list.uncommittedBlocks) };
}

/** What the writer's layout of a blob must be. */
export interface ExpectedLayout {
  /** Bytes of the blob. */
  size: number;
  /** The copy's nonce, when known (a chunk state): every block id must carry it. */
  nonce?: string;
  /**
   * Uncommitted blocks this copy may have left itself (a zombie attempt of the same chunk, the loser
   * of a commit race): ids with this nonce, or `null` for the index-only ids of a version 1 copy.
   */
  ownUncommitted?: string | null;
}

/**
 * What is wrong with a committed block list, measured against what the evidence writer produces
 * (see BlockStager): ids of its shape only, one nonce for the whole blob (or none, for copies from
 * before nonces), indexes 0..n-1 in order, every block the size of the first but the last, no
 * larger; sizes adding up to the blob's size; and no uncommitted block (the commit drops the
 * writer's own leftovers, so one after the commit was staged by someone else). Empty when the
 * layout is the writer's.
 */
export function blockLayoutProblems(list: BlockListView, expected: ExpectedLayout): string[] {
  const problems: string[] = [];
  const { committed } = list;
  const foreignUncommitted = list.uncommitted.filter((b) => {
    const id = parseBlockId(b.name);
    return expected.ownUncommitted === undefined || !id || (id.nonce ?? null) !== expected.ownUncommitted;
  });
  if (foreignUncommitted.length > 0) problems.push(`${foreignUncommitted.length} uncommitted block(s) staged on the committed blob`);
  if (committed.length === 0) {
    if (expected.size > 0) problems.push("no committed block list: the blob was not committed from staged blocks");
    return problems;
  }
  const parsed = committed.map((b) => parseBlockId(b.name));
  const foreign = parsed.findIndex((p) => p === undefined);
  if (foreign >= 0) {
    problems.push(`committed block ${foreign} has an id the evidence writer never produces`);
    return problems;
  }
  const ids = parsed as { index: number; nonce?: string }[];
  const nonces = new Set(ids.map((p) => p.nonce ?? ""));
  if (nonces.size > 1) problems.push(`committed blocks carry ${nonces.size} different copy nonces`);
  const strange = expected.nonce === undefined ? -1 : ids.findIndex((p) => p.nonce !== expected.nonce);
  if (strange >= 0) problems.push(`committed block ${strange} does not carry the copy's nonce ${expected.nonce}: staged by another writer`);
  const outOfOrder = ids.findIndex((p, i) => p.index !== i);
  if (outOfOrder >= 0) problems.push(`committed block ${outOfOrder} has index ${ids[outOfOrder].index}`);
  const blockSize = committed[0].size;
  const uneven = committed.findIndex((b, i) => (i < committed.length - 1 ? b.size !== blockSize : b.size > blockSize || b.size === 0));
  if (uneven >= 0) problems.push(`committed block ${uneven} is ${committed[uneven].size} bytes, the blob's blocks are ${blockSize}`);
  const total = committed.reduce((sum, b) => sum + b.size, 0);
  if (total !== expected.size) problems.push(`committed blocks hold ${total} bytes, the blob ${expected.size}`);
  return problems;
}
