/**
 * `npm run verify`: the examiner's check of collected evidence (shared/evidence/verify). Parses
 * the command line, connects to the evidence container, decides whose signatures to trust, runs
 * the verification with progress on stderr, and prints one row per blob (or JSON).
 */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { TokenCredential } from "@azure/identity";
import { KeyClient } from "@azure/keyvault-keys";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { readAuditRecords } from "../shared/evidence/auditTrail";
import { DEFAULT_DEVELOPMENT_SIGNING_KEY_FILE } from "../shared/evidence/signing/createSigner";
import { parseKeyVaultKeyId, type KeyVaultKeyId } from "../shared/evidence/signing/keyVaultKeyId";
import { publicKeyFromJsonWebKey, type TrustedKeys } from "../shared/evidence/signing/signatureCheck";
import { HashPool } from "../shared/evidence/verify/hashPool";
import { exitCodeOf, formatReport, progressLine, reportJson } from "../shared/evidence/verify/report";
import type { VerifyScope } from "../shared/evidence/verify/scope";
import { NO_TIMESTAMP_TRUST, type TimestampTrust } from "../shared/evidence/verify/timestampCheck";
import type { VerifyProgress } from "../shared/evidence/verify/types";
import { verifyEvidence } from "../shared/evidence/verify/verifyEvidence";

export const VERIFY_USAGE = `Usage: npm run verify -- [where] [what] [trust] [--json] [--concurrency N] [--quiet]
       npm run verify -- [where] --audit --instance <orchestration instance id> [--json]   (the collection's audit trail)
where (default: EVIDENCE_STORAGE_CONNECTION_STRING or EVIDENCE_STORAGE_ACCOUNT_URL from the environment):
  --account-url https://<account>.blob.core.windows.net   signs in with DefaultAzureCredential (az login)
  --connection-string "<connection string>"
  --azurite                                               UseDevelopmentStorage=true
  --container <name>                                      default EVIDENCE_CONTAINER or "evidence"
what (default: everything under the prefix):
  --prefix <folder>                                       default EVIDENCE_PREFIX or "liveresponse"
  --machine <machine id>   --action <action id>   --instance <orchestration instance id>
trust (whose manifest signatures count; at least one):
  --key-id https://<vault>.vault.azure.net/keys/<name>[/<version>]   (repeatable; default MANIFEST_SIGNING_KEY_ID)
  --public-key <file.pem>                                 (repeatable) a public key, e.g. az keyvault key download --encoding PEM
  without either: the development key (MANIFEST_SIGNING_DEVELOPMENT_KEY_FILE or ${DEFAULT_DEVELOPMENT_SIGNING_KEY_FILE}), when it exists
timestamps (RFC 3161 tokens beside manifests, manifest.timestamp.tsr; checked whenever present):
  --tsa-ca <file.pem>                                     (repeatable) CA certificates the TSA's certificate must chain to
  --require-timestamp                                     a manifest without a token is a problem
Exit code: 0 all OK, 1 a problem was found (or nothing to verify), 2 the command could not run.`;

/** What the command needs from its surroundings (tests pass their own). */
export interface VerifyCommandDeps {
  env: Record<string, string | undefined>;
  /** Directory relative key files are resolved from (the package root under npm). */
  cwd: string;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Rewrites the current progress line in place (a terminal); otherwise one line per update. */
  stderrIsTerminal: boolean;
  credential: () => TokenCredential;
  /** @default Date.now */
  now?: () => number;
}

class UsageError extends Error {}

/** Runs `verify` with the given arguments; resolves to the exit code. */
export async function runVerify(argv: string[], deps: VerifyCommandDeps): Promise<number> {
  let parsed;
  try {
    parsed = parseVerifyArgs(argv, deps);
  } catch (e) {
    // node:util parseArgs throws errors coded ERR_PARSE_ARGS_* for unknown or malformed options.
    const parseError = typeof (e as { code?: unknown }).code === "string" && (e as { code: string }).code.startsWith("ERR_PARSE_ARGS");
    if (!(e instanceof UsageError) && !parseError) throw e;
    deps.err(`verify: ${(e as Error).message}\n${VERIFY_USAGE}`);
    return 2;
  }
  if (parsed === "help") {
    deps.out(VERIFY_USAGE);
    return 0;
  }
  if (parsed.audit) return printAudit(parsed, deps);
  const { container, scope, trust, json, concurrency, quiet, trustSource, timestamps } = parsed;
  if (!quiet) deps.err(`verify: ${container.url.replace(/\?.*$/, "")} ${describeScope(scope)}; trusting ${trustSource}`);
  const now = deps.now ?? Date.now;
  const started = now();
  const onProgress = quiet ? undefined : progressPrinter(deps, started, now);
  const hashes = new HashPool(hashWorkers(concurrency));
  let report;
  try {
    report = await verifyEvidence(container, scope, {
      trust,
      timestamps,
      concurrency,
      digest: hashes.digest,
      onProgress: onProgress?.update,
      now,
    });
  } finally {
    await hashes.close();
  }
  onProgress?.end();
  deps.out(json ? reportJson(report) : formatReport(report));
  return exitCodeOf(report);
}

