import { createHash } from "node:crypto";
import { createWriteManifest } from "../../../activities/writeManifest";
import type { Manifest } from "../../../shared/contract";
import { jsonDocument } from "../../../shared/evidence/jsonDocument";
import type { ManifestSigner } from "../../../shared/evidence/signing/manifestSignature";
import type { EvidenceStore } from "../../../shared/evidence/types";
import { MdeApiError } from "../../../shared/errors";
import type { ManifestSignature } from "../../../shared/evidence/signing/manifestSignature";
import { parseSignatureDocument, signatureProblems } from "../../../shared/evidence/signing/signatureCheck";
import {
  capturingContext,
  context,
  EVIDENCE_CONTAINER_URL,
  fakeEvidence,
  machineAction,
  memoryEvidenceStore,
  type MemoryBlob,
} from "../../support/fakes";
import { testSigningKey } from "../../support/signing";

const key = testSigningKey();

const MACHINE_ID = "f70f9fe6b29cd9511652434919c6530618f06606";
const ACTION_ID = "2e9da30d-27f6-4208-81f2-9cd3d67893ba";
const INSTANCE_ID = "collect-0123";

function manifest(over: Partial<Manifest> = {}): Manifest {
  return {
    schema: "mde-live-response-evidence-manifest/v1",
    instanceId: INSTANCE_ID,
    trigger: { kind: "webhook", receivedAt: "2026-01-01T00:00:00.000Z" },
    request: {
      machineId: MACHINE_ID,
      comment: "Investigate [collector:abc]",
      commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\temp\\a.txt" }] }],
    },
    outcome: "Completed",
    outcomeReason: "every command completed and its result is stored",
    complete: true,
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt: "2026-01-01T00:10:00.000Z",
    machineAction: machineAction({ id: ACTION_ID, status: "Succeeded" }),
    commands: [],
    ...over,
  };
}

const BUILD = { version: "9.9.9", commit: "0123456789abcdef0123456789abcdef01234567" };
const WRITTEN_AT = "2026-01-01T00:11:00.000Z";
/** The action as MDE returns it, with the fields the mapped action drops. */
const RAW_ACTION = { id: ACTION_ID, status: "Succeeded", requestSource: "PublicApi", externalId: "ext-7", title: "LR", scope: "Full" };

type WriterOptions = { getMachineActionAsReturned?: jest.Mock; blobs?: Map<string, MemoryBlob> };

/** The writer's dependencies around a store; documents are read from `blobs` (the memory store's) when given. */
function depsOf(evidence: EvidenceStore, signer: ManifestSigner, options: WriterOptions = {}) {
  return {
    evidence,
    evidencePrefix: "evidence",
    signer,
    mde: { getMachineActionAsReturned: options.getMachineActionAsReturned ?? jest.fn(async () => RAW_ACTION) },
    build: BUILD,
    now: () => new Date(WRITTEN_AT),
    readDocument: async (name: string) => options.blobs?.get(name)?.bytes,
  };
}

/** The activity over an in-memory store that serves no download (a manifest never needs one). */
function writerOverMemory(options: Omit<WriterOptions, "blobs"> = {}) {
  const { store, blobs } = memoryEvidenceStore(async () => {
    throw new Error("a manifest downloads nothing");
  });
  return { write: createWriteManifest(depsOf(store, key.signer, { ...options, blobs })), store, blobs };
}

/** What the writer adds to the orchestrator's manifest. */
const collectorFields = (invocationId: string) => ({
  machineActionAsReturned: RAW_ACTION,
  collector: { version: BUILD.version, commit: BUILD.commit, manifestInvocationId: invocationId, manifestWrittenAt: WRITTEN_AT },
});

/** The findings on a stored manifest's signature document; empty when it verifies with the test key. */
async function signatureFindings(blobs: Map<string, MemoryBlob>, manifestName: string): Promise<string[]> {
  const signature = blobs.get(manifestName.replace(/\.json$/, ".signature.json"));
  if (!signature) return ["no signature document"];
  const parsed = parseSignatureDocument(signature.bytes);
  if ("error" in parsed) return [parsed.error];
  return signatureProblems(parsed.document, manifestName, blobs.get(manifestName)!.bytes, key.trust);
}

