import { randomUUID } from "node:crypto";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: tests must run under jest's globalSetup (npm test)`);
  return value;
}

export const testAzurite = {
  get blobEndpoint(): string {
    return required("TEST_AZURITE_BLOB_ENDPOINT");
  },
  get evidenceConnectionString(): string {
    return required("TEST_EVIDENCE_CONNECTION_STRING");
  },
  get sourceConnectionString(): string {
    return required("TEST_SOURCE_CONNECTION_STRING");
  },
};

/** A fresh, uniquely named container in the evidence account, so tests never share state. */
export async function freshEvidenceContainer(prefix = "test"): Promise<ContainerClient> {
  const service = BlobServiceClient.fromConnectionString(testAzurite.evidenceConnectionString);
  const container = service.getContainerClient(`${prefix}-${randomUUID().slice(0, 8)}`);
  await container.create();
  return container;
}
