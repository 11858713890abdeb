import { freshEvidenceContainer } from "../support/azurite";

it("starts Azurite for the run and gives each test its own container", async () => {
  const a = await freshEvidenceContainer();
  const b = await freshEvidenceContainer();
  expect(a.containerName).not.toBe(b.containerName);
  await a.getBlockBlobClient("x").upload("hi", 2);
  expect((await a.getBlockBlobClient("x").getProperties()).contentLength).toBe(2);
});
