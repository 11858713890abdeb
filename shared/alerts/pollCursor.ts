/**
 * Where the alerts_v2 poller keeps its cursor: one small JSON blob in the evidence storage account,
 * in its own container (never under the evidence container: `verify` reports anything there that is
 * not evidence as EXTRA, and a WORM evidence container could not take the rewrites). Every write is
 * conditional on the ETag read (If-Match, or If-None-Match: * for the first), so of two runs that
 * overlap only one can move the cursor; the other learns it lost (a value, not an exception) and stops.
 * Conditional requests: https://learn.microsoft.com/rest/api/storageservices/specifying-conditional-headers-for-blob-service-operations
 */
import type { ContainerClient } from "@azure/storage-blob";
import { isRecord } from "./normalize";
import { storageStatusOf as statusOf } from "../storageErrors";

/**
 * The poller's progress: the half-open window `[windowStart, windowEnd)` of lastUpdateDateTime being
 * read, and the alerts of that window already handled (shared/alerts/graphPoll.ts says why).
 */
export interface PollCursor {
  version: 1;
  /** ISO 8601: every alert last updated before this instant was handled. */
  windowStart: string;
  /** ISO 8601, exclusive: the open window's end, fixed until the window is done. Absent between windows. */
  windowEnd?: string;
  /** Graph ids (`id`) of the open window's alerts already handled, with the lastUpdateDateTime they were handled at. */
  handled: Record<string, string>;
}

/** A cursor as read, with the ETag its next write must match (no cursor and no ETag: no blob yet). */
export type CursorRead =
  | { ok: true; cursor?: PollCursor; etag?: string }
  /** The blob is there but is not a cursor (a hand edit gone wrong, another tool's blob): progress is not reset silently. */
  | { ok: false; code: "CursorCorrupt"; detail: string };

/** Whether a write landed; `Conflict`: another run moved the cursor in between. */
export type CursorWrite = { ok: true; etag: string } | { ok: false; reason: "Conflict" };

/** Reads and writes the cursor; tests pass an in-memory one. */
export interface PollCursorStore {
  read(): Promise<CursorRead>;
  /** Writes if the blob is still at `etag` (or still absent when undefined); keeps at most {@link MAX_HANDLED_IDS} handled ids. */
  write(cursor: PollCursor, etag: string | undefined): Promise<CursorWrite>;
}

/**
 * Handled ids a cursor keeps; the oldest are dropped past it. A window normally holds at most one
 * page of alerts (graphPoll.ts), so this binds only a burst of alerts updated within one second. An
 * id dropped here is looked at again if listed again, and the per-device instance id still never starts
 * a collection twice: the bound costs duplicate checks, never a missed or doubled collection.
 */
export const MAX_HANDLED_IDS = 5000;

/** Longest Graph alert id kept (Graph's are 40-odd characters); the poller skips longer ones as malformed. */
export const MAX_ALERT_ID_LENGTH = 256;

/** Largest cursor blob read back: {@link MAX_HANDLED_IDS} ids of at most {@link MAX_ALERT_ID_LENGTH} characters fit. */
const MAX_CURSOR_BYTES = 2 * 1024 * 1024;

/** The blob's name: one cursor per Graph host, so switching clouds never reuses another cloud's progress. */
export function cursorBlobName(graphBaseUrl: string): string {
  return `alerts-v2-poll/${new URL(graphBaseUrl).host.replace(/[^A-Za-z0-9.-]/g, "_")}.json`;
}

/** `handled` with only its newest {@link MAX_HANDLED_IDS} entries (insertion order). Pure. */
export function boundHandled(handled: Record<string, string>, max = MAX_HANDLED_IDS): Record<string, string> {
  const entries = Object.entries(handled);
  return entries.length <= max ? handled : Object.fromEntries(entries.slice(entries.length - max));
}

/**
 * The cursor in a blob of `container`, the collector's state container in the host storage account
 * (shared/stateStorage.ts): created on first use when missing (Azurite locally; in Azure the template creates it).
 */
