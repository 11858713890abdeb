import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { createCollectCommandResult } from "../../../activities/collectCommandResult";
import type { ChunkedCopyState, CollectInput, CollectOutput } from "../../../shared/contract";
import { TRANSCRIPT_FIELD_MAX_CHARS, TRANSCRIPT_MAX_BYTES } from "../../../shared/evidence/transcript";
import type { CopyResult } from "../../../shared/evidence/types";
import { CollectorError, MdeApiError } from "../../../shared/errors";
import type { LiveResponseCommand } from "../../../shared/mde/models";
import {
  capturingContext,
  context,
  EVIDENCE_CONTAINER_URL,
  fakeEvidence,
  fakeMde,
  memoryEvidenceStore,
  SAS_DOWNLOAD_LINK,
  SAS_SIGNATURE,
} from "../../support/fakes";

const MACHINE_ID = "f70f9fe6b29cd9511652434919c6530618f06606";
const ACTION_ID = "2e9da30d-27f6-4208-81f2-9cd3d67893ba";
const INSTANCE_ID = "collect-0123";
const PREFIX = "evidence";
const FOLDER = `${PREFIX}/${MACHINE_ID}/${ACTION_ID}`;
const CHUNK_BYTES = 8 * 1024 * 1024;

const RUN_SCRIPT: LiveResponseCommand = {
  type: "RunScript",
  params: [
    { key: "ScriptName", value: "triage.ps1" },
    { key: "Args", value: "-Quick" },
  ],
};
const GET_FILE: LiveResponseCommand = { type: "GetFile", params: [{ key: "Path", value: "C:\\Windows\\Temp\\triage.zip" }] };
const PUT_FILE: LiveResponseCommand = { type: "PutFile", params: [{ key: "FileName", value: "tool.ps1" }] };

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const input = (command: LiveResponseCommand, index: number, chunk?: ChunkedCopyState): CollectInput => ({
  instanceId: INSTANCE_ID,
  machineId: MACHINE_ID,
  actionId: ACTION_ID,
  index,
  command,
  chunk,
});
const linkFromMde = () => fakeMde({ getLiveResponseResultDownloadLink: jest.fn(async () => SAS_DOWNLOAD_LINK) });
const apiError = (statusCode: number | undefined, code: string, retryAfterInMs?: number) =>
  new MdeApiError({ statusCode, code, message: `${code} happened`, target: "t-1", retryAfterInMs });
const transcriptJson = (over: Record<string, unknown> = {}) =>
  Buffer.from(JSON.stringify({ script_name: "triage.ps1", exit_code: 0, script_output: "3 processes", script_errors: "", ...over }));

/** The collect activity over an in-memory store serving `content` at every link, with a chunk size of `chunkBytes`. */
function collectorOver(content: Buffer, chunkBytes = CHUNK_BYTES) {
  const mde = linkFromMde();
  const download = jest.fn(async () => content);
  const { store, blobs } = memoryEvidenceStore(download);
  const collect = createCollectCommandResult({ mde, evidence: store, evidencePrefix: PREFIX, chunkBytes });
  return { collect, mde, store, blobs, download };
}

/** The collect activity over a store whose copyChunk is the given mock. */
function collectorWith(copyChunk: jest.Mock) {
  const mde = linkFromMde();
  const evidence = fakeEvidence({ copyChunk });
  return { collect: createCollectCommandResult({ mde, evidence, evidencePrefix: PREFIX, chunkBytes: CHUNK_BYTES }), mde, evidence };
}

/** A committed result as the store reports it. */
function copyResult(over: Partial<CopyResult> = {}): CopyResult {
  return {
    blobName: `${FOLDER}/0-RunScript-triage.ps1`,
    blobUrl: `${EVIDENCE_CONTAINER_URL}/${FOLDER}/0-RunScript-triage.ps1`,
    size: 10,
    sha256: "a".repeat(64),
    md5: "bWQ1",
    contentFormat: "raw",
    committedAt: "2026-01-01T00:00:00.000Z",
    created: true,
    linkFetches: 1,
    ...over,
  };
}

function collected(output: CollectOutput) {
  if (output.kind !== "collected") throw new Error(`expected collected, got ${JSON.stringify(output)}`);
  return output.evidence;
}

