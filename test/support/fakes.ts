import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { InvocationContext } from "@azure/functions";
import { CollectorError } from "../../shared/errors";
import { jsonDocument } from "../../shared/evidence/jsonDocument";
import { checkDownloadLink } from "../../shared/evidence/linkPolicy";
import type {
  ChunkedCopyOptions,
  ChunkedCopyProgress,
  ChunkedCopyState,
  CopyResult,
  EvidenceStore,
  LinkSource,
  StoredEvidence,
} from "../../shared/evidence/types";
import type { MdeApi } from "../../shared/mde/api";
import type { CommandState, LiveResponseCommand, MachineAction } from "../../shared/mde/models";

/**
 * Small in-process fakes of the product's two I/O ports, `MdeApi` and `EvidenceStore`, for unit
 * tests of activities and triggers: no network, no Azurite.
 */

/** An MdeApi whose every method is a jest mock; unset methods fail loudly. */
export function fakeMde(over: Partial<Record<keyof MdeApi, jest.Mock>> = {}): MdeApi & Record<keyof MdeApi, jest.Mock> {
  const fail = (name: string) =>
    jest.fn(async () => {
      throw new Error(`unexpected call to ${name}`);
    });
  return {
    runLiveResponse: over.runLiveResponse ?? fail("runLiveResponse"),
    getMachineAction: over.getMachineAction ?? fail("getMachineAction"),
    getMachineActionAsReturned: over.getMachineActionAsReturned ?? fail("getMachineActionAsReturned"),
    listMachineActions: over.listMachineActions ?? fail("listMachineActions"),
    getLiveResponseResultDownloadLink: over.getLiveResponseResultDownloadLink ?? fail("getLiveResponseResultDownloadLink"),
    cancelMachineAction: over.cancelMachineAction ?? fail("cancelMachineAction"),
    listMachines: over.listMachines ?? fail("listMachines"),
    getAlert: over.getAlert ?? fail("getAlert"),
    listLibraryFiles: over.listLibraryFiles ?? fail("listLibraryFiles"),
    uploadLibraryFile: over.uploadLibraryFile ?? fail("uploadLibraryFile"),
  };
}

/** An InvocationContext that drops its log lines. */
export const context = () => new InvocationContext({ functionName: "test", logHandler: () => {} });

/** An InvocationContext whose log lines are kept, parsed as the JSON the app writes, and also kept raw (to search for secrets). */
export function capturingContext(functionName = "test") {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const context = new InvocationContext({
    functionName,
    logHandler: (_level, ...args) => {
      raw.push(args.map(String).join(" "));
      lines.push(JSON.parse(String(args[0])) as Record<string, unknown>);
    },
  });
  return { context, lines, raw };
}

/** A LiveResponse machine action as MDE returns it, Pending by default. */
export function machineAction(over: Partial<MachineAction> = {}): MachineAction {
  return {
    id: "2e9da30d-27f6-4208-81f2-9cd3d67893ba",
    type: "LiveResponse",
    status: "Pending",
    machineId: "f70f9fe6b29cd9511652434919c6530618f06606",
    computerDnsName: "desktop-test",
    requestor: "app",
    requestorComment: "Investigate [collector:abc]",
    creationDateTimeUtc: "2026-01-01T00:00:00Z",
    lastUpdateDateTimeUtc: "2026-01-01T00:00:00Z",
    errorHResult: 0,
    cancellationRequestor: null,
    cancellationComment: null,
    cancellationDateTimeUtc: null,
    commands: [],
    ...over,
  };
}

/** The commands of a request as MDE lists them in the action it created (`Created`, in order). */
export function commandStates(commands: LiveResponseCommand[]): CommandState[] {
  return commands.map((c, index) => ({
    index,
    type: c.type,
    params: c.params.map((p) => ({ ...p })),
    commandStatus: "Created",
    errors: [],
    startTime: null,
    endTime: null,
  }));
}

/** The signature of {@link SAS_DOWNLOAD_LINK}: it must never reach an output, a log or an error. */
export const SAS_SIGNATURE = "c2VjcmV0LXNpZ25hdHVyZS1uZXZlci1sb2c";
/** A download link shaped like the blob SAS URL GetLiveResponseResultDownloadLink answers. */
export const SAS_DOWNLOAD_LINK = `https://automatedirstrprdweu.blob.core.windows.net/investigation-actions-data/ID/CustomPlaybookCommandOutput/4ed5e7807ad1fe59b00b664fe06a0f07?se=2026-01-01T00%3A30%3A00Z&sp=r&sv=2019-07-07&sr=b&sig=${SAS_SIGNATURE}%3D`;

type EvidenceMethod = "find" | "copyChunk" | "writeJson" | "urlOf";

