import { readAuthSettings, type AuthConfig } from "./auth/authSettings";
import type { AlertRule } from "./alerts/rules";
import { readAlertStreamingSettings, type AlertStreamingSettings } from "./alerts/streamingSettings";
import { readAlertPollingSettings, type AlertPollingSettings } from "./alerts/graphSettings";
import type { CollectionPlanSettings } from "./collectionPlans";
import { readDefinitions } from "./configFiles/definitions";
import type { ManifestSigningSettings } from "./evidence/signing/createSigner";
import { readManifestSigningSettings } from "./evidence/signing/signingSettings";
import { readManifestTimestampSettings, type ManifestTimestampSettings } from "./evidence/timestamp/timestampSettings";
import { readGovernorSettings, type GovernorSettings } from "./governor/governorSettings";
import { readLibrarySettings, type LibrarySettings } from "./library/librarySettings";
import { readStateStorageSettings, type StateStorageSettings } from "./stateStorageSettings";
import { ConfigError, type SettingProblem } from "./errors";
import { GUID, settingsReader, type Env } from "./settingsReader";
import { BLOB_HOST_PATTERNS, hostRefusal, isLoopbackUrl, MDE_API_HOSTS, type HostAllowList } from "./hostPolicy";
import { tokenScopeFor } from "./mde/auth";
import { parseNcrontab } from "./ncrontab";
import type { PlaybookCatalog } from "./playbooks";

/** Everything the app reads from settings, validated once at startup. Nothing below the composition root reads `process.env`. */
export interface AppConfig {
  mde: {
    /** @default "https://api.security.microsoft.com" */
    baseUrl: string;
    /** OAuth scope for MDE tokens; derived from the base URL unless MDE_TOKEN_SCOPE is set. */
    tokenScope: string;
    /** Client id of a user-assigned managed identity, when the app uses one. */
    managedIdentityClientId?: string;
    /** Send a fixed development token instead of an Entra token: only for a loopback MDE simulator with LOCAL_DEVELOPMENT=true. */
    useDevelopmentToken: boolean;
    /** Hosts the base URL may name: Microsoft's documented MDE API hosts plus MDE_ALLOWED_HOSTS; loopback only in local development. */
    allowedHosts: HostAllowList;
  };
  /** Who may call the HTTP endpoints, and with which roles (shared/auth). */
  auth: AuthConfig;
  /** Bounds on work in flight: past them the starter answers 429 with Retry-After. */
  limits: {
    /** Collections running at once, all callers together. @default 500 (COLLECTIONS_MAX_IN_FLIGHT) */
    maxInFlight: number;
    /** Collections one caller may have running at once. @default 50 (COLLECTIONS_MAX_IN_FLIGHT_PER_CALLER) */
    maxInFlightPerCaller: number;
    /** Devices one alert may start collections on; the rest are recorded as skipped. @default 5 (ALERT_MAX_DEVICES) */
    maxDevicesPerAlert: number;
  };
  /** Allow GetFile paths to network shares (\\server\share) and device namespaces (\\?\, \\.\). @default false (GETFILE_ALLOW_UNC_PATHS) */
  allowUncPaths: boolean;
  evidence: {
    connectionString?: string;
    accountUrl?: string;
    /** @default "evidence" */
    container: string;
    /** @default "liveresponse" */
    prefix: string;
    /**
     * Hosts a download link may name: Azure Storage blob endpoints plus EVIDENCE_SOURCE_ALLOWED_HOSTS;
     * loopback only in local development.
     */
    sourceHosts: HostAllowList;
    /**
     * Bytes one activity copies before handing over to the next: keeps each activity short and loses
     * at most one chunk to a host restart.
     * @default 512 MiB (EVIDENCE_CHUNK_MIB)
     */
    chunkBytes: number;
  };
  /** MANIFEST_SIGNING_*: the key that signs every manifest's SHA-256 (shared/evidence/signing). */
  manifestSigning: ManifestSigningSettings;
  /** MANIFEST_TIMESTAMP_URL: the RFC 3161 TSA that timestamps each manifest (shared/evidence/timestamp). @default off */
  manifestTimestamp?: ManifestTimestampSettings;
  collection: CollectionSettings;
  /**
   * MDE_MAX_SESSIONS, MDE_SUBMISSIONS_PER_MINUTE, MDE_READS_PER_*, MDE_SESSION_LEASE_MINUTES, GOVERNOR_*:
   * the tenant-wide rate governor (shared/governor).
   */
  governor: GovernorSettings;
  /**
   * COLLECTOR_STATE_CONTAINER in the host storage account (AzureWebJobsStorage*): the governor's document,
   * the poller's cursor, submission records (shared/stateStorageSettings.ts).
   */
  state: StateStorageSettings;
  /** config/playbooks/, PLAYBOOKS over it: named command lists with placeholders (shared/playbooks.ts). @default none */
  playbooks: PlaybookCatalog;
  /** COLLECTION_PLANS and the timer's schedule and limits (shared/collectionPlans.ts). @default no plans */
  plans: CollectionPlanSettings;
  /** config/alert-rules/, ALERT_RULES over it: which alerts start which playbook, first match wins (shared/alerts/rules.ts). */
  alertRules: AlertRule[];
  /** ALERTS_EVENTHUB* and ALERTS_SETTLE_SECONDS: the Defender XDR streaming route (shared/alerts/streamingSettings.ts). */
  alertStreaming: AlertStreamingSettings;
  /**
   * ALERTS_POLL_*, GRAPH_BASE_URL: Graph alerts_v2 polling, off without a schedule
   * (shared/alerts/graphSettings.ts).
   */
  alertPolling?: AlertPollingSettings;
  /** LIBRARY_ALLOW_UNREVIEWED: the live response library check before RunScript and PutFile (shared/library). */
  library: LibrarySettings;
  localDevelopment: boolean;
}

