import { AUTHORITY_HOSTS, DEVELOPMENT_AUDIENCE, DEVELOPMENT_TENANT_ID } from "./auth/entraToken";
import type { AuthSettings } from "./auth/authenticator";
import { parseRoleScopes, type RoleDefinition } from "./auth/roles";
import { parseAlertRules, type AlertRule } from "./alerts/rules";
import { parseCollectionPlans, type CollectionPlanSettings } from "./collectionPlans";
import { DEFAULT_DEVELOPMENT_SIGNING_KEY_FILE, type ManifestSigningSettings } from "./evidence/signing/createSigner";
import { parseKeyVaultKeyId } from "./evidence/signing/keyVaultKeyId";
import { ConfigError, type SettingProblem } from "./errors";
import { BLOB_HOST_PATTERNS, hostRefusal, isLoopbackUrl, isValidHostPattern, MDE_API_HOSTS, type HostAllowList } from "./hostPolicy";
import { tokenScopeFor } from "./mde/auth";
import { parseNcrontab } from "./ncrontab";
import { parsePlaybooks, type PlaybookCatalog } from "./playbooks";

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
  auth: AuthSettings & { roles: RoleDefinition[] };
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
  collection: CollectionSettings;
  /** PLAYBOOKS: named command lists with placeholders (shared/playbooks.ts). @default none */
  playbooks: PlaybookCatalog;
  /** COLLECTION_PLANS and the timer's schedule and limits (shared/collectionPlans.ts). @default no plans */
  plans: CollectionPlanSettings;
  /** ALERT_RULES: which alerts start which playbook, first match wins (shared/alerts/rules.ts). @default none */
  alertRules: AlertRule[];
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
}

type Env = Record<string, string | undefined>;

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** Azure container naming rules: 3-63 chars, lowercase letters, digits and single hyphens, starting with a letter or digit. */
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;
const PREFIX = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/**
 * Reads and validates every setting in one pass.
 * @param env - the environment (defaults to `process.env` at the composition root only)
 * @throws ConfigError naming every missing or invalid setting at once
 */
export function loadConfig(env: Env): AppConfig {
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
  };
  if (collection.pollMaxDelayInMs < collection.pollInitialDelayInMs) {
    problems.push({ setting: "COLLECTION_POLL_MAX_SECONDS", problem: "must not be smaller than COLLECTION_POLL_INITIAL_SECONDS" });
  }

  // Playbooks first: plans and rules are checked against them, and playbooks against the UNC switch.
  const allowUncPaths = reader.bool("GETFILE_ALLOW_UNC_PATHS", false);
  const playbooks = parsePlaybooks(reader.optional("PLAYBOOKS"), "PLAYBOOKS", { allowUncPaths });
  const plans = parseCollectionPlans(reader.optional("COLLECTION_PLANS"), playbooks.catalog);
  const rules = parseAlertRules(reader.optional("ALERT_RULES"), playbooks.catalog);
  problems.push(...playbooks.problems, ...plans.problems, ...rules.problems);
  const schedule = reader.optional("COLLECTION_PLANS_SCHEDULE") ?? "0 0 2 * * *";
  const cron = parseNcrontab(schedule);
  if (!cron.ok) problems.push({ setting: "COLLECTION_PLANS_SCHEDULE", problem: cron.problem });
  const planSettings: CollectionPlanSettings = {
    schedule,
    maxMachinesPerRun: reader.positiveInt("COLLECTION_PLANS_MAX_MACHINES", 25),
    submissionsPerMinute: reader.positiveInt("COLLECTION_PLANS_SUBMISSIONS_PER_MINUTE", 5),
    plans: plans.plans,
  };

  const auth = readAuth(reader, problems, localDevelopment);
  const limits = {
    maxInFlight: reader.positiveInt("COLLECTIONS_MAX_IN_FLIGHT", 500),
    maxInFlightPerCaller: reader.positiveInt("COLLECTIONS_MAX_IN_FLIGHT_PER_CALLER", 50),
    maxDevicesPerAlert: reader.positiveInt("ALERT_MAX_DEVICES", 5),
  };
  const sourceHosts: HostAllowList = {
    hosts: [...BLOB_HOST_PATTERNS, ...reader.hostList("EVIDENCE_SOURCE_ALLOWED_HOSTS")],
    allowLoopback: localDevelopment,
  };
  const manifestSigning = readManifestSigning(reader, problems, localDevelopment);

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
    auth: auth!,
    limits,
    allowUncPaths,
    collection,
    playbooks: playbooks.catalog,
    plans: planSettings,
    alertRules: rules.rules,
    localDevelopment,
  };
}

/**
 * MANIFEST_SIGNING_*: a Key Vault key signs every manifest (required outside local development, so a
 * deployed app never writes an unsigned one); in local development, without one, a development key
 * kept in a file (created on first use) does.
 */
function readManifestSigning(
  reader: SettingsReader,
  problems: SettingProblem[],
  localDevelopment: boolean,
): ManifestSigningSettings | undefined {
  const keyId = reader.optional("MANIFEST_SIGNING_KEY_ID");
  const keyFile = reader.optional("MANIFEST_SIGNING_DEVELOPMENT_KEY_FILE");
  const problem = (setting: string, text: string) => problems.push({ setting, problem: text });
  if (keyFile !== undefined && (keyId !== undefined || !localDevelopment)) {
    problem("MANIFEST_SIGNING_DEVELOPMENT_KEY_FILE", "allowed only with LOCAL_DEVELOPMENT=true and without MANIFEST_SIGNING_KEY_ID");
  }
  if (keyId !== undefined) {
    if (parseKeyVaultKeyId(keyId)) return { keyVaultKeyId: keyId };
    problem("MANIFEST_SIGNING_KEY_ID", "must be a Key Vault key identifier, https://<vault>.vault.azure.net/keys/<name>[/<version>]");
    return undefined;
  }
  if (localDevelopment) return { developmentKeyFile: keyFile ?? DEFAULT_DEVELOPMENT_SIGNING_KEY_FILE };
  problem("MANIFEST_SIGNING_KEY_ID", "required: the Key Vault key that signs manifests (a development key: LOCAL_DEVELOPMENT=true only)");
  return undefined;
}

