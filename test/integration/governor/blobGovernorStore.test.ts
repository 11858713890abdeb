/** The blob store's conditions against Azurite: create once, overwrite only the version read. */
import { randomUUID } from "node:crypto";
import { BlobServiceClient } from "@azure/storage-blob";
import { BlobGovernorStore, governorBlobName } from "../../../shared/governor/blobGovernorStore";
import { freshEvidenceContainer, testAzurite } from "../../support/azurite";

describe("BlobGovernorStore (Azurite)", () => {
  it("creates the document only once (If-None-Match: *) and overwrites only the version it read (If-Match)", async () => {
    const container = await freshEvidenceContainer("governor");
    const a = new BlobGovernorStore(container, governorBlobName());
    const b = new BlobGovernorStore(container, governorBlobName());
    expect(await a.read()).toBeUndefined();
    expect(await a.write({ n: 1 }, undefined)).toBe("written");
    expect(await b.write({ n: 2 }, undefined)).toBe("conflict");
    const seenByA = await a.read();
    const seenByB = await b.read();
    expect(seenByA).toMatchObject({ document: { n: 1 } });
    expect(await a.write({ n: 3 }, seenByA!.etag)).toBe("written");
    expect(await b.write({ n: 4 }, seenByB!.etag)).toBe("conflict");
    expect(await b.read()).toMatchObject({ document: { n: 3 } });
  });

  it("reads text that is not JSON as no document, with its ETag, so the governor can start afresh over it", async () => {
    const container = await freshEvidenceContainer("governor");
    await container.getBlockBlobClient(governorBlobName("tenant")).upload("not json", 8);
    const stored = await new BlobGovernorStore(container, governorBlobName("tenant")).read();
    expect(stored?.document).toBeUndefined();
    expect(stored?.etag).toBeTruthy();
  });

  it("creates a missing container only when told to (local development)", async () => {
    const service = BlobServiceClient.fromConnectionString(testAzurite.evidenceConnectionString);
    const missing = service.getContainerClient(`governor-${randomUUID().slice(0, 8)}`);
    await expect(new BlobGovernorStore(missing, governorBlobName()).write({ n: 1 }, undefined)).rejects.toMatchObject({ statusCode: 404 });
    expect(await new BlobGovernorStore(missing, governorBlobName(), { createContainer: true }).write({ n: 1 }, undefined)).toBe("written");
  });

  it("names one blob per tenant, with only safe characters", () => {
    expect(governorBlobName()).toBe("governor/default.json");
    expect(governorBlobName("11111111-2222-3333-4444-555555555555")).toBe("governor/11111111-2222-3333-4444-555555555555.json");
    expect(governorBlobName("../../evidence/x")).toBe("governor/evidencex.json");
  });
});