/** Timing settings the triggers copy into each orchestration's input, so a changed setting never alters a replay. */
export interface CollectionSettings {
  /** MDE queues a session for an offline device this long (3 days or 2 hours, by page revision: see shared/mde/limits.ts). */
  queueWindowInMs: number;
  /** Longest a command may run once the device picks the session up (getfile/run: 30 minutes, RunScript: 10). */
  commandTimeoutInMs: number;
  /** Slack added to the deadline so MDE's own TimeOut status is seen before the collector gives up. */
  deadlineMarginInMs: number;
  pollInitialDelayInMs: number;
  pollMaxDelayInMs: number;
  /** Wait before resubmitting when the device already has a live response session (400 ActiveRequestAlreadyExists). */
  busyRetryDelayInMs: number;
  /** The action poller's interval (batched status polling for every watched collection). */
  actionPollIntervalInMs: number;
}

/** Azure container naming rules: 3-63 chars, lowercase letters, digits and single hyphens, starting with a letter or digit. */
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;
const PREFIX = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/**
 * Reads and validates every setting in one pass.
 * @param env - the environment (defaults to `process.env` at the composition root only)
 * @param options - `appRoot`: where `config/` (playbooks, plans, alert rules as files) is read; without it only CONFIG_DIRECTORY is
 * @throws ConfigError naming every missing or invalid setting and config file at once
 */
