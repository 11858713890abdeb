/** The Entra settings a deployed app needs, for tests that load the config without exercising authentication. */
export const ENTRA_TEST_SETTINGS = {
  AUTH_TENANT_ID: "11111111-2222-3333-4444-555555555555",
  AUTH_AUDIENCE: "api://mde-live-response-collector",
  MANIFEST_SIGNING_KEY_ID: "https://kv-collector-test.vault.azure.net/keys/manifest-signing",
  // The host storage account, which holds the collector's state (shared/stateStorageSettings.ts).
  AzureWebJobsStorage__blobServiceUri: "https://contosohost.blob.core.windows.net",
} as const;