describe("writeManifest", () => {
  it("writes the manifest as JSON at {prefix}/{machineId}/{actionId}/manifest.json and returns where it is and its hash", async () => {
    const { write, blobs } = writerOverMemory();
    const m = manifest();
    const blobName = `evidence/${MACHINE_ID}/${ACTION_ID}/manifest.json`;
    const ctx = context();
    const output = await write({ manifest: m }, ctx);
    const body = blobs.get(blobName)!.bytes;
    expect(JSON.parse(body.toString("utf8"))).toEqual({ ...m, ...collectorFields(ctx.invocationId) });
    expect(output).toEqual({
      blobName,
      blobUrl: `${EVIDENCE_CONTAINER_URL}/${blobName}`,
      sha256: createHash("sha256").update(body).digest("hex"),
      created: true,
    });
  });

  it("stores the signature of the manifest's SHA-256 beside it, naming the key and the algorithm", async () => {
    const { write, blobs } = writerOverMemory();
    const blobName = `evidence/${MACHINE_ID}/${ACTION_ID}/manifest.json`;
    await write({ manifest: manifest() }, context());
    const envelope = JSON.parse(
      blobs.get(`evidence/${MACHINE_ID}/${ACTION_ID}/manifest.signature.json`)!.bytes.toString("utf8"),
    ) as ManifestSignature;
    expect(envelope).toEqual({
      schema: "mde-live-response-manifest-signature/v1",
      manifest: blobName,
      digestAlgorithm: "SHA-256",
      digest: createHash("sha256").update(blobs.get(blobName)!.bytes).digest("hex"),
      algorithm: "RS256",
      keyId: key.keyId,
      signature: expect.any(String),
    });
    expect(await signatureFindings(blobs, blobName)).toEqual([]);
    expect(blobs.get(`evidence/${MACHINE_ID}/${ACTION_ID}/manifest.signature.json`)!.metadata).toMatchObject({
      kind: "manifest-signature",
      signingkey: key.keyId,
      instanceid: INSTANCE_ID,
    });
  });

  it("writes nothing when the signer fails, so no manifest is ever left without its signature by a signer outage", async () => {
    const { store, blobs } = memoryEvidenceStore(async () => Buffer.alloc(0));
    const failing = { sign: jest.fn(async () => Promise.reject(new Error("Key Vault answered 503"))) };
    await expect(createWriteManifest(depsOf(store, failing))({ manifest: manifest() }, context())).rejects.toThrow(
      "Key Vault answered 503",
    );
    expect(blobs.size).toBe(0);
  });

  it("writes metadata and tags naming the machine, action, instance and outcome", async () => {
    const { write, store, blobs } = writerOverMemory();
    await write({ manifest: manifest({ outcome: "TimedOut" }) }, context());
    const blob = blobs.get(`evidence/${MACHINE_ID}/${ACTION_ID}/manifest.json`)!;
    expect(blob.metadata).toEqual({
      machineid: MACHINE_ID,
      actionid: ACTION_ID,
      instanceid: INSTANCE_ID,
      outcome: "TimedOut",
      kind: "manifest",
    });
    expect(blob.tags).toEqual({ machineId: MACHINE_ID, actionId: ACTION_ID, outcome: "TimedOut" });
    // The manifest, then its signature.
    expect(store.writeJson).toHaveBeenCalledTimes(2);
  });

  it("puts the manifest of a collection MDE never accepted under unsubmitted-{instanceId}, so refusals are on record", async () => {
    const { write, blobs } = writerOverMemory();
    const output = await write({ manifest: manifest({ machineAction: null, outcome: "Rejected" }) }, context());
    const blobName = `evidence/${MACHINE_ID}/unsubmitted-${INSTANCE_ID}/manifest.json`;
    expect(output).toMatchObject({ blobName, created: true });
    expect(blobs.get(blobName)!.metadata).toMatchObject({ actionid: `unsubmitted-${INSTANCE_ID}`, outcome: "Rejected" });
  });

  it("leaves the manifest and its signature as they are on a retried or replayed call (created: false, the stored hash)", async () => {
    const { write, blobs } = writerOverMemory();
    const first = await write({ manifest: manifest() }, context());
    const stored = blobs.get(first.blobName)!.bytes;
    const signature = blobs.get(first.blobName.replace(/json$/, "signature.json"))!.bytes;
    const again = await write({ manifest: manifest() }, context());
    expect(again).toEqual({ ...first, created: false });
    expect(blobs.get(first.blobName)!.bytes).toBe(stored);
    expect(blobs.get(first.blobName.replace(/json$/, "signature.json"))!.bytes).toBe(signature);
    expect(blobs.size).toBe(2);
  });

  it("completes a write whose signature was lost (an earlier attempt's manifest there, no signature yet)", async () => {
    const { write, store, blobs } = writerOverMemory();
    const blobName = `evidence/${MACHINE_ID}/${ACTION_ID}/manifest.json`;
    // An earlier attempt: another invocation, another minute, MDE throttled its re-read.
    const earlier = {
      ...manifest(),
      machineActionAsReturned: { unavailable: "MDE throttled the re-read (429)" },
      collector: { ...collectorFields("earlier-invocation").collector, manifestWrittenAt: "2026-01-01T00:10:30.000Z" },
    };
    await store.writeJson(blobName, earlier, { metadata: {} });
    const stored = blobs.get(blobName)!.bytes;
    const output = await write({ manifest: manifest() }, context());
    expect(output).toMatchObject({ blobName, created: false });
    expect(blobs.get(blobName)!.bytes).toBe(stored);
    expect(await signatureFindings(blobs, blobName)).toEqual([]);
  });

  it("records the final action as MDE returned it, the build, the invocation id and the collector's time", async () => {
    const { write, blobs } = writerOverMemory();
    const ctx = context();
    const output = await write({ manifest: manifest() }, ctx);
    const stored = JSON.parse(blobs.get(output.blobName)!.bytes.toString("utf8")) as Manifest;
    expect(stored.machineActionAsReturned).toEqual(RAW_ACTION);
    expect(stored.collector).toEqual({
      version: "9.9.9",
      commit: BUILD.commit,
      manifestInvocationId: ctx.invocationId,
      manifestWrittenAt: WRITTEN_AT,
    });
    // MDE's own times stay beside it, in the mapped action.
    expect(stored.machineAction).toEqual(manifest().machineAction);
  });

  it.each([
    [new MdeApiError({ statusCode: 429, code: "TooManyRequests", message: "slow down" }), "MDE throttled the re-read (429)"],
    [new MdeApiError({ statusCode: 503, code: "ServiceUnavailable", message: "later" }), expect.stringContaining("MDE re-read failed")],
  ])("records the raw action as unavailable when the re-read fails (%s), and still writes the manifest", async (error, reason) => {
    const getMachineActionAsReturned = jest.fn(async () => Promise.reject(error));
    const { write, blobs } = writerOverMemory({ getMachineActionAsReturned });
    const output = await write({ manifest: manifest() }, context());
    const stored = JSON.parse(blobs.get(output.blobName)!.bytes.toString("utf8")) as Manifest;
    expect(stored.machineActionAsReturned).toEqual({ unavailable: reason });
    expect(await signatureFindings(blobs, output.blobName)).toEqual([]);
  });

  it("does not ask MDE for the action of a collection MDE never accepted", async () => {
    const getMachineActionAsReturned = jest.fn();
    const { write, blobs } = writerOverMemory({ getMachineActionAsReturned });
    const output = await write({ manifest: manifest({ machineAction: null, outcome: "Rejected" }) }, context());
    const stored = JSON.parse(blobs.get(output.blobName)!.bytes.toString("utf8")) as Manifest;
    expect(stored.machineActionAsReturned).toEqual({ unavailable: expect.stringContaining("never accepted") });
    expect(getMachineActionAsReturned).not.toHaveBeenCalled();
  });

  it("treats a manifest planted at the name as an integrity error: left untouched, ours goes to manifest-{instanceId}.json recording it, signed", async () => {
    const { write, blobs } = writerOverMemory();
    const blobName = `evidence/${MACHINE_ID}/${ACTION_ID}/manifest.json`;
    const planted = Buffer.from(JSON.stringify({ outcome: "Completed", commands: [] }));
    blobs.set(blobName, { bytes: planted, stored: {} as MemoryBlob["stored"], contentType: "application/json", metadata: {} });
    const { context: ctx, lines } = capturingContext();

    const output = await write({ manifest: manifest() }, ctx);
    const alternate = `evidence/${MACHINE_ID}/${ACTION_ID}/manifest-${INSTANCE_ID}.json`;
    const invocationId = ctx.invocationId;
    expect(output).toMatchObject({
      blobName: alternate,
      created: true,
      integrityError: { code: "IntegrityError", message: expect.stringContaining(blobName) },
    });
    expect(blobs.get(blobName)!.bytes).toBe(planted);
    const recorded = JSON.parse(blobs.get(alternate)!.bytes.toString("utf8")) as Manifest;
    expect(recorded).toEqual({
      ...manifest(),
      integrityErrors: [{ blobName, code: "IntegrityError", message: output.integrityError!.message }],
      ...collectorFields(invocationId),
    });
    expect(blobs.get(alternate)!.bytes.equals(jsonDocument(recorded))).toBe(true);
    expect(await signatureFindings(blobs, alternate)).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ level: "error", blobName, writtenTo: alternate }));

    // A retried call finds the same state and answers the same way, writing nothing more.
    const count = blobs.size;
    expect(await write({ manifest: manifest() }, context())).toEqual({ ...output, created: false });
    expect(blobs.size).toBe(count);
  });

  it("treats a planted signature document as an integrity error too", async () => {
    const { write, blobs } = writerOverMemory();
    const signatureName = `evidence/${MACHINE_ID}/${ACTION_ID}/manifest.signature.json`;
    blobs.set(signatureName, {
      bytes: Buffer.from("{}"),
      stored: {} as MemoryBlob["stored"],
      contentType: "application/json",
      metadata: {},
    });
    const output = await write({ manifest: manifest() }, context());
    expect(output).toMatchObject({
      blobName: `evidence/${MACHINE_ID}/${ACTION_ID}/manifest-${INSTANCE_ID}.json`,
      integrityError: { code: "IntegrityError" },
    });
    const recorded = JSON.parse(blobs.get(output.blobName)!.bytes.toString("utf8")) as Manifest;
    expect(recorded.integrityErrors).toEqual([expect.objectContaining({ blobName: signatureName })]);
    expect(await signatureFindings(blobs, output.blobName)).toEqual([]);
  });

  it.each([
    [true, "manifest written"],
    [false, "manifest already present"],
  ])("logs created: %s as %j with the collection's ids", async (created, message) => {
    const blobName = `evidence/${MACHINE_ID}/${ACTION_ID}/manifest.json`;
    const evidence = fakeEvidence({
      writeJson: jest.fn(async () => ({
        blobName,
        blobUrl: `${EVIDENCE_CONTAINER_URL}/${blobName}`,
        size: 2,
        sha256: "ab",
        md5: "cd",
        contentFormat: "raw",
        committedAt: "2026-01-01T00:00:00.000Z",
        created,
        linkFetches: 0,
      })),
    });
    const { context: ctx, lines } = capturingContext();
    const output = await createWriteManifest(depsOf(evidence, key.signer))({ manifest: manifest() }, ctx);
    expect(output).toEqual({ blobName, blobUrl: `${EVIDENCE_CONTAINER_URL}/${blobName}`, sha256: "ab", created });
    expect(lines).toEqual([
      { level: "info", message, instanceId: INSTANCE_ID, machineId: MACHINE_ID, actionId: ACTION_ID, blobName, outcome: "Completed" },
    ]);
  });

  it("rethrows a storage failure so the Durable runtime retries the write, as one line without stack", async () => {
    const error = new Error("connect ECONNREFUSED\n    at TCPConnectWrap.afterConnect (node:net:1607:16)");
    const evidence = fakeEvidence({
      writeJson: jest.fn(async () => {
        throw error;
      }),
    });
    await expect(createWriteManifest(depsOf(evidence, key.signer))({ manifest: manifest() }, context())).rejects.toEqual(
      new Error("connect ECONNREFUSED"),
    );
  });
});
