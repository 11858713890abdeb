/**
 * App settings for the local host, read like Core Tools reads them: `Values` of
 * `local.settings.json` (else `local.settings.sample.json`), where an environment variable of the
 * same name wins. Then the rule that points settings at the local services `npm start` runs:
 *
 * - `MDE_API_BASE_URL` names the simulator when it is a loopback URL on port 7072 (the sample's
 *   value) or on `SIMULATOR_PORT`: the simulator is started and the setting becomes its real URL.
 *   Any other URL is used as is: another local process, or a real tenant (https://).
 * - With the simulator started, `GRAPH_BASE_URL` unset, empty or loopback also becomes the simulator's
 *   URL (it serves Graph's `/v1.0/security/alerts_v2` over its alerts), so the alerts_v2 poller, once
 *   `ALERTS_POLL_SCHEDULE` is set, polls it offline. A real Graph host is used as is.
 * - `EVIDENCE_STORAGE_CONNECTION_STRING=UseDevelopmentStorage=true` starts Azurite and becomes its
 *   connection string. Azurite also starts for the simulator (its result store is Azurite's
 *   `mdesource` account). Any other storage setting is used as is.
 * - Every other setting equal to `UseDevelopmentStorage=true` (e.g. `AzureWebJobsStorage`) also
 *   gets the started Azurite's connection string; without Azurite it is left alone (the local host
 *   keeps durable state in memory and does not use it).
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { isLoopbackUrl } from "../shared/hostPolicy";

/** Default loopback ports: the ones `func start`, the sample settings and Azurite use. */
export const DEFAULT_PORTS = { host: 7071, simulator: 7072, azuriteBlob: 10000 } as const;

/** What was read from a settings file. */
export interface LocalSettingsFile {
  /** The file the settings came from. */
  path: string;
  /** `Values`, every value as a string. */
  values: Record<string, string>;
  /** `Host.LocalHttpPort`, when the file sets it (Core Tools' port setting). */
  localHttpPort?: number;
}

/**
 * Reads `local.settings.json` in `root`, or `local.settings.sample.json` when there is none.
 * @throws Error when neither exists, the JSON is invalid, or the file is encrypted
 */
export function readLocalSettings(root: string): LocalSettingsFile {
  const candidates = ["local.settings.json", "local.settings.sample.json"].map((f) => path.join(root, f));
  const file = candidates.find((f) => existsSync(f));
  if (!file) throw new Error(`No local.settings.json or local.settings.sample.json in ${root}`);
  return readSettingsFile(file);
}

/**
 * Reads one file in the local.settings.json format.
 * @throws Error when the JSON is invalid or the file is encrypted
 */
