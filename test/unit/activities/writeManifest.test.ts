import { createHash } from "node:crypto";
import { createWriteManifest } from "../../../activities/writeManifest";
import type { Manifest } from "../../../shared/contract";
import { capturingContext, context, EVIDENCE_CONTAINER_URL, fakeEvidence, machineAction, memoryEvidenceStore } from "../../support/fakes";

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

/** The activity over an in-memory store that serves no download (a manifest never needs one). */
function writerOverMemory() {
  const { store, blobs } = memoryEvidenceStore(async () => {
    throw new Error("a manifest downloads nothing");
  });
  return { write: createWriteManifest({ evidence: store, evidencePrefix: "evidence" }), store, blobs };
}

describe("writeManifest", () => {
  it("writes the manifest as JSON at {prefix}/{machineId}/{actionId}/manifest.json and returns where it is and its hash", async () => {
    const { write, blobs } = writerOverMemory();
    const m = manifest();
    const blobName = `evidence/${MACHINE_ID}/${ACTION_ID}/manifest.json`;
    const output = await write({ manifest: m }, context());
    const body = blobs.get(blobName)!.bytes;
    expect(JSON.parse(body.toString("utf8"))).toEqual(m);
    expect(output).toEqual({
      blobName,
      blobUrl: `${EVIDENCE_CONTAINER_URL}/${blobName}`,
      sha256: createHash("sha256").update(body).digest("hex"),
      created: true,
    });
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
    expect(store.writeJson).toHaveBeenCalledTimes(1);
  });

  it("puts the manifest of a collection MDE never accepted under unsubmitted-{instanceId}, so refusals are on record", async () => {
    const { write, blobs } = writerOverMemory();
    const output = await write({ manifest: manifest({ machineAction: null, outcome: "Rejected" }) }, context());
    const blobName = `evidence/${MACHINE_ID}/unsubmitted-${INSTANCE_ID}/manifest.json`;
    expect(output).toMatchObject({ blobName, created: true });
    expect(blobs.get(blobName)!.metadata).toMatchObject({ actionid: `unsubmitted-${INSTANCE_ID}`, outcome: "Rejected" });
  });

  it("leaves an existing manifest as it is on a retried or replayed call (created: false, the stored hash)", async () => {
    const { write, blobs } = writerOverMemory();
    const first = await write({ manifest: manifest() }, context());
    const stored = blobs.get(first.blobName)!.bytes;
    const again = await write({ manifest: manifest({ finishedAt: "2026-01-01T00:11:00.000Z" }) }, context());
    expect(again).toEqual({ ...first, created: false });
    expect(blobs.get(first.blobName)!.bytes).toBe(stored);
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
    const output = await createWriteManifest({ evidence, evidencePrefix: "evidence" })({ manifest: manifest() }, ctx);
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
    await expect(createWriteManifest({ evidence, evidencePrefix: "evidence" })({ manifest: manifest() }, context())).rejects.toEqual(new Error("connect ECONNREFUSED"));
  });
});