interface ParsedArgs {
  container: ContainerClient;
  /** Print the audit trail of `scope.instanceId` instead of verifying. */
  audit: boolean;
  scope: VerifyScope;
  trust: TrustedKeys;
  trustSource: string;
  /** The TSAs whose tokens count (--tsa-ca), and --require-timestamp. */
  timestamps: TimestampTrust;
  json: boolean;
  concurrency: number;
  quiet: boolean;
}

/** @throws UsageError for a bad or missing argument */
export function parseVerifyArgs(argv: string[], deps: Pick<VerifyCommandDeps, "env" | "cwd" | "credential">): ParsedArgs | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      "account-url": { type: "string" },
      "connection-string": { type: "string" },
      azurite: { type: "boolean" },
      container: { type: "string" },
      prefix: { type: "string" },
      machine: { type: "string" },
      action: { type: "string" },
      instance: { type: "string" },
      "key-id": { type: "string", multiple: true },
      "public-key": { type: "string", multiple: true },
      "tsa-ca": { type: "string", multiple: true },
      "require-timestamp": { type: "boolean" },
      concurrency: { type: "string" },
      json: { type: "boolean" },
      quiet: { type: "boolean" },
      audit: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const { env } = deps;
  const given = [values["account-url"], values["connection-string"], values.azurite ? "UseDevelopmentStorage=true" : undefined].filter(
    (v) => v !== undefined,
  );
  if (given.length > 1) throw new UsageError("give one of --account-url, --connection-string and --azurite");
  const connectionString = values["connection-string"] ?? (values.azurite ? "UseDevelopmentStorage=true" : undefined);
  const accountUrl =
    values["account-url"] ?? (given.length === 0 && !env.EVIDENCE_STORAGE_CONNECTION_STRING ? env.EVIDENCE_STORAGE_ACCOUNT_URL : undefined);
  const service = connectionString ?? (accountUrl ? undefined : env.EVIDENCE_STORAGE_CONNECTION_STRING);
  let client: BlobServiceClient;
  if (service) client = BlobServiceClient.fromConnectionString(service);
  else if (accountUrl) {
    if (!/^https?:\/\//.test(accountUrl)) throw new UsageError("--account-url must be an http(s) URL");
    client = new BlobServiceClient(accountUrl, deps.credential());
  } else throw new UsageError("where is the evidence? give --account-url, --connection-string or --azurite");

  const concurrency = Number(values.concurrency ?? 4);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw new UsageError("--concurrency must be a whole number from 1 to 64");
  const scope: VerifyScope = {
    prefix: values.prefix ?? env.EVIDENCE_PREFIX ?? "liveresponse",
    ...(values.machine ? { machineId: values.machine } : {}),
    ...(values.action ? { actionId: values.action } : {}),
    ...(values.instance ? { instanceId: values.instance } : {}),
  };
  const container = client.getContainerClient(values.container ?? env.EVIDENCE_CONTAINER ?? "evidence");
  if (values.audit) {
    if (!values.instance) throw new UsageError("--audit needs --instance <orchestration instance id>");
    // Reading the trail checks no signature: no trusted key is needed.
    const none: TrustedKeys = { publicKeys: [], keyVaultKeys: [] };
    return {
      container,
      audit: true,
      scope,
      trust: none,
      trustSource: "",
      timestamps: NO_TIMESTAMP_TRUST,
      json: values.json ?? false,
      concurrency,
      quiet: true,
    };
  }
  const { trust, source } = trustedKeys(values["key-id"] ?? [], values["public-key"] ?? [], deps);
  const tsaFiles = values["tsa-ca"] ?? [];
  const timestamps: TimestampTrust = {
    anchors: tsaFiles.flatMap((file) => readCertificates(path.resolve(deps.cwd, file))),
    required: values["require-timestamp"] ?? false,
  };
  return {
    container,
    audit: false,
    scope,
    trust,
    trustSource: tsaFiles.length > 0 ? `${source}; TSA CA ${tsaFiles.join(", ")}` : source,
    timestamps,
    json: values.json ?? false,
    concurrency,
    quiet: values.quiet ?? false,
  };
}

