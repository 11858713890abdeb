import { startAzurite } from "../../simulator";

/** One Azurite for the whole run; each test makes its own container. */
export default async function globalSetup(): Promise<void> {
  const azurite = await startAzurite();
  process.env.TEST_AZURITE_BLOB_ENDPOINT = azurite.blobEndpoint;
  process.env.TEST_EVIDENCE_CONNECTION_STRING = azurite.evidenceConnectionString;
  process.env.TEST_SOURCE_CONNECTION_STRING = azurite.sourceConnectionString;
  (globalThis as { __azurite?: { stop(): Promise<void> } }).__azurite = azurite;
}