/** An EvidenceStore whose methods are the given jest mocks; unset methods fail loudly. */
export function fakeEvidence(over: Partial<Record<EvidenceMethod, jest.Mock>> = {}): EvidenceStore & Record<EvidenceMethod, jest.Mock> {
  const fail = (name: string) =>
    jest.fn(async () => {
      throw new Error(`unexpected call to ${name}`);
    });
  const store = {
    find: over.find ?? fail("find"),
    copyChunk: over.copyChunk ?? fail("copyChunk"),
    writeJson: over.writeJson ?? fail("writeJson"),
    urlOf: over.urlOf ?? jest.fn((name: string) => `${EVIDENCE_CONTAINER_URL}/${name}`),
  };
  // Only the methods activities call are faked; any other member of the interface is absent on purpose.
  return store as EvidenceStore & typeof store;
}

/** The container URL the fakes give their blobs (no SAS, as the real store's urlOf). */
export const EVIDENCE_CONTAINER_URL = "https://evidence.blob.core.windows.net/evidence";

/** One blob of {@link memoryEvidenceStore}, with what the commit wrote. */
export interface MemoryBlob {
  bytes: Buffer;
  stored: StoredEvidence;
  contentType: string;
  metadata: Record<string, string>;
  tags?: Record<string, string>;
}

/**
 * An EvidenceStore in memory that keeps the interface's promises the activities rely on: a
 * committed blob is never overwritten and a re-run returns it (`created: false`) without asking for
 * a link; a document is rewritten only with the same bytes (else `IntegrityError`); each call asks for one fresh link, checked by the product's link policy; at most
 * `chunkBytes` are taken per call; the head is read back from the stored bytes. Hash states in
 * the chunk state are placeholders (the state is opaque to its callers).
 * @param download - the bytes a (checked) link serves
 */
export function memoryEvidenceStore(download: (url: string) => Buffer | Promise<Buffer>) {
  const blobs = new Map<string, MemoryBlob>();
  const urlOf = (name: string) => `${EVIDENCE_CONTAINER_URL}/${name}`;

  function commit(
    blobName: string,
    bytes: Buffer,
    contentType: string,
    options: { metadata: Record<string, string>; tags?: Record<string, string> },
  ): StoredEvidence {
    const gzip = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
    const stored: StoredEvidence = {
      blobName,
      blobUrl: urlOf(blobName),
      size: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      md5: createHash("md5").update(bytes).digest("base64"),
      contentFormat: gzip ? "gzip" : "raw",
      committedAt: "2026-01-01T00:00:00.000Z",
    };
    if (gzip) {
      const plain = gunzipSync(bytes);
      stored.decompressed = { size: plain.length, sha256: createHash("sha256").update(plain).digest("hex") };
    }
    blobs.set(blobName, { bytes, stored, contentType, metadata: options.metadata, tags: options.tags });
    return stored;
  }

  const headOf = (bytes: Buffer, captureHeadBytes: number | undefined) =>
    captureHeadBytes ? { head: bytes.subarray(0, captureHeadBytes) } : {};

  async function copyChunk(
    link: LinkSource,
    state: ChunkedCopyState | undefined,
    options: ChunkedCopyOptions,
  ): Promise<ChunkedCopyProgress> {
    const existing = blobs.get(options.blobName);
    if (existing)
      return {
        state: state && { ...state, done: true },
        result: { ...existing.stored, created: false, linkFetches: 0, ...headOf(existing.bytes, options.captureHeadBytes) },
      };
    const bytes = await download(checkDownloadLink(await link()).href);
    const offset = state?.offset ?? 0;
    const end = Math.min(bytes.length, offset + options.chunkBytes);
    const next: ChunkedCopyState = {
      version: 1,
      blobName: options.blobName,
      blockSize: options.chunkBytes,
      offset: end,
      blockCount: Math.ceil(end / options.chunkBytes),
      sha256State: "placeholder",
      md5State: "placeholder",
      sourceSize: bytes.length,
      linkFetches: (state?.linkFetches ?? 0) + 1,
      chunks: (state?.chunks ?? 0) + 1,
      done: false,
    };
    if (end < bytes.length) return { state: next };
    const stored = commit(options.blobName, bytes, options.contentType, options);
    const result: CopyResult = { ...stored, created: true, linkFetches: next.linkFetches, ...headOf(bytes, options.captureHeadBytes) };
    return { state: { ...next, sha256State: "", md5State: "", done: true }, result };
  }

  async function writeJson(
    blobName: string,
    value: unknown,
    options: { metadata: Record<string, string>; tags?: Record<string, string> },
  ): Promise<CopyResult> {
    const body = jsonDocument(value);
    const existing = blobs.get(blobName);
    if (existing && !existing.bytes.equals(body))
      throw new CollectorError("IntegrityError", `Another document already holds the name ${blobName}`);
    if (existing) return { ...existing.stored, created: false, linkFetches: 0 };
    const stored = commit(blobName, body, "application/json; charset=utf-8", options);
    return { ...stored, created: true, linkFetches: 0 };
  }

  const store = fakeEvidence({
    find: jest.fn(async (name: string) => blobs.get(name)?.stored),
    copyChunk: jest.fn(copyChunk),
    writeJson: jest.fn(writeJson),
    urlOf: jest.fn(urlOf),
  });
  return { store, blobs };
}