describe("collectCommandResult", () => {
  describe("a result committed in one call", () => {
    it("copies a GetFile result from a fresh download link into {prefix}/{machineId}/{actionId}/{index}-{type}-{base name}", async () => {
      const bytes = Buffer.from("PK\x05\x06 an archive");
      const { collect, mde, download } = collectorOver(bytes);
      const evidence = collected(await collect(input(GET_FILE, 1), context()));
      expect(mde.getLiveResponseResultDownloadLink).toHaveBeenCalledWith(ACTION_ID, 1);
      expect(download).toHaveBeenCalledWith(SAS_DOWNLOAD_LINK);
      expect(evidence).toEqual({
        blobName: `${FOLDER}/1-GetFile-triage.zip`,
        blobUrl: `${EVIDENCE_CONTAINER_URL}/${FOLDER}/1-GetFile-triage.zip`,
        size: bytes.length,
        sha256: sha256(bytes),
        md5: createHash("md5").update(bytes).digest("base64"),
        contentFormat: "raw",
        committedAt: "2026-01-01T00:00:00.000Z",
        created: true,
        linkFetches: 1,
        index: 1,
        type: "GetFile",
        // The activity call that committed it, for the manifest.
        invocationId: expect.any(String),
      });
    });

    it("stores a GetFile result as octet-stream without reading a head back, with metadata naming the command and tags naming machine and action", async () => {
      const { collect, store, blobs } = collectorOver(Buffer.from("bytes"));
      await collect(input(GET_FILE, 1), context());
      expect(store.copyChunk.mock.calls[0][2]).toMatchObject({
        contentType: "application/octet-stream",
        captureHeadBytes: undefined,
        chunkBytes: CHUNK_BYTES,
      });
      const blob = blobs.get(`${FOLDER}/1-GetFile-triage.zip`)!;
      expect(blob.contentType).toBe("application/octet-stream");
      expect(blob.metadata).toEqual({
        machineid: MACHINE_ID,
        actionid: ACTION_ID,
        commandindex: "1",
        commandtype: "GetFile",
        instanceid: INSTANCE_ID,
        source: "C%3A%5CWindows%5CTemp%5Ctriage.zip",
      });
      expect(blob.tags).toEqual({ machineId: MACHINE_ID, actionId: ACTION_ID });
    });

    it("records a gzip GetFile result's format and the decompressed size and SHA-256 an analyst compares with the alert's file hash", async () => {
      const file = Buffer.from("MZ the file as it was on the device ".repeat(100));
      const received = gzipSync(file);
      const { collect } = collectorOver(received);
      const evidence = collected(await collect(input(GET_FILE, 1), context()));
      expect(evidence).toMatchObject({
        size: received.length,
        sha256: sha256(received),
        contentFormat: "gzip",
        decompressed: { size: file.length, sha256: sha256(file) },
      });
      expect(evidence).not.toHaveProperty("transcript");
      expect(evidence).not.toHaveProperty("transcriptError");
    });

    it("percent-encodes a non-ASCII device path into ASCII metadata and keeps only its sanitised base name in the blob name", async () => {
      const path = "C:\\Users\\José\\Desktop\\relevé 2026.pdf";
      const { collect, blobs } = collectorOver(Buffer.from("pdf"));
      const evidence = collected(await collect(input({ type: "GetFile", params: [{ key: "Path", value: path }] }, 0), context()));
      expect(evidence.blobName).toBe(`${FOLDER}/0-GetFile-relev__2026.pdf`);
      const { source } = blobs.get(evidence.blobName)!.metadata;
      expect(source).toMatch(/^[\x21-\x7e]+$/);
      expect(decodeURIComponent(source)).toBe(path);
    });

    it("keeps an attacker-chosen GetFile path inside the action's folder", async () => {
      const { collect } = collectorOver(Buffer.from("x"));
      const evidence = collected(
        await collect(input({ type: "GetFile", params: [{ key: "Path", value: "C:\\..\\..\\..\\.." }] }, 2), context()),
      );
      expect(evidence.blobName).toBe(`${FOLDER}/2-GetFile-__`);
    });

    it.each([
      ["a PutFile result by its file name", PUT_FILE, "0-PutFile-tool.ps1", "tool.ps1"],
      [
        "a command without its name parameter by its type",
        { type: "GetFile", params: [] } as LiveResponseCommand,
        "0-GetFile-GetFile",
        "GetFile",
      ],
    ])("names %s", async (_what, command, file, source) => {
      const { collect, blobs } = collectorOver(Buffer.from("x"));
      expect(collected(await collect(input(command, 0), context())).blobName).toBe(`${FOLDER}/${file}`);
      expect(blobs.get(`${FOLDER}/${file}`)!.metadata.source).toBe(source);
    });

    it.each([
      ["a lone surrogate (valid JSON the request validation accepts) as U+FFFD", "C:\\Temp\\\ud800.txt", "C:\\Temp\\\ufffd.txt"],
      ["a surrogate pair as the character it is", "C:\\Temp\\\u{1F600}.txt", "C:\\Temp\\\u{1F600}.txt"],
    ])("collects a GetFile whose path holds %s in its metadata instead of throwing", async (_what, path, recorded) => {
      const { collect, blobs } = collectorOver(Buffer.from("x"));
      const evidence = collected(await collect(input({ type: "GetFile", params: [{ key: "Path", value: path }] }, 0), context()));
      const { source } = blobs.get(evidence.blobName)!.metadata;
      expect(source).toMatch(/^[\x21-\x7e]+$/);
      expect(decodeURIComponent(source)).toBe(recorded);
    });
  });

  describe("RunScript transcripts", () => {
    it("stores a RunScript result as JSON, asks for its head and parses the transcript into the record", async () => {
      const { collect, store, blobs } = collectorOver(transcriptJson({ script_errors: "warning: slow" }));
      const evidence = collected(await collect(input(RUN_SCRIPT, 0), context()));
      expect(store.copyChunk.mock.calls[0][2]).toMatchObject({ contentType: "application/json", captureHeadBytes: TRANSCRIPT_MAX_BYTES });
      expect(blobs.get(`${FOLDER}/0-RunScript-triage.ps1`)!.contentType).toBe("application/json");
      expect(evidence.transcript).toEqual({
        script_name: "triage.ps1",
        exit_code: 0,
        script_output: "3 processes",
        script_errors: "warning: slow",
      });
      expect(evidence).not.toHaveProperty("transcriptError");
      expect(evidence).not.toHaveProperty("head");
    });

    it("marks the transcript truncated when an output is longer than the record keeps (the blob holds it whole)", async () => {
      const { collect } = collectorOver(transcriptJson({ script_output: "x".repeat(TRANSCRIPT_FIELD_MAX_CHARS + 10) }));
      const evidence = collected(await collect(input(RUN_SCRIPT, 0), context()));
      expect(evidence.transcript).toMatchObject({ truncated: true, script_output: "x".repeat(TRANSCRIPT_FIELD_MAX_CHARS) });
    });

    it("still collects a RunScript result that is not JSON, recording why there is no transcript", async () => {
      const { collect } = collectorOver(Buffer.from("Access denied"));
      const evidence = collected(await collect(input(RUN_SCRIPT, 0), context()));
      expect(evidence.transcriptError).toBe("RunScript result is not JSON; see the evidence blob");
      expect(evidence).not.toHaveProperty("transcript");
    });

    it("does not parse a head shorter than the result, recording the sizes instead", async () => {
      const copyChunk = jest.fn(async () => ({ result: copyResult({ size: 3 * 1024 * 1024, head: Buffer.from('{"exit_code":0}') }) }));
      const evidence = collected(await collectorWith(copyChunk).collect(input(RUN_SCRIPT, 0), context()));
      expect(evidence.transcriptError).toBe("RunScript result is 3145728 bytes, more than the 15 read for parsing; see the evidence blob");
      expect(evidence).not.toHaveProperty("transcript");
    });

    it("records an error instead of a transcript when the store did not read the head back", async () => {
      const copyChunk = jest.fn(async () => ({ result: copyResult() }));
      const evidence = collected(await collectorWith(copyChunk).collect(input(RUN_SCRIPT, 0), context()));
      expect(evidence.transcriptError).toBe("RunScript result was not read back for parsing");
    });
  });

  describe("a result copied in chunks", () => {
    it("returns inProgress with the store's state after each chunk, continues from that state, and collects on the call that commits", async () => {
      const bytes = Buffer.from("0123456789");
      const { collect, mde, store } = collectorOver(bytes, 4);
      const first = await collect(input(GET_FILE, 1), context());
      expect(first).toEqual({ kind: "inProgress", chunk: expect.objectContaining({ offset: 4, chunks: 1, done: false }) });
      const firstChunk = (first as { chunk: ChunkedCopyState }).chunk;
      const second = await collect(input(GET_FILE, 1, firstChunk), context());
      expect(second).toEqual({ kind: "inProgress", chunk: expect.objectContaining({ offset: 8, chunks: 2 }) });
      const third = await collect(input(GET_FILE, 1, (second as { chunk: ChunkedCopyState }).chunk), context());

      expect(collected(third)).toMatchObject({ size: 10, sha256: sha256(bytes), linkFetches: 3, created: true });
      expect(store.copyChunk.mock.calls.map((c) => c[1])).toEqual([undefined, firstChunk, (second as { chunk: ChunkedCopyState }).chunk]);
      expect(mde.getLiveResponseResultDownloadLink).toHaveBeenCalledTimes(3);
    });

    it("logs each staged chunk with where the copy stands", async () => {
      const { collect } = collectorOver(Buffer.from("0123456789"), 4);
      const { context: ctx, lines } = capturingContext();
      await collect(input(GET_FILE, 1), ctx);
      expect(lines).toEqual([
        {
          level: "info",
          message: "evidence chunk staged",
          instanceId: INSTANCE_ID,
          machineId: MACHINE_ID,
          actionId: ACTION_ID,
          commandIndex: 1,
          blobName: `${FOLDER}/1-GetFile-triage.zip`,
          offset: 4,
          chunks: 1,
        },
      ]);
    });

    it.each(["SourceChanged", "InvalidCopyState"])(
      "starts the copy over from the first byte (inProgress without a chunk) on %s",
      async (code) => {
        const copyChunk = jest.fn(async (_link: unknown, _state: ChunkedCopyState | undefined) => {
          throw new CollectorError(code, "the staged blocks describe another source");
        });
        const { context: ctx, lines } = capturingContext();
        const staleChunk = { version: 1, offset: 4 } as ChunkedCopyState;
        const output = await collectorWith(copyChunk).collect(input(GET_FILE, 1, staleChunk), ctx);
        expect(output).toStrictEqual({ kind: "inProgress" });
        expect(copyChunk.mock.calls[0][1]).toBe(staleChunk);
        expect(lines).toContainEqual(
          expect.objectContaining({
            level: "warn",
            message: "evidence copy restarts from the beginning",
            code,
            blobName: `${FOLDER}/1-GetFile-triage.zip`,
          }),
        );
      },
    );
  });

  describe("re-runs", () => {
    it("returns the committed blob untouched (created: false) without asking MDE for a link again", async () => {
      const { collect, mde } = collectorOver(Buffer.from("result"));
      const first = collected(await collect(input(GET_FILE, 1), context()));
      const { context: ctx, lines } = capturingContext();
      const again = collected(await collect(input(GET_FILE, 1), ctx));
      expect(again).toEqual({ ...first, created: false, linkFetches: 0 });
      expect(mde.getLiveResponseResultDownloadLink).toHaveBeenCalledTimes(1);
      expect(lines).toContainEqual(
        expect.objectContaining({ message: "evidence already present", blobName: first.blobName, sha256: first.sha256 }),
      );
    });

    it("logs the first commit as committed", async () => {
      const { collect } = collectorOver(Buffer.from("result"));
      const { context: ctx, lines } = capturingContext();
      const evidence = collected(await collect(input(GET_FILE, 1), ctx));
      expect(lines).toEqual([
        {
          level: "info",
          message: "evidence committed",
          instanceId: INSTANCE_ID,
          machineId: MACHINE_ID,
          actionId: ACTION_ID,
          commandIndex: 1,
          blobName: evidence.blobName,
          size: 6,
          sha256: evidence.sha256,
          linkFetches: 1,
        },
      ]);
    });

    it("parses a RunScript transcript again from the stored blob on a re-run", async () => {
      const { collect } = collectorOver(transcriptJson());
      const first = collected(await collect(input(RUN_SCRIPT, 0), context()));
      const again = collected(await collect(input(RUN_SCRIPT, 0), context()));
      expect(again.transcript).toEqual(first.transcript);
      expect(again.created).toBe(false);
    });

    it("collects the stored blob when a retry carries the last chunk state after the commit already happened", async () => {
      const { collect, mde } = collectorOver(Buffer.from("0123456789"), 8);
      const staged = (await collect(input(GET_FILE, 1), context())) as { chunk: ChunkedCopyState };
      const committed = collected(await collect(input(GET_FILE, 1, staged.chunk), context()));
      const retried = collected(await collect(input(GET_FILE, 1, staged.chunk), context()));
      expect(retried).toEqual({ ...committed, created: false, linkFetches: 0 });
      expect(mde.getLiveResponseResultDownloadLink).toHaveBeenCalledTimes(2);
    });
  });

  describe("MDE and store failures", () => {
    it.each([
      ["with MDE's Retry-After", 7000],
      ["without a Retry-After", undefined],
    ])("returns throttled when MDE answers 429 for the link, %s", async (_what, retryAfterInMs) => {
      const mde = fakeMde({
        getLiveResponseResultDownloadLink: jest.fn(async () => {
          throw apiError(429, "TooManyRequests", retryAfterInMs);
        }),
      });
      const { store } = memoryEvidenceStore(async () => Buffer.from("never served"));
      const collect = createCollectCommandResult({ mde, evidence: store, evidencePrefix: PREFIX, chunkBytes: CHUNK_BYTES });
      expect(await collect(input(GET_FILE, 1), context())).toStrictEqual({ kind: "throttled", retryAfterInMs });
    });

    it.each([
      [400, "BadRequest"],
      [401, "Unauthorized"],
      [403, "Forbidden"],
      [404, "ResourceNotFound"],
      [409, "Conflict"],
    ])("returns rejected for a %i %s on the link, keeping MDE's correlation id", async (statusCode, code) => {
      const mde = fakeMde({
        getLiveResponseResultDownloadLink: jest.fn(async () => {
          throw apiError(statusCode, code);
        }),
      });
      const { store, blobs } = memoryEvidenceStore(async () => Buffer.from("never served"));
      const collect = createCollectCommandResult({ mde, evidence: store, evidencePrefix: PREFIX, chunkBytes: CHUNK_BYTES });
      expect(await collect(input(GET_FILE, 1), context())).toEqual({
        kind: "rejected",
        statusCode,
        code,
        message: `${code} happened`,
        target: "t-1",
      });
      expect(blobs.size).toBe(0);
    });

    it("returns rejected for a download link the link policy refuses, showing the link without its SAS", async () => {
      const mde = fakeMde({
        getLiveResponseResultDownloadLink: jest.fn(async () =>
          SAS_DOWNLOAD_LINK.replace("https://automatedirstrprdweu.blob.core.windows.net", "http://attacker.example"),
        ),
      });
      const download = jest.fn(async () => Buffer.from("never served"));
      const { store } = memoryEvidenceStore(download);
      const collect = createCollectCommandResult({ mde, evidence: store, evidencePrefix: PREFIX, chunkBytes: CHUNK_BYTES });
      const output = await collect(input(GET_FILE, 1), context());
      expect(output).toEqual({
        kind: "rejected",
        code: "UntrustedDownloadLink",
        message: expect.stringContaining("http://attacker.example/investigation-actions-data/"),
      });
      expect(JSON.stringify(output)).not.toContain(SAS_SIGNATURE);
      expect(download).not.toHaveBeenCalled();
    });

    it("returns rejected with code IntegrityError when the stored blob is not the evidence, so the error is recorded and not retried", async () => {
      const finding = `Blob already present is not this copy's evidence: ${FOLDER}/1-GetFile-triage.zip: size 6, its metadata says 4096`;
      const copyChunk = jest.fn(async () => {
        throw new CollectorError("IntegrityError", finding);
      });
      const { context: ctx, lines } = capturingContext();
      const output = await collectorWith(copyChunk).collect(input(GET_FILE, 1), ctx);
      expect(output).toEqual({ kind: "rejected", code: "IntegrityError", message: finding });
      expect(copyChunk).toHaveBeenCalledTimes(1);
      expect(lines).toContainEqual(
        expect.objectContaining({
          level: "error",
          message: "evidence integrity error",
          code: "IntegrityError",
          blobName: `${FOLDER}/1-GetFile-triage.zip`,
        }),
      );
    });

    it("returns rejected for an https link to a host that is not Azure Storage (the instance metadata address), fetching nothing", async () => {
      const mde = fakeMde({
        getLiveResponseResultDownloadLink: jest.fn(
          async () => `https://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&sig=${SAS_SIGNATURE}`,
        ),
      });
      const download = jest.fn(async () => Buffer.from("never served"));
      const { store } = memoryEvidenceStore(download);
      const collect = createCollectCommandResult({ mde, evidence: store, evidencePrefix: PREFIX, chunkBytes: CHUNK_BYTES });
      const output = await collect(input(GET_FILE, 1), context());
      expect(output).toEqual({
        kind: "rejected",
        code: "UntrustedDownloadLink",
        message: expect.stringContaining("169.254.169.254 is not on the allow-list"),
      });
      expect(JSON.stringify(output)).not.toContain(SAS_SIGNATURE);
      expect(download).not.toHaveBeenCalled();
    });

    it.each([
      [
        "a 500 from MDE",
        apiError(500, "InternalServerError"),
        "MDE InternalServerError (HTTP 500): InternalServerError happened; correlation id t-1",
      ],
      [
        "a 503 from MDE",
        apiError(503, "ServiceUnavailable", 1000),
        "MDE ServiceUnavailable (HTTP 503): ServiceUnavailable happened; correlation id t-1",
      ],
      [
        "a network failure reaching MDE (no status)",
        apiError(undefined, "NetworkError"),
        "MDE NetworkError: NetworkError happened; correlation id t-1",
      ],
      [
        "a download the store gave up on",
        new CollectorError("DownloadFailed", "Download abandoned after 5 download links"),
        "DownloadFailed: Download abandoned after 5 download links",
      ],
      ["an unexpected error", new TypeError("boom"), "TypeError: boom"],
    ])("rethrows %s so the Durable runtime retries the activity, as one line with its code and no stack", async (_what, error, message) => {
      const copyChunk = jest.fn(async () => {
        throw error;
      });
      const thrown = await collectorWith(copyChunk)
        .collect(input(GET_FILE, 1), context())
        .catch((e: Error) => e);
      expect(thrown).toBeInstanceOf(Error);
      expect((thrown as Error).message).toBe(message);
      expect((thrown as Error).stack).toBe(`Error: ${message}`);
    });

    it("rethrows a transient MDE fault raised while the store fetches the link, with MDE's code and correlation id", async () => {
      const mde = fakeMde({
        getLiveResponseResultDownloadLink: jest.fn(async () => {
          throw apiError(502, "BadGateway");
        }),
      });
      const { store } = memoryEvidenceStore(async () => Buffer.from("never served"));
      const collect = createCollectCommandResult({ mde, evidence: store, evidencePrefix: PREFIX, chunkBytes: CHUNK_BYTES });
      await expect(collect(input(GET_FILE, 1), context())).rejects.toThrow(
        "MDE BadGateway (HTTP 502): BadGateway happened; correlation id t-1",
      );
    });
  });

  describe("secrets", () => {
    it("lets no SAS query string reach an output or a log line, whether a chunk is staged, the blob committed or found again", async () => {
      const { collect, download } = collectorOver(transcriptJson(), 16);
      const { context: ctx, raw } = capturingContext();
      const outputs: CollectOutput[] = [];
      let chunk: ChunkedCopyState | undefined;
      do {
        const output = await collect(input(RUN_SCRIPT, 0, chunk), ctx);
        outputs.push(output);
        chunk = output.kind === "inProgress" ? output.chunk : undefined;
      } while (chunk);
      outputs.push(await collect(input(RUN_SCRIPT, 0), ctx));

      expect(download).toHaveBeenCalledWith(SAS_DOWNLOAD_LINK);
      expect(outputs.map((o) => o.kind)).toEqual([...Array(outputs.length - 2).fill("inProgress"), "collected", "collected"]);
      const written = [JSON.stringify(outputs), ...raw].join("\n");
      expect(raw.length).toBe(outputs.length);
      for (const secret of [SAS_SIGNATURE, "sig=", "?se=", "core.windows.net/investigation"]) expect(written).not.toContain(secret);
    });
  });
});
