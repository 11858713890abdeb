/** The governor as the composition root builds it: its document in the collector's state container. */
import type { ContainerClient } from "@azure/storage-blob";
import type { Logger } from "../log";
import { BlobGovernorStore, governorBlobName } from "./blobGovernorStore";
import { Governor } from "./governor";
import { governorLimits } from "./governorLimits";
import type { GovernorSettings } from "./governorSettings";

/**
 * One governor per process over `governor/default.json` in `stateContainer` (shared/stateStorage.ts).
 * The container is created on first write when missing (local runs; in Azure the template creates it).
 */
export function createGovernor(settings: GovernorSettings, stateContainer: ContainerClient, logger: Logger): Governor {
  const store = new BlobGovernorStore(stateContainer, governorBlobName(), { createContainer: true });
  return new Governor(store, governorLimits(settings), { logger });
}
