/**
 * The collector's state container (shared/stateStorageSettings.ts), built once by the composition root
 * and handed to the governor, the alerts_v2 poller and the submit activity.
 */
import type { TokenCredential } from "@azure/identity";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import type { StateStorageSettings } from "./stateStorageSettings";

/**
 * The state container's client. An identity-based account is reached with `credentialFor(clientId)`:
 * the app's identity, or the user-assigned one AzureWebJobsStorage__clientId names.
 */
export function createStateContainer(
  settings: StateStorageSettings,
  credentialFor: (clientId: string | undefined) => TokenCredential,
): ContainerClient {
  const { account } = settings;
  const service =
    "connectionString" in account
      ? BlobServiceClient.fromConnectionString(account.connectionString)
      : new BlobServiceClient(account.blobServiceUri, credentialFor(account.clientId));
  return service.getContainerClient(settings.container);
}
