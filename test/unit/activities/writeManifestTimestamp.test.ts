/**
 * The manifest writer with a time-stamp authority configured (MANIFEST_TIMESTAMP_URL): each manifest
 * written gets its RFC 3161 token beside it, and a TSA that fails never fails the write.
 */
import { createHash } from "node:crypto";
import { createWriteManifest, type ManifestWriterDeps } from "../../../activities/writeManifest";
import type { Manifest } from "../../../shared/contract";
import { parseTimestampResponse, timestampProblems } from "../../../shared/evidence/timestamp/timestampToken";
import { createTimestampClient, type TimestampAuthorityClient } from "../../../shared/evidence/timestamp/timestampRequest";
import type { CopyResult, EvidenceStore } from "../../../shared/evidence/types";
import { createTimestampAuthority, type TimestampAuthority } from "../../../simulator/timestampAuthority";
import { capturingContext, context, machineAction, memoryEvidenceStore, type MemoryBlob } from "../../support/fakes";
import { testSigningKey } from "../../support/signing";

const key = testSigningKey();
const MACHINE_ID = "f70f9fe6b29cd9511652434919c6530618f06606";
const ACTION_ID = "2e9da30d-27f6-4208-81f2-9cd3d67893ba";
const INSTANCE_ID = "collect-0123";
const FOLDER = `evidence/${MACHINE_ID}/${ACTION_ID}`;

function manifest(): Manifest {
  return {
    schema: "mde-live-response-evidence-manifest/v1",
    instanceId: INSTANCE_ID,
    trigger: { kind: "webhook", receivedAt: "2026-01-01T00:00:00.000Z" },
    request: {
      machineId: MACHINE_ID,
      comment: "Investigate",
      commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\a.txt" }] }],
    },
    outcome: "Completed",
    outcomeReason: "every command completed and its result is stored",
    complete: true,
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt: "2026-01-01T00:10:00.000Z",
    machineAction: machineAction({ id: ACTION_ID, status: "Succeeded" }),
    commands: [],
  };
}

let authority: TimestampAuthority;
beforeAll(async () => {
  authority = await createTimestampAuthority({ name: "Writer Test TSA" });
});
beforeEach(() => {
  authority.faults = {};
});

/** The client over the test authority without HTTP: its `fetch` hands the request to the authority. */
function clientOf(tsa: TimestampAuthority): TimestampAuthorityClient {
  const fetch: typeof globalThis.fetch = async (_url, init) =>
    new Response(await tsa.respond(Buffer.from(init?.body as Uint8Array)), {
      status: 200,
      headers: { "content-type": tsa.faults.contentType ?? "application/timestamp-reply" },
    });
  return createTimestampClient("http://tsa.test/", { fetch });
}

/** The memory store of the other writer tests, plus the binary conditional write the token needs. */
function storeWithDocuments() {
  const { store, blobs } = memoryEvidenceStore(async () => Buffer.alloc(0));
  const createDocument: NonNullable<EvidenceStore["createDocument"]> = async (blobName, body, options) => {
    if (blobs.has(blobName)) return undefined;
    const sha256 = createHash("sha256").update(body).digest("hex");
    const stored = {
      blobName,
      blobUrl: `https://e/${blobName}`,
      size: body.length,
      sha256,
      md5: "",
      contentFormat: "raw" as const,
      committedAt: "",
    };
    blobs.set(blobName, { bytes: body, stored, contentType: options.contentType, metadata: options.metadata, tags: options.tags });
    return { ...stored, created: true, linkFetches: 0 } satisfies CopyResult;
  };
  return { store: Object.assign(store, { createDocument: jest.fn(createDocument) }), blobs };
}

function writer(timestamps: TimestampAuthorityClient | undefined, over: Partial<ManifestWriterDeps> = {}) {
  const { store, blobs } = storeWithDocuments();
  const deps: ManifestWriterDeps = {
    evidence: store,
    evidencePrefix: "evidence",
    signer: key.signer,
    mde: { getMachineActionAsReturned: async () => ({ id: ACTION_ID, status: "Succeeded" }) },
    build: { version: "9.9.9", commit: "0123456789abcdef0123456789abcdef01234567" },
    now: () => new Date("2026-01-01T00:11:00.000Z"),
    readDocument: async (name) => blobs.get(name)?.bytes,
    timestamps,
    ...over,
  };
  return { write: createWriteManifest(deps), store, blobs };
}