export function readSettingsFile(file: string): LocalSettingsFile {
  let parsed: { IsEncrypted?: unknown; Values?: unknown; Host?: { LocalHttpPort?: unknown } };
  try {
    parsed = JSON.parse(readFileSync(file, "utf8")) as typeof parsed;
  } catch (e) {
    throw new Error(`${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  // Core Tools encrypts Values with a machine key (`func settings encrypt`); that key is not available here.
  if (parsed.IsEncrypted === true) throw new Error(`${file} is encrypted; run 'func settings decrypt' or write the values in clear`);
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries((parsed.Values ?? {}) as Record<string, unknown>)) {
    if (v !== null && v !== undefined) values[k] = String(v);
  }
  const port = parsed.Host?.LocalHttpPort;
  return { path: file, values, localHttpPort: typeof port === "number" ? port : undefined };
}

/**
 * The file's values overlaid by the environment (Core Tools skips a
 * local setting "as it's already defined in current environment variables").
 * @returns the merged settings and the names the environment overrode
 */
export function mergeWithEnvironment(
  values: Record<string, string>,
  env: Record<string, string | undefined>,
): { settings: Record<string, string>; fromEnvironment: string[] } {
  // Settings only in the environment count too (e.g. COLLECTION_POLL_INITIAL_SECONDS set for one run).
  const settings: Record<string, string> = { ...values };
  const fromEnvironment: string[] = [];
  for (const [name, v] of Object.entries(env)) {
    if (v === undefined) continue;
    if (name in values && values[name] !== v) fromEnvironment.push(name);
    settings[name] = v;
  }
  return { settings, fromEnvironment };
}

/**
 * Replaces `%NAME%` references with app settings, as the host's name resolver does for binding
 * expressions (a whole timer schedule like `%COLLECTION_SCHEDULE%`, or part of one).
 * @throws Error naming a setting that is missing or empty
 */
export function resolveSettingReferences(value: string, settings: Record<string, string | undefined>): string {
  return value.replace(/%([^%\s]+)%/g, (_match, name: string) => {
    const resolved = settings[name];
    if (resolved === undefined || resolved.trim() === "")
      throw new Error(`'%${name}%' does not resolve to a value: set the app setting ${name}`);
    return resolved.trim();
  });
}

/**
 * A port from an environment variable: unset or empty gives `fallback`, `0` means "a free port".
 * @throws Error naming the variable when the value is not a port number
 */
export function portFrom(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const value = env[name]?.trim();
  if (value === undefined || value === "") return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`${name} must be a port number (0 = a free port), got '${value}'`);
  return port;
}

/** True for `UseDevelopmentStorage=true` (what Core Tools and the SDKs read as "the local emulator"). */
export function isDevelopmentStorage(value: string | undefined): boolean {
  return value !== undefined && /^\s*UseDevelopmentStorage\s*=\s*true\s*;?\s*$/i.test(value);
}

/** Which local services the settings ask for. */
export interface LocalServicesPlan {
  simulator: boolean;
  azurite: boolean;
}

/**
 * Applies the module comment's rule to decide what `npm start` starts.
 * @param simulatorPort - the SIMULATOR_PORT asked for (0 = a free port)
 */
export function planLocalServices(settings: Record<string, string | undefined>, simulatorPort: number): LocalServicesPlan {
  const simulator = namesSimulator(settings.MDE_API_BASE_URL, simulatorPort);
  const devStorage = isDevelopmentStorage(settings.EVIDENCE_STORAGE_CONNECTION_STRING) && !settings.EVIDENCE_STORAGE_ACCOUNT_URL?.trim();
  return { simulator, azurite: simulator || devStorage };
}

function namesSimulator(baseUrl: string | undefined, simulatorPort: number): boolean {
  if (!baseUrl || !isLoopbackUrl(baseUrl)) return false;
  const url = new URL(baseUrl);
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  return port === DEFAULT_PORTS.simulator || (simulatorPort !== 0 && port === simulatorPort);
}

/** Where the started local services listen. */
export interface StartedLocalServices {
  simulatorUrl?: string;
  /** Connection string of Azurite's evidence account (devstoreaccount1). */
  azuriteConnectionString?: string;
  /** Public key set of the local development identity, for AUTH_MODE=development when AUTH_DEVELOPMENT_JWKS is empty. */
  developmentJwks?: string;
}

/** Whether the settings ask for development tokens without naming a key set (npm start then supplies its own). */
export function wantsDevelopmentIdentity(settings: Record<string, string | undefined>): boolean {
  return settings.AUTH_MODE?.trim() === "development" && !settings.AUTH_DEVELOPMENT_JWKS?.trim();
}

/** The settings with the started services filled in (see the module comment). Pure. */
export function withLocalServices(settings: Record<string, string>, started: StartedLocalServices): Record<string, string> {
  const out = { ...settings };
  if (started.simulatorUrl) {
    out.MDE_API_BASE_URL = started.simulatorUrl;
    const graph = out.GRAPH_BASE_URL?.trim();
    if (!graph || isLoopbackUrl(graph)) out.GRAPH_BASE_URL = started.simulatorUrl;
  }
  if (started.developmentJwks && wantsDevelopmentIdentity(out)) out.AUTH_DEVELOPMENT_JWKS = started.developmentJwks;
  if (started.azuriteConnectionString) {
    for (const [name, value] of Object.entries(out)) if (isDevelopmentStorage(value)) out[name] = started.azuriteConnectionString;
  }
  return out;
}

/**
 * The blob endpoint evidence goes to, for display: the account URL, or the connection string's
 * `BlobEndpoint` / account. Never returns a key or SAS.
 */
export function evidenceEndpointOf(settings: Record<string, string | undefined>): string {
  const accountUrl = settings.EVIDENCE_STORAGE_ACCOUNT_URL?.trim();
  if (accountUrl) return accountUrl.split("?")[0]!;
  const cs = settings.EVIDENCE_STORAGE_CONNECTION_STRING ?? "";
  const part = (key: string) => new RegExp(`(?:^|;)\\s*${key}\\s*=\\s*([^;]+)`, "i").exec(cs)?.[1]?.trim();
  const endpoint = part("BlobEndpoint");
  if (endpoint) return endpoint.split("?")[0]!;
  const account = part("AccountName");
  return account ? `https://${account}.blob.${part("EndpointSuffix") ?? "core.windows.net"}` : "(not set)";
}