export function blobPollCursorStore(container: ContainerClient, blobName: string): PollCursorStore {
  const blob = container.getBlockBlobClient(blobName);
  return {
    async read() {
      // Properties then content at that ETag; a write in between (412) is read again.
      for (let attempt = 1; ; attempt++) {
        let buffer: Buffer;
        let etag: string | undefined;
        try {
          const properties = await blob.getProperties();
          if ((properties.contentLength ?? 0) > MAX_CURSOR_BYTES)
            return { ok: false, code: "CursorCorrupt", detail: `the cursor blob ${blobName} is larger than ${MAX_CURSOR_BYTES} bytes` };
          etag = properties.etag;
          buffer =
            (properties.contentLength ?? 0) === 0
              ? Buffer.alloc(0)
              : await blob.downloadToBuffer(0, undefined, { conditions: { ifMatch: etag } });
        } catch (e) {
          const status = statusOf(e);
          if (status === 404) return { ok: true };
          if (status === 412 && attempt < 3) continue;
          throw e;
        }
        const parsed = parseCursor(buffer.toString("utf8"), blobName);
        return parsed.ok ? { ok: true, cursor: parsed.cursor, etag } : { ok: false, code: "CursorCorrupt", detail: parsed.detail };
      }
    },
    async write(cursor, etag) {
      const body = JSON.stringify({ ...cursor, handled: boundHandled(cursor.handled) });
      const options = {
        conditions: etag === undefined ? { ifNoneMatch: "*" } : { ifMatch: etag },
        blobHTTPHeaders: { blobContentType: "application/json" },
      };
      const upload = async (): Promise<CursorWrite | "noContainer"> => {
        try {
          const answer = await blob.upload(body, Buffer.byteLength(body), options);
          return { ok: true, etag: answer.etag! };
        } catch (e) {
          const status = statusOf(e);
          // 412: the ETag moved; 409: If-None-Match: * met a blob another run created first.
          if (status === 412 || status === 409) return { ok: false, reason: "Conflict" };
          if (status === 404 && (errorCodeOf(e) ?? "ContainerNotFound") === "ContainerNotFound") return "noContainer";
          throw e;
        }
      };
      const first = await upload();
      if (first !== "noContainer") return first;
      // The first write of a local run (in Azure the template made the container).
      await container.createIfNotExists();
      const second = await upload();
      if (second === "noContainer") throw new Error(`the container ${container.containerName} could not be created`);
      return second;
    },
  };
}

/**
 * The cursor a blob holds, or why it is not one (never throws: a corrupt cursor must be reported, not crash the timer).
 * Pure.
 */
export function parseCursor(text: string, blobName: string): { ok: true; cursor: PollCursor } | { ok: false; detail: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, detail: `the cursor blob ${blobName} is not JSON` };
  }
  const valid =
    isRecord(value) &&
    value.version === 1 &&
    isInstant(value.windowStart) &&
    (value.windowEnd === undefined || (isInstant(value.windowEnd) && Date.parse(value.windowEnd) > Date.parse(value.windowStart))) &&
    isRecord(value.handled) &&
    Object.keys(value.handled).length <= MAX_HANDLED_IDS &&
    Object.entries(value.handled).every(([id, at]) => id.length <= MAX_ALERT_ID_LENGTH && typeof at === "string");
  if (!valid) return { ok: false, detail: `the cursor blob ${blobName} is not a version 1 cursor; fix or delete it to start again` };
  const cursor = value as unknown as PollCursor;
  return {
    ok: true,
    cursor: {
      version: 1,
      windowStart: cursor.windowStart,
      ...(cursor.windowEnd === undefined ? {} : { windowEnd: cursor.windowEnd }),
      handled: { ...cursor.handled },
    },
  };
}

function isInstant(value: unknown): value is string {
  return typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value) && !Number.isNaN(Date.parse(value));
}

function errorCodeOf(e: unknown): string | undefined {
  const details = (e as { details?: { errorCode?: unknown } } | null)?.details;
  const code = (e as { code?: unknown } | null)?.code ?? details?.errorCode;
  return typeof code === "string" ? code : undefined;
}
