/**
 * `npm run library:sync`: the command line around shared/library/librarySync.ts. Reads the MDE settings
 * the app reads (MDE_API_BASE_URL, MDE_TOKEN_SCOPE, MDE_ALLOWED_HOSTS, LOCAL_DEVELOPMENT), signs in with
 * DefaultAzureCredential (an identity holding Library.Manage), and against a loopback simulator with
 * LOCAL_DEVELOPMENT=true sends the development token instead.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import type { TokenCredential } from "@azure/identity";
import { hostRefusal, isLoopbackUrl, MDE_API_HOSTS } from "../shared/hostPolicy";
import { readLibraryDirectory } from "../shared/library/libraryFiles";
import { runLibrarySync, type SyncReport } from "../shared/library/librarySync";
import { StaticTokenCredential } from "../shared/mde/auth";
import { MdeClient } from "../shared/mde/client";
import { settingsReader } from "../shared/settingsReader";
import type { SettingProblem } from "../shared/errors";

export const LIBRARY_SYNC_USAGE = `Usage: npm run library:sync -- [--dry-run] [--dir <folder>] [--base-url <MDE API URL>]
Uploads to MDE's live response library every file of library/ that is missing there or differs
(POST /api/libraryfiles; OverrideIfExists only for a file that differs), then lists the library again
and checks each file's SHA-256. Files only MDE holds are listed and left alone.
  --dry-run            print the plan, change nothing (exit 1 when changes are pending: a drift check for CI)
  --dir <folder>       the reviewed files (default: library/ of the package)
  --base-url <url>     default MDE_API_BASE_URL or https://api.security.microsoft.com
Settings: MDE_API_BASE_URL, MDE_TOKEN_SCOPE, MDE_ALLOWED_HOSTS, LOCAL_DEVELOPMENT (a loopback simulator).
Signs in with DefaultAzureCredential; the identity needs the MDE application role Library.Manage.
Exit code: 0 in sync, 1 a mismatch or a refused upload (or pending changes with --dry-run), 2 the command could not run.`;

export interface LibrarySyncCommandDeps {
  env: Record<string, string | undefined>;
  /** The package root: library/ is resolved from it. */
  root: string;
  out: (line: string) => void;
  err: (line: string) => void;
  credential: () => TokenCredential;
  fetch?: typeof fetch;
}

/** Runs the sync with the given arguments; resolves to the exit code. */
export async function runLibrarySyncCommand(argv: string[], deps: LibrarySyncCommandDeps): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        "dry-run": { type: "boolean" },
        dir: { type: "string" },
        "base-url": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    deps.err(`library:sync: ${(e as Error).message}\n${LIBRARY_SYNC_USAGE}`);
    return 2;
  }
  if (values.help) {
    deps.out(LIBRARY_SYNC_USAGE);
    return 0;
  }
  const directory = path.resolve(deps.root, values.dir ?? "library");
  // Names and sizes first: nothing is sent while any file would be refused.
  const { files, problems } = readLibraryDirectory(directory);
  if (problems.length > 0) {
    for (const problem of problems) deps.err(`library:sync: ${problem}`);
    deps.err("library:sync: nothing was sent; fix the files above first");
    return 2;
  }
  const client = mdeClientFrom(values["base-url"], deps);
  if (typeof client === "string") {
    deps.err(`library:sync: ${client}`);
    return 2;
  }
  const dryRun = values["dry-run"] === true;
  deps.out(
    `library:sync: ${files.length} file(s) in ${path.relative(deps.root, directory) || "."} against ${client.baseUrl}${dryRun ? " (dry run)" : ""}`,
  );
  let report: SyncReport;
  try {
    report = await runLibrarySync({ mde: client.mde, local: files, dryRun, log: (line) => deps.out(`  ${line}`) });
  } catch (e) {
    deps.err(`library:sync: ${e instanceof Error ? e.message : String(e)}`);
    return 2;
  }
  printReport(report, deps.out);
  for (const f of report.failures) deps.err(`library:sync: ${f.fileName} was not uploaded: ${f.message}`);
  return report.ok ? 0 : 1;
}

function printReport(report: SyncReport, out: (line: string) => void): void {
  const verb = {
    upload: report.dryRun ? "would upload" : "uploaded",
    replace: report.dryRun ? "would replace" : "replaced",
    unchanged: "unchanged",
  };
  for (const step of report.steps) {
    const remote = step.remoteSha256 ? ` (MDE had ${step.remoteSha256})` : "";
    out(`  ${verb[step.action].padEnd(13)} ${step.fileName}  sha256 ${step.localSha256}${step.action === "replace" ? remote : ""}`);
  }
  for (const name of report.onlyInMde) out(`  only in MDE   ${name}  (left alone)`);
  for (const v of report.verified.filter((x) => !x.ok))
    out(`  MISMATCH      ${v.fileName}: expected ${v.expectedSha256}, MDE lists ${v.foundSha256 ?? "nothing"}`);
  const pending = report.steps.filter((s) => s.action !== "unchanged").length;
  out(
    report.dryRun
      ? pending === 0
        ? "In sync: nothing to do."
        : `Dry run: ${pending} change(s) pending; nothing was sent.`
      : report.ok
        ? pending === 0
          ? "In sync: nothing to do."
          : `In sync: ${pending} file(s) uploaded, every SHA-256 checked.`
        : "NOT in sync: see above.",
  );
}

/** The MDE client the app would build from the same settings, or a message naming the bad setting. */
function mdeClientFrom(baseUrlArg: string | undefined, deps: LibrarySyncCommandDeps): { mde: MdeClient; baseUrl: string } | string {
  const problems: SettingProblem[] = [];
  const reader = settingsReader(deps.env, problems);
  const localDevelopment = reader.bool("LOCAL_DEVELOPMENT", false);
  const baseUrl = (baseUrlArg ?? reader.url("MDE_API_BASE_URL", "https://api.security.microsoft.com"))?.replace(/\/+$/, "");
  const allowedHosts = { hosts: [...MDE_API_HOSTS, ...reader.hostList("MDE_ALLOWED_HOSTS")], allowLoopback: localDevelopment };
  if (problems.length > 0 || !baseUrl) return problems.map((p) => `${p.setting}: ${p.problem}`).join("; ");
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return `the MDE API base URL is not a URL: ${baseUrl}`;
  }
  const refusal = hostRefusal(url, allowedHosts);
  if (refusal)
    return `the MDE API base URL is refused: ${refusal} (documented MDE API hosts, MDE_ALLOWED_HOSTS, or a loopback simulator with LOCAL_DEVELOPMENT=true)`;
  const credential = localDevelopment && isLoopbackUrl(baseUrl) ? new StaticTokenCredential("local-development") : deps.credential();
  const mde = new MdeClient(baseUrl, credential, { allowedHosts, scope: reader.optional("MDE_TOKEN_SCOPE"), fetch: deps.fetch });
  return { mde, baseUrl };
}
