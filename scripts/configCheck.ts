/**
 * `npm run config:check [-- --settings local.settings.json]`: validates the playbooks, collection
 * plans and alert rules the app would load (the files under config/, or CONFIG_DIRECTORY, with the
 * PLAYBOOKS, COLLECTION_PLANS and ALERT_RULES settings over them) with the app's own loader, without
 * starting anything. Prints each problem (file and field, or setting) and exits 1 on any; prints a
 * one-line summary and exits 0 when clean; exits 2 on a bad command line or settings file.
 */
import path from "node:path";
import { mergeWithEnvironment, readSettingsFile } from "../devhost";
import { findAppRoot } from "../shared/configFiles/appRoot";
import { readDefinitions, type Definitions } from "../shared/configFiles/definitions";
import type { SettingProblem } from "../shared/errors";
import { settingsReader, type Env } from "../shared/settingsReader";

export interface ConfigCheckIo {
  /** The app settings from the environment (an entry here wins over the --settings file, as in `npm start`). */
  env: Env;
  /** The app root: config/ is read there, and a relative --settings path or CONFIG_DIRECTORY resolves against it. */
  appRoot: string;
  out: (line: string) => void;
  err: (line: string) => void;
}

const USAGE =
  "usage: npm run config:check [-- --settings <local.settings.json>]\n" +
  "Validates config/playbooks, config/plans and config/alert-rules (or CONFIG_DIRECTORY) and the PLAYBOOKS,\n" +
  "COLLECTION_PLANS and ALERT_RULES settings over them, from the environment and the --settings file.";

/**
 * Runs the check.
 * @returns the exit code: 0 clean, 1 problems found, 2 usage or settings file error
 */
export function runConfigCheck(args: readonly string[], io: ConfigCheckIo): number {
  let settingsFile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--help" || arg === "-h") {
      io.out(USAGE);
      return 0;
    }
    if (arg === "--settings" && args[i + 1] !== undefined && settingsFile === undefined) settingsFile = args[++i];
    else {
      io.err(`config:check: unexpected argument "${arg}"\n${USAGE}`);
      return 2;
    }
  }
  let env: Env = io.env;
  if (settingsFile !== undefined) {
    try {
      env = mergeWithEnvironment(readSettingsFile(path.resolve(io.appRoot, settingsFile)).values, io.env).settings;
    } catch (e) {
      io.err(`config:check: ${(e as Error).message}`);
      return 2;
    }
  }
  const problems: SettingProblem[] = [];
  const reader = settingsReader(env, problems);
  const allowUncPaths = reader.bool("GETFILE_ALLOW_UNC_PATHS", false);
  const definitions = readDefinitions(reader, problems, { allowUncPaths, appRoot: io.appRoot });
  if (problems.length > 0) {
    for (const p of problems) io.err(`${p.setting}: ${p.problem}`);
    io.err(`config:check: ${problems.length} problem${problems.length === 1 ? "" : "s"}; the app would not start`);
    return 1;
  }
  io.out(summary(definitions, io.appRoot));
  return 0;
}

function summary(d: Definitions, appRoot: string): string {
  const part = (count: number, noun: string, c: { files: number; settings: number }) =>
    `${count} ${noun} (${c.files} from files, ${c.settings} from settings)`;
  const where = d.directory === undefined ? "no config directory" : path.relative(appRoot, d.directory) || ".";
  const replaced = d.overridden.length > 0 ? `; ${d.overridden.length} file(s) replaced by settings` : "";
  return (
    `config:check: OK: ${part(d.playbooks.size, "playbooks", d.counts.playbooks)}, ${part(d.plans.length, "plans", d.counts.plans)}, ` +
    `${part(d.alertRules.length, "alert rules", d.counts.alertRules)} in ${where}${replaced}`
  );
}

if (require.main === module) {
  process.exitCode = runConfigCheck(process.argv.slice(2), {
    env: process.env,
    // dist-tools/scripts/configCheck.js: the package root is the nearest folder with package.json.
    appRoot: findAppRoot(__dirname) ?? process.cwd(),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
}