/** The keys whose signatures count, from the arguments, the settings, or the development key. */
function trustedKeys(
  keyIdArgs: string[],
  publicKeyFiles: string[],
  deps: Pick<VerifyCommandDeps, "env" | "cwd" | "credential">,
): { trust: TrustedKeys; source: string } {
  const keyIds =
    keyIdArgs.length > 0
      ? keyIdArgs
      : publicKeyFiles.length === 0 && deps.env.MANIFEST_SIGNING_KEY_ID
        ? [deps.env.MANIFEST_SIGNING_KEY_ID]
        : [];
  const keyVaultKeys = keyIds.map((id) => {
    const parsed = parseKeyVaultKeyId(id);
    if (!parsed)
      throw new UsageError(`--key-id ${id} is not a Key Vault key identifier (https://<vault>.vault.azure.net/keys/<name>[/<version>])`);
    return parsed;
  });
  const publicKeys = publicKeyFiles.map((file) => readPublicKey(path.resolve(deps.cwd, file)));
  let source = [...keyIds.map((id) => `Key Vault key ${id}`), ...publicKeyFiles.map((f) => `public key ${f}`)].join(", ");
  if (keyVaultKeys.length === 0 && publicKeys.length === 0) {
    const file = path.resolve(deps.cwd, deps.env.MANIFEST_SIGNING_DEVELOPMENT_KEY_FILE ?? DEFAULT_DEVELOPMENT_SIGNING_KEY_FILE);
    if (!existsSync(file))
      throw new UsageError("no trusted signing key: give --key-id (the Key Vault key that signs manifests) or --public-key");
    publicKeys.push(readPublicKey(file));
    source = `the development key ${path.relative(deps.cwd, file)}`;
  }
  let credential: TokenCredential | undefined;
  const fetchKeyVaultKey = async (key: KeyVaultKeyId): Promise<KeyObject> => {
    credential ??= deps.credential();
    const fetched = await new KeyClient(key.vaultUrl, credential).getKey(key.name, { version: key.version });
    if (!fetched.key) throw new Error(`Key Vault returned no key material for ${key.vaultUrl}/keys/${key.name}/${key.version ?? ""}`);
    return publicKeyFromJsonWebKey(fetched.key);
  };
  const cache = new Map<string, Promise<KeyObject>>();
  const cached = (key: KeyVaultKeyId) => {
    const id = `${key.vaultUrl}/keys/${key.name}/${key.version ?? ""}`;
    if (!cache.has(id)) cache.set(id, fetchKeyVaultKey(key));
    return cache.get(id) as Promise<KeyObject>;
  };
  return { trust: { publicKeys, keyVaultKeys, fetchKeyVaultKey: cached }, source };
}

/** A PEM public key, or the public half of a PEM private key (the development key file). */
function readPublicKey(file: string): KeyObject {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new UsageError(`cannot read the key file ${file}`);
  }
  try {
    return /PRIVATE KEY/.test(text) ? createPublicKey(createPrivateKey(text)) : createPublicKey(text);
  } catch {
    throw new UsageError(`${file} is not a PEM key`);
  }
}

/** The certificates of a PEM file (one or several), or of a single DER certificate. */
function readCertificates(file: string): Uint8Array[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new UsageError(`cannot read the certificate file ${file}`);
  }
  const blocks = bytes.toString("latin1").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [bytes];
  try {
    return blocks.map((block) => new X509Certificate(block).raw);
  } catch {
    throw new UsageError(`${file} holds no readable X.509 certificate (PEM or DER)`);
  }
}

/**
 * Prints one collection's audit trail, oldest first: one line per record (or JSON). Exit code 1
 * when the trail holds no record or a line that is not one.
 */
async function printAudit(parsed: ParsedArgs, deps: VerifyCommandDeps): Promise<number> {
  const instanceId = parsed.scope.instanceId!;
  const { records, problems } = await readAuditRecords(parsed.container, parsed.scope.prefix, instanceId);
  if (parsed.json) deps.out(JSON.stringify({ instanceId, records, problems }, null, 2));
  else {
    for (const r of records) {
      const who = `${r.caller.name} (${r.caller.objectId}, ${r.caller.kind})`;
      deps.out([r.at, r.action.toUpperCase().padEnd(6), who, r.clientIp ?? "-", r.detail ?? ""].join("  ").trimEnd());
    }
    for (const p of problems) deps.out(`PROBLEM  ${p}`);
    deps.out(`${records.length} audit record(s) for ${instanceId}${problems.length ? `, ${problems.length} problem(s)` : ""}`);
  }
  return records.length === 0 || problems.length > 0 ? 1 : 0;
}

/** Two hash workers per blob read at once (SHA-256 and MD5 side by side), no more than the machine has cores, at least two. */
export function hashWorkers(concurrency: number): number {
  return Math.max(2, Math.min(2 * concurrency, cpus().length));
}

function describeScope(scope: VerifyScope): string {
  const parts = [
    `prefix ${scope.prefix}`,
    scope.machineId && `machine ${scope.machineId}`,
    scope.actionId && `action ${scope.actionId}`,
    scope.instanceId && `instance ${scope.instanceId}`,
  ];
  return parts.filter(Boolean).join(", ");
}

/** Progress on stderr: silent for the first two seconds, then at most every two seconds. */
function progressPrinter(deps: VerifyCommandDeps, started: number, now: () => number) {
  let last = started;
  let printed = false;
  return {
    update(p: VerifyProgress) {
      const at = now();
      if (at - last < 2000) return;
      last = at;
      printed = true;
      const line = progressLine(p, at - started);
      deps.err(deps.stderrIsTerminal ? `\r${line}` : line);
    },
    end() {
      if (printed && deps.stderrIsTerminal) deps.err("\n");
    },
  };
}
