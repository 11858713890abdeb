/**
 * Where the collector keeps its own state: the governor's document, the alerts_v2 poller's cursor and
 * the submission records, in ONE container (COLLECTOR_STATE_CONTAINER) of the Functions host storage
 * account. Never the evidence account: it runs version-level WORM by default (infra/main.bicep,
 * evidenceImmutability), so every rewrite of a state blob there would leave a version nobody can delete.
 *
 * The host account is named the way the Functions host itself reads it
 * (https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity):
 * identity-based `AzureWebJobsStorage__blobServiceUri` (with `AzureWebJobsStorage__clientId` for a
 * user-assigned identity), else the `AzureWebJobsStorage` connection string. Without either (tests,
 * harness, local tools) the evidence account stands in, with LOCAL_DEVELOPMENT=true only.
 */
import type { SettingProblem } from "./errors";
import { GUID, type SettingsReader } from "./settingsReader";

/** The account of the state container: a connection string, or a blob endpoint reached with the app's identity. */
export type StateAccount = { connectionString: string } | { blobServiceUri: string; clientId?: string };

export interface StateStorageSettings {
  /** COLLECTOR_STATE_CONTAINER. @default "collector-state" */
  container: string;
  account: StateAccount;
  /** Which setting named the account (logged at startup, so a fallback is never silent). */
  source: "AzureWebJobsStorage__blobServiceUri" | "AzureWebJobsStorage" | "EVIDENCE_STORAGE (LOCAL_DEVELOPMENT)";
}

/** Azure's container naming rule: 3-63 lowercase letters, digits and single hyphens. */
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;

/** What the state storage settings are checked against. */
export interface StateStorageContext {
  localDevelopment: boolean;
  evidence: { connectionString?: string; accountUrl?: string; container?: string };
}

/** Reads COLLECTOR_STATE_CONTAINER and the host storage account (AzureWebJobsStorage, or its identity-based form). */
export function readStateStorageSettings(
  reader: SettingsReader,
  problems: SettingProblem[],
  context: StateStorageContext,
): StateStorageSettings | undefined {
  const container = reader.matching(
    "COLLECTOR_STATE_CONTAINER",
    "collector-state",
    CONTAINER_NAME,
    "must be a valid container name (3-63 lowercase letters, digits, single hyphens)",
  );
  // The evidence container holds evidence only: `verify` reports anything else there as EXTRA.
  if (container !== undefined && container === context.evidence.container)
    problems.push({ setting: "COLLECTOR_STATE_CONTAINER", problem: "must differ from EVIDENCE_CONTAINER" });
  const account = hostAccount(reader, problems, context);
  if (!container || !account) return undefined;
  return { container, ...account };
}

function hostAccount(
  reader: SettingsReader,
  problems: SettingProblem[],
  context: StateStorageContext,
): Pick<StateStorageSettings, "account" | "source"> | undefined {
  const blobServiceUri = reader.optional("AzureWebJobsStorage__blobServiceUri");
  const clientId = reader.optional("AzureWebJobsStorage__clientId");
  if (clientId !== undefined && !GUID.test(clientId))
    problems.push({ setting: "AzureWebJobsStorage__clientId", problem: "must be a GUID" });
  if (blobServiceUri !== undefined) {
    if (!reader.url("AzureWebJobsStorage__blobServiceUri")) return undefined;
    return { account: { blobServiceUri, ...(clientId ? { clientId } : {}) }, source: "AzureWebJobsStorage__blobServiceUri" };
  }
  const connectionString = reader.optional("AzureWebJobsStorage");
  if (connectionString !== undefined) {
    if (!/AccountName=|UseDevelopmentStorage=true|BlobEndpoint=/i.test(connectionString)) {
      problems.push({ setting: "AzureWebJobsStorage", problem: "is not a storage connection string" });
      return undefined;
    }
    return { account: { connectionString }, source: "AzureWebJobsStorage" };
  }
  const { evidence } = context;
  if (context.localDevelopment && (evidence.connectionString || evidence.accountUrl)) {
    return {
      account: evidence.connectionString ? { connectionString: evidence.connectionString } : { blobServiceUri: evidence.accountUrl! },
      source: "EVIDENCE_STORAGE (LOCAL_DEVELOPMENT)",
    };
  }
  problems.push({
    setting: "AzureWebJobsStorage__blobServiceUri",
    problem:
      "required (or AzureWebJobsStorage): the host storage account holds the collector's state (COLLECTOR_STATE_CONTAINER); " +
      "only LOCAL_DEVELOPMENT=true falls back to the evidence account",
  });
  return undefined;
}
