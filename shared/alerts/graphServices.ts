/** The clients the alerts_v2 poller needs, built once by the composition root from validated settings. */
import type { TokenCredential } from "@azure/identity";
import type { ContainerClient } from "@azure/storage-blob";
import { jsonLogger, type Logger } from "../log";
import { StaticTokenCredential } from "../mde/auth";
import { GraphClient, type GraphAlertsApi } from "./graphClient";
import type { AlertPollingSettings } from "./graphSettings";
import { blobPollCursorStore, cursorBlobName, type PollCursorStore } from "./pollCursor";

export interface AlertPollingServices {
  graph: GraphAlertsApi;
  cursor: PollCursorStore;
  settings: AlertPollingSettings;
}

/**
 * The Graph client (the app's identity, or the development token for a loopback simulator) and the
 * cursor store in the collector's state container (shared/stateStorage.ts, host storage).
 */
export function createAlertPollingServices(
  settings: AlertPollingSettings,
  stateContainer: ContainerClient,
  appCredential: () => TokenCredential,
  overrides: { fetch?: typeof fetch; sleep?: (ms: number) => Promise<void>; logger?: Logger } = {},
): AlertPollingServices {
  const credential = settings.useDevelopmentToken ? new StaticTokenCredential("local-development") : appCredential();
  const graph = new GraphClient(settings.graphBaseUrl, credential, {
    allowedHosts: settings.allowedHosts,
    scope: settings.tokenScope,
    fetch: overrides.fetch,
    sleep: overrides.sleep,
    logger: overrides.logger ?? jsonLogger(console, { component: "graph" }),
  });
  const cursor = blobPollCursorStore(stateContainer, cursorBlobName(settings.graphBaseUrl));
  return { graph, cursor, settings };
}
