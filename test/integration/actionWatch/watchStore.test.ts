/** The action poller's watch list against Azurite: entries listed from metadata alone, copies read back, the schedule, strays ignored. */
import { randomUUID } from "node:crypto";
import { BlobServiceClient } from "@azure/storage-blob";
import { actionSignature, blobWatchStore, putOnWatchList, watchEntryName } from "../../../shared/actionWatch/watchStore";
import { silentLogger } from "../../../shared/log";
import { freshEvidenceContainer, testAzurite } from "../../support/azurite";
import { machineAction } from "../../support/fakes";

const T0 = Date.parse("2026-03-02T09:00:00Z");

describe("blobWatchStore (Azurite)", () => {
  it("creates its container on first write, lists entries from their metadata, and reads each copy back", async () => {
    const container = BlobServiceClient.fromConnectionString(testAzurite.evidenceConnectionString).getContainerClient(
      `state-${randomUUID().slice(0, 8)}`,
    );
    const store = blobWatchStore(container, 30_000);
    expect(await store.list()).toEqual([]);
    const pending = machineAction({ id: "00000001-0000-4000-8000-000000000000" });
    const done = machineAction({ id: "00000002-0000-4000-8000-000000000000", status: "Succeeded" });
    await putOnWatchList(store, "collect/ä 1", pending, new Date(T0), silentLogger);
    await store.write("collect-2", done, T0 + 1);
    const entries = (await store.list()).sort((a, b) => a.readAtMs - b.readAtMs);
    expect(entries).toEqual([
      { instanceId: "collect/ä 1", actionId: pending.id, signature: actionSignature(pending), final: false, readAtMs: T0 },
      { instanceId: "collect-2", actionId: done.id, signature: actionSignature(done), final: true, readAtMs: T0 + 1 },
    ]);
    expect((await store.read("collect/ä 1"))?.action).toEqual(pending);
    await store.remove("collect-2");
    await store.remove("collect-2");
    expect((await store.list()).map((e) => e.instanceId)).toEqual(["collect/ä 1"]);
    expect(store.localWrites()).toBe(2);
  });

  it("keeps the schedule beside the list, and reads a stray or damaged blob as no entry", async () => {
    const container = await freshEvidenceContainer("watch");
    const store = blobWatchStore(container, 30_000);
    expect(await store.readSchedule()).toBeUndefined();
    await store.writeSchedule({ roundAtMs: T0, nextRoundAtMs: T0 + 30_000, gapMs: 30_000 });
    expect(await store.readSchedule()).toEqual({ roundAtMs: T0, nextRoundAtMs: T0 + 30_000, gapMs: 30_000 });
    // Not ours: no metadata, or a body that is not an action.
    await container.getBlockBlobClient("watch/stray.json").upload("{}", 2);
    await container.getBlockBlobClient(watchEntryName("damaged")).upload("not json", 8, {
      metadata: { instanceid: "damaged", actionid: "00000003-0000-4000-8000-000000000000", signature: "x", final: "false", readat: "1" },
    });
    expect((await store.list()).map((e) => e.instanceId)).toEqual(["damaged"]);
    expect(await store.read("damaged")).toBeUndefined();
    expect(await store.read("absent")).toBeUndefined();
  });
});
