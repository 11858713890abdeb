/**
 * The watch list of the action poller (functions/actionPoller.ts): one small blob per collection,
 * `watch/<instanceId>.json` in the collector's state container (shared/stateStorage.ts). Its body is
 * the machine action as last read from MDE; its metadata says what the poller needs to plan a round
 * without reading any body: the action id, the holder (instance id), a signature of what a collection
 * acts on and when it was written. One list call (`listBlobsFlat` with metadata) gives the whole list.
 * An entry is rewritten only when its action changed; the poller's schedule (`watch-schedule.json`,
 * one small document written once per round) says when every entry was last confirmed unchanged.
 */
import type { ContainerClient } from "@azure/storage-blob";
import { isFinalActionStatus, type MachineAction } from "../mde/models";
import { readBlobText, uploadJsonBlob } from "../blobText";
import type { Logger } from "../log";
import { describeFailure } from "../publicMessage";
import { storageCodeOf, storageStatusOf } from "../storageErrors";

/** Where the watch list lives inside the state container. */
export const WATCH_PREFIX = "watch/";

/** Far above an action's size (a few commands); a larger body is not ours and is read as absent. */
const MAX_ENTRY_BYTES = 256 * 1024;

/** One watched action, as listed (no body). */
export interface WatchEntry {
  instanceId: string;
  actionId: string;
  /** {@link actionSignature} of the action last read. */
  signature: string;
  /** Whether that action was final (the poller no longer reads it). */
  final: boolean;
  /** When this copy was read (ms since epoch); later rounds that found it unchanged do not rewrite it. */
  readAtMs: number;
}

/** The poller's schedule: its last complete round (every unfinished entry read) and when it reads them all again. */
export interface PollSchedule {
  roundAtMs: number;
  nextRoundAtMs: number;
  /** The gap the next round was set at (it doubles while nothing changes). */
  gapMs: number;
}

/** The action as last read, and the entry it came with. */
export interface WatchedAction {
  entry: WatchEntry;
  action: MachineAction;
}

export interface WatchStore {
  /** Every entry (one list call per 5,000 entries). */
  list(): Promise<WatchEntry[]>;
  /** The entry and its action, or undefined when there is none (or it is unreadable). */
  read(instanceId: string): Promise<WatchedAction | undefined>;
  /** Records `action` as read at `readAtMs`. Last writer wins: both read MDE. */
  write(instanceId: string, action: MachineAction, readAtMs: number): Promise<void>;
  /** The poller's schedule, or undefined before its first round. */
  readSchedule(): Promise<PollSchedule | undefined>;
  writeSchedule(schedule: PollSchedule): Promise<void>;
  /** Forgets the entry (idempotent). */
  remove(instanceId: string): Promise<void>;
  /** The poller's interval: a copy written now is read by the poller within about this long. */
  readonly pollIntervalInMs: number;
  /** Writes made through this object so far: the poller skips a listing only while nobody in this process wrote. */
  localWrites(): number;
}

/**
 * What a collection acts on: the action's status and each command's. Any change wakes the
 * collection; anything else (a later lastUpdateDateTimeUtc alone) does not.
 */
export function actionSignature(action: Pick<MachineAction, "status" | "commands">): string {
  return [action.status, ...action.commands.map((c) => `${c.index}:${c.commandStatus}`)].join("|");
}

/** The entry's blob name: the instance id, restricted to characters safe in a blob name. */
export function watchEntryName(instanceId: string): string {
  return `${WATCH_PREFIX}${encodeURIComponent(instanceId)}.json`;
}