const AUTH_MODES = ["entra", "appServiceAuthentication", "development"] as const;

/**
 * AUTH_*: how callers of the HTTP endpoints are authenticated. `entra` needs the tenant and the API's
 * audience; `development` (a local signing key) only with LOCAL_DEVELOPMENT=true, so it can never be
 * the mode of a deployed app.
 */
function readAuth(reader: SettingsReader, problems: SettingProblem[], localDevelopment: boolean): AppConfig["auth"] | undefined {
  const mode = reader.optional("AUTH_MODE") ?? "entra";
  if (!(AUTH_MODES as readonly string[]).includes(mode)) {
    problems.push({ setting: "AUTH_MODE", problem: `must be one of ${AUTH_MODES.join(", ")}` });
    return undefined;
  }
  if (mode === "development" && !localDevelopment)
    problems.push({ setting: "AUTH_MODE", problem: "development is allowed only with LOCAL_DEVELOPMENT=true" });
  const tenantId = reader.optional("AUTH_TENANT_ID");
  if (tenantId === undefined && mode !== "development")
    problems.push({ setting: "AUTH_TENANT_ID", problem: `required with AUTH_MODE=${mode}: the Entra tenant of the callers` });
  else if (tenantId !== undefined && !GUID.test(tenantId)) problems.push({ setting: "AUTH_TENANT_ID", problem: "must be a GUID" });
  const audiences = (reader.optional("AUTH_AUDIENCE") ?? (mode === "development" ? DEVELOPMENT_AUDIENCE : ""))
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean);
  if (audiences.length === 0 && mode === "entra")
    problems.push({
      setting: "AUTH_AUDIENCE",
      problem: "required with AUTH_MODE=entra: the API app registration's client id or application id URI",
    });
  const authorityHost = (reader.optional("AUTH_AUTHORITY_HOST") ?? "https://login.microsoftonline.com").replace(/\/+$/, "");
  if (!AUTHORITY_HOSTS.some((h) => authorityHost === `https://${h}`)) {
    problems.push({ setting: "AUTH_AUTHORITY_HOST", problem: `must be one of ${AUTHORITY_HOSTS.map((h) => `https://${h}`).join(", ")}` });
  }
  let developmentKeys: AuthSettings["developmentKeys"];
  if (mode === "development") {
    const jwks = reader.optional("AUTH_DEVELOPMENT_JWKS");
    try {
      const parsed = jwks === undefined ? undefined : JSON.parse(jwks);
      if (!parsed || !Array.isArray(parsed.keys) || parsed.keys.length === 0) throw new Error("no keys");
      developmentKeys = parsed;
    } catch {
      problems.push({
        setting: "AUTH_DEVELOPMENT_JWKS",
        problem: "required with AUTH_MODE=development: a JSON Web Key Set with the development public key (npm start writes one)",
      });
    }
  }
  const roles = parseRoleScopes(reader.optional("AUTH_ROLE_SCOPES"));
  problems.push(...roles.problems);
  return {
    mode: mode as AppConfig["auth"]["mode"],
    tenantId: tenantId ?? DEVELOPMENT_TENANT_ID,
    audiences,
    authorityHost,
    ...(developmentKeys ? { developmentKeys } : {}),
    roles: roles.roles,
  };
}

type SettingsReader = ReturnType<typeof settingsReader>;

function settingsReader(env: Env, problems: SettingProblem[]) {
  const optional = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  return {
    optional,
    bool(name: string, fallback: boolean): boolean {
      const value = optional(name);
      if (value === undefined) return fallback;
      if (/^(true|1|yes)$/i.test(value)) return true;
      if (/^(false|0|no)$/i.test(value)) return false;
      problems.push({ setting: name, problem: "must be true or false" });
      return fallback;
    },
    url(name: string, fallback?: string): string | undefined {
      const value = optional(name) ?? fallback;
      if (value === undefined) {
        problems.push({ setting: name, problem: "required" });
        return undefined;
      }
      try {
        const u = new URL(value);
        if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error("scheme");
        return value;
      } catch {
        problems.push({ setting: name, problem: "must be an absolute http(s) URL" });
        return undefined;
      }
    },
    matching(name: string, fallback: string, pattern: RegExp, problem: string): string | undefined {
      const value = optional(name) ?? fallback;
      if (pattern.test(value)) return value;
      problems.push({ setting: name, problem });
      return undefined;
    },
    /** A comma-separated list of host names or `*.suffix` patterns. */
    hostList(name: string): string[] {
      const hosts = (optional(name) ?? "")
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean);
      const bad = hosts.filter((h) => !isValidHostPattern(h));
      if (bad.length > 0)
        problems.push({ setting: name, problem: `must be host names or *.suffix patterns, comma-separated (bad: ${bad[0].slice(0, 60)})` });
      return hosts.filter(isValidHostPattern);
    },
    positiveInt(name: string, fallback: number): number {
      const value = optional(name);
      if (value === undefined) return fallback;
      const n = Number(value);
      if (Number.isInteger(n) && n > 0) return n;
      problems.push({ setting: name, problem: "must be a positive whole number" });
      return fallback;
    },
  };
}