describe("writeManifest with a time-stamp authority", () => {
  it("stores the TSA's token for the manifest's SHA-256 beside it, as manifest.timestamp.tsr", async () => {
    const { write, blobs } = writer(clientOf(authority));
    const output = await write({ manifest: manifest() }, context());
    const tokenName = `${FOLDER}/manifest.timestamp.tsr`;
    const token = blobs.get(tokenName);
    expect(token).toBeDefined();
    const manifestBytes = blobs.get(`${FOLDER}/manifest.json`)!.bytes;
    const parsed = parseTimestampResponse(token!.bytes);
    if (!parsed.ok) throw new Error(parsed.message);
    // The same SHA-256 as the signature document's and the output's.
    expect(parsed.facts.imprint).toBe(output.sha256);
    expect(JSON.parse(blobs.get(`${FOLDER}/manifest.signature.json`)!.bytes.toString("utf8")).digest).toBe(output.sha256);
    expect(await timestampProblems(parsed, manifestBytes, { anchors: [authority.caDer] })).toEqual([]);
    expect(token!.contentType).toBe("application/timestamp-reply");
    expect(token!.metadata).toMatchObject({ kind: "manifest-timestamp", instanceid: INSTANCE_ID, gentime: parsed.facts.genTime });
    expect(output.timestamp).toEqual({ blobName: tokenName, genTime: parsed.facts.genTime, created: true });
    expect(output.timestampWarning).toBeUndefined();
  });

  it("keeps a token an earlier attempt stored for this manifest, without asking the TSA again", async () => {
    const { write, blobs } = writer(clientOf(authority));
    const first = await write({ manifest: manifest() }, context());
    const token = blobs.get(first.timestamp!.blobName)!.bytes;
    const asked = authority.requests;
    const again = await write({ manifest: manifest() }, context());
    expect(again).toEqual({ ...first, created: false, timestamp: { ...first.timestamp, created: false } });
    expect(blobs.get(first.timestamp!.blobName)!.bytes).toBe(token);
    expect(authority.requests).toBe(asked);
  });

  it("completes the collection with a warning when the TSA refuses, is unreachable or answers wrongly; the manifest is signed all the same", async () => {
    for (const [faults, reason] of [
      [{ status: 2 }, "TsaRejected"],
      [{ wrongNonce: true }, "TsaWrongNonce"],
      [{ contentType: "text/html" }, "TsaWrongContentType"],
    ] as const) {
      authority.faults = faults;
      const { write, blobs } = writer(clientOf(authority));
      const { context: ctx, lines } = capturingContext();
      const output = await write({ manifest: manifest() }, ctx);
      expect(output).toMatchObject({ blobName: `${FOLDER}/manifest.json`, created: true });
      expect(output.timestampWarning).toEqual({
        code: "TimestampUnavailable",
        reason,
        message: expect.stringContaining("http://tsa.test/"),
      });
      expect([...blobs.keys()].sort()).toEqual([`${FOLDER}/manifest.json`, `${FOLDER}/manifest.signature.json`]);
      expect(lines).toContainEqual(expect.objectContaining({ level: "warn", code: "TimestampUnavailable", reason }));
    }
    const unreachable: TimestampAuthorityClient = createTimestampClient("http://127.0.0.1:9/tsa", {
      fetch: async () =>
        Promise.reject(new TypeError("fetch failed", { cause: Object.assign(new Error("refused"), { code: "ECONNREFUSED" }) })),
    });
    const { write } = writer(unreachable);
    expect((await write({ manifest: manifest() }, context())).timestampWarning).toMatchObject({
      reason: "TsaUnreachable",
      message: "http://127.0.0.1:9/tsa: request failed (ECONNREFUSED)",
    });
  });

  it("leaves a token for another digest at the name as it is, with a warning", async () => {
    const { write, blobs } = writer(clientOf(authority));
    const tokenName = `${FOLDER}/manifest.timestamp.tsr`;
    const foreign = await authority.timestamp(Buffer.from("another manifest"));
    blobs.set(tokenName, { bytes: foreign, stored: {} as MemoryBlob["stored"], contentType: "application/timestamp-reply", metadata: {} });
    const output = await write({ manifest: manifest() }, context());
    expect(output.timestampWarning).toMatchObject({ code: "TimestampUnavailable", reason: "TimestampNameTaken" });
    expect(blobs.get(tokenName)!.bytes).toBe(foreign);
  });

  it("timestamps the manifest that was written when its usual name was taken (manifest-{instanceId}.json)", async () => {
    const { write, blobs } = writer(clientOf(authority));
    const planted = Buffer.from(JSON.stringify({ outcome: "Completed", commands: [] }));
    blobs.set(`${FOLDER}/manifest.json`, {
      bytes: planted,
      stored: {} as MemoryBlob["stored"],
      contentType: "application/json",
      metadata: {},
    });
    const output = await write({ manifest: manifest() }, context());
    const alternate = `${FOLDER}/manifest-${INSTANCE_ID}.json`;
    expect(output).toMatchObject({ blobName: alternate, integrityError: { code: "IntegrityError" } });
    const parsed = parseTimestampResponse(blobs.get(`${FOLDER}/manifest-${INSTANCE_ID}.timestamp.tsr`)!.bytes);
    if (!parsed.ok) throw new Error(parsed.message);
    expect(await timestampProblems(parsed, blobs.get(alternate)!.bytes)).toEqual([]);
    expect(blobs.has(`${FOLDER}/manifest.timestamp.tsr`)).toBe(false);
  });

  it("asks no TSA and stores no token without MANIFEST_TIMESTAMP_URL", async () => {
    const { write, blobs, store } = writer(undefined);
    const output = await write({ manifest: manifest() }, context());
    expect(output).not.toHaveProperty("timestamp");
    expect(output).not.toHaveProperty("timestampWarning");
    expect(blobs.size).toBe(2);
    expect(store.createDocument).not.toHaveBeenCalled();
  });
});