/** Entries in `container`, created on first write when missing (local runs; in Azure the template creates it). */
export function blobWatchStore(container: ContainerClient, pollIntervalInMs: number): WatchStore {
  let writes = 0;
  return {
    pollIntervalInMs,
    localWrites: () => writes,
    async list() {
      const entries: WatchEntry[] = [];
      try {
        for await (const blob of container.listBlobsFlat({ prefix: WATCH_PREFIX, includeMetadata: true })) {
          const entry = entryOf(blob.metadata);
          if (entry) entries.push(entry);
        }
      } catch (e) {
        if (storageCodeOf(e) === "ContainerNotFound") return [];
        throw e;
      }
      return entries;
    },
    async read(instanceId) {
      try {
        const response = await container.getBlobClient(watchEntryName(instanceId)).download(0);
        if ((response.contentLength ?? 0) > MAX_ENTRY_BYTES) return undefined;
        const entry = entryOf(response.metadata);
        const action = parseAction(await readBlobText(response.readableStreamBody));
        return entry && action && action.id === entry.actionId ? { entry, action } : undefined;
      } catch (e) {
        if (storageStatusOf(e) === 404) return undefined;
        throw e;
      }
    },
    async write(instanceId, action, readAtMs) {
      const text = JSON.stringify(action);
      const metadata = metadataOf({
        instanceId,
        actionId: action.id,
        signature: actionSignature(action),
        final: isFinalActionStatus(action.status),
        readAtMs,
      });
      writes++;
      await uploadJsonBlob(container, watchEntryName(instanceId), text, { metadata });
    },
    async readSchedule() {
      try {
        const response = await container.getBlobClient(SCHEDULE_NAME).download(0);
        if ((response.contentLength ?? 0) > MAX_ENTRY_BYTES) return undefined;
        return parseSchedule(await readBlobText(response.readableStreamBody));
      } catch (e) {
        if (storageStatusOf(e) === 404) return undefined;
        throw e;
      }
    },
    async writeSchedule(schedule) {
      await uploadJsonBlob(container, SCHEDULE_NAME, JSON.stringify(schedule));
    },
    async remove(instanceId) {
      await container.getBlobClient(watchEntryName(instanceId)).deleteIfExists();
    },
  };
}

/** The poller's schedule, beside (not inside) the listed prefix. */
const SCHEDULE_NAME = "watch-schedule.json";

function parseSchedule(text: string): PollSchedule | undefined {
  try {
    const { roundAtMs, nextRoundAtMs, gapMs } = JSON.parse(text) as Partial<PollSchedule>;
    return [roundAtMs, nextRoundAtMs, gapMs].every((n) => typeof n === "number" && Number.isFinite(n))
      ? { roundAtMs: roundAtMs!, nextRoundAtMs: nextRoundAtMs!, gapMs: gapMs! }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Metadata values are ASCII headers: the instance id is percent-encoded, the rest is already ASCII. */
function metadataOf(entry: WatchEntry): Record<string, string> {
  return {
    instanceid: encodeURIComponent(entry.instanceId),
    actionid: entry.actionId,
    signature: encodeURIComponent(entry.signature),
    final: entry.final ? "true" : "false",
    readat: String(entry.readAtMs),
  };
}

/** The entry its metadata describes; undefined for a blob that is not one of ours. */
function entryOf(metadata: Record<string, string> | undefined): WatchEntry | undefined {
  if (!metadata) return undefined;
  const { instanceid, actionid, signature, final, readat } = metadata;
  const readAtMs = Number(readat);
  if (!instanceid || !actionid || signature === undefined || !readat || !Number.isFinite(readAtMs)) return undefined;
  try {
    return {
      instanceId: decodeURIComponent(instanceid),
      actionId: actionid,
      signature: decodeURIComponent(signature),
      final: final === "true",
      readAtMs,
    };
  } catch {
    return undefined;
  }
}

function parseAction(text: string): MachineAction | undefined {
  try {
    const value = JSON.parse(text) as MachineAction;
    return typeof value?.id === "string" && typeof value.status === "string" && Array.isArray(value.commands) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Records an action just read from MDE (or just created by a submission): the poller reads it from
 * its next round on. Not fatal: without the entry the collection's fallback timer still reads MDE.
 */
export async function putOnWatchList(store: WatchStore, instanceId: string, action: MachineAction, now: Date, log: Logger): Promise<void> {
  try {
    await store.write(instanceId, action, now.getTime());
  } catch (e) {
    log.warn("action not put on the watch list; the collection keeps reading MDE itself", { detail: describeFailure(e) });
  }
}