export function loadConfig(env: Env, options: { appRoot?: string } = {}): AppConfig {
  const problems: SettingProblem[] = [];
  const reader = settingsReader(env, problems);

  const localDevelopment = reader.bool("LOCAL_DEVELOPMENT", false);
  const baseUrl = reader.url("MDE_API_BASE_URL", "https://api.security.microsoft.com");
  const loopbackMde = baseUrl !== undefined && isLoopbackUrl(baseUrl);
  if (baseUrl && !baseUrl.startsWith("https://") && !(localDevelopment && loopbackMde)) {
    problems.push({
      setting: "MDE_API_BASE_URL",
      problem: "must be an https:// URL (http:// is allowed only for a loopback simulator with LOCAL_DEVELOPMENT=true)",
    });
  }
  const mdeHosts: HostAllowList = { hosts: [...MDE_API_HOSTS, ...reader.hostList("MDE_ALLOWED_HOSTS")], allowLoopback: localDevelopment };
  // The https/loopback rule above already named a plain-http URL; the allow-list speaks to the rest.
  const baseUrlRefusal =
    baseUrl && (baseUrl.startsWith("https://") || (localDevelopment && loopbackMde)) ? hostRefusal(new URL(baseUrl), mdeHosts) : undefined;
  if (baseUrlRefusal)
    problems.push({
      setting: "MDE_API_BASE_URL",
      problem: `${baseUrlRefusal} (documented MDE API hosts, or add the host to MDE_ALLOWED_HOSTS)`,
    });
  const tokenScope = reader.optional("MDE_TOKEN_SCOPE") ?? (baseUrl ? tokenScopeFor(baseUrl) : "");
  for (const name of ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "MDE_MANAGED_IDENTITY_CLIENT_ID"]) {
    const value = reader.optional(name);
    if (value !== undefined && !GUID.test(value)) problems.push({ setting: name, problem: "must be a GUID" });
  }

  const connectionString = reader.optional("EVIDENCE_STORAGE_CONNECTION_STRING");
  const accountUrl = reader.optional("EVIDENCE_STORAGE_ACCOUNT_URL");
  if (!connectionString && !accountUrl) {
    problems.push({
      setting: "EVIDENCE_STORAGE_ACCOUNT_URL",
      problem: "required (or EVIDENCE_STORAGE_CONNECTION_STRING): where evidence is written",
    });
  } else if (connectionString && accountUrl) {
    problems.push({ setting: "EVIDENCE_STORAGE_CONNECTION_STRING", problem: "set either this or EVIDENCE_STORAGE_ACCOUNT_URL, not both" });
  } else if (accountUrl) {
    reader.url("EVIDENCE_STORAGE_ACCOUNT_URL");
  } else if (connectionString && !/AccountName=|UseDevelopmentStorage=true|BlobEndpoint=/i.test(connectionString)) {
    problems.push({ setting: "EVIDENCE_STORAGE_CONNECTION_STRING", problem: "is not a storage connection string" });
  }
  const container = reader.matching(
    "EVIDENCE_CONTAINER",
    "evidence",
    CONTAINER_NAME,
    "must be a valid container name (3-63 lowercase letters, digits, single hyphens)",
  );
  const prefix = reader.matching(
    "EVIDENCE_PREFIX",
    "liveresponse",
    PREFIX,
    "must be path segments of letters, digits, '.', '_', '-' separated by '/'",
  );
  const chunkMiB = reader.positiveInt("EVIDENCE_CHUNK_MIB", 512);
  if (chunkMiB % 8 !== 0)
    problems.push({ setting: "EVIDENCE_CHUNK_MIB", problem: "must be a multiple of 8 (the evidence writer's block size in MiB)" });

  const minute = 60_000;
  const collection: CollectionSettings = {
    queueWindowInMs: reader.positiveInt("COLLECTION_QUEUE_WINDOW_MINUTES", 3 * 24 * 60) * minute,
    commandTimeoutInMs: reader.positiveInt("COLLECTION_COMMAND_TIMEOUT_MINUTES", 30) * minute,
    deadlineMarginInMs: reader.positiveInt("COLLECTION_DEADLINE_MARGIN_MINUTES", 30) * minute,
    pollInitialDelayInMs: reader.positiveInt("COLLECTION_POLL_INITIAL_SECONDS", 15) * 1000,
    pollMaxDelayInMs: reader.positiveInt("COLLECTION_POLL_MAX_SECONDS", 900) * 1000,
    busyRetryDelayInMs: reader.positiveInt("COLLECTION_BUSY_RETRY_SECONDS", 300) * 1000,
    actionPollIntervalInMs: reader.positiveInt("ACTION_POLL_INTERVAL_SECONDS", 30) * 1000,
  };
  if (60_000 % collection.actionPollIntervalInMs !== 0) {
    problems.push({ setting: "ACTION_POLL_INTERVAL_SECONDS", problem: "must divide a minute: 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60" });
  }
  if (collection.pollMaxDelayInMs < collection.pollInitialDelayInMs) {
    problems.push({ setting: "COLLECTION_POLL_MAX_SECONDS", problem: "must not be smaller than COLLECTION_POLL_INITIAL_SECONDS" });
  }

  // Playbooks first: plans and rules are checked against them, and playbooks against the UNC switch.
  const allowUncPaths = reader.bool("GETFILE_ALLOW_UNC_PATHS", false);
  const definitions = readDefinitions(reader, problems, { allowUncPaths, appRoot: options.appRoot });
  const schedule = reader.optional("COLLECTION_PLANS_SCHEDULE") ?? "0 0 2 * * *";
  const cron = parseNcrontab(schedule);
  if (!cron.ok) problems.push({ setting: "COLLECTION_PLANS_SCHEDULE", problem: cron.problem });
  const planSettings: CollectionPlanSettings = {
    schedule,
    maxMachinesPerRun: reader.positiveInt("COLLECTION_PLANS_MAX_MACHINES", 25),
    submissionsPerMinute: reader.positiveInt("COLLECTION_PLANS_SUBMISSIONS_PER_MINUTE", 5),
    plans: definitions.plans,
  };

  const auth = readAuthSettings(reader, problems, localDevelopment);
  const limits = {
    maxInFlight: reader.positiveInt("COLLECTIONS_MAX_IN_FLIGHT", 500),
    maxInFlightPerCaller: reader.positiveInt("COLLECTIONS_MAX_IN_FLIGHT_PER_CALLER", 50),
    maxDevicesPerAlert: reader.positiveInt("ALERT_MAX_DEVICES", 5),
  };
  const sourceHosts: HostAllowList = {
    hosts: [...BLOB_HOST_PATTERNS, ...reader.hostList("EVIDENCE_SOURCE_ALLOWED_HOSTS")],
    allowLoopback: localDevelopment,
  };
  const manifestSigning = readManifestSigningSettings(reader, problems, localDevelopment);
  const manifestTimestamp = readManifestTimestampSettings(reader, problems);
  const governor = readGovernorSettings(reader, problems, { pollMaxDelayInMs: collection.pollMaxDelayInMs });
  const state = readStateStorageSettings(reader, problems, { localDevelopment, evidence: { connectionString, accountUrl, container } });
  const library = readLibrarySettings(reader);
  const alertStreaming = readAlertStreamingSettings(reader, problems);
  const alertPolling = readAlertPollingSettings(reader, problems, localDevelopment);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    mde: {
      baseUrl: baseUrl!.replace(/\/+$/, ""),
      tokenScope,
      managedIdentityClientId: reader.optional("MDE_MANAGED_IDENTITY_CLIENT_ID"),
      useDevelopmentToken: localDevelopment && loopbackMde,
      allowedHosts: mdeHosts,
    },
    evidence: {
      connectionString,
      accountUrl,
      container: container!,
      prefix: prefix!,
      sourceHosts,
      chunkBytes: chunkMiB * 1024 * 1024,
    },
    manifestSigning: manifestSigning!,
    ...(manifestTimestamp ? { manifestTimestamp } : {}),
    auth: auth!,
    limits,
    allowUncPaths,
    collection,
    governor,
    state: state!,
    playbooks: definitions.playbooks,
    plans: planSettings,
    alertRules: definitions.alertRules,
    alertPolling,
    alertStreaming,
    library,
    localDevelopment,
  };
}
