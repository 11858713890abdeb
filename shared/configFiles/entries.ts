/**
 * One playbook, plan or alert rule before validation, wherever it came from: an element of a
 * setting's JSON array (`PLAYBOOKS[2]`) or a file (`config/playbooks/triage.json`). The validators
 * (shared/playbooks.ts, shared/collectionPlans.ts, shared/alerts/rules.ts) read both alike; only
 * how a problem is named differs.
 */
import type { SettingProblem } from "../errors";

export interface ConfigEntry {
  /** The entry as JSON parsed it. */
  value: unknown;
  /** What problems start from: `PLAYBOOKS[2]`, or the file's path relative to the app root. */
  at: string;
  /** True for an entry read from a file: a problem then names the file, and the field within it. */
  file?: boolean;
}

/**
 * The problem at `field` (a path the validators build from `entry.at`, e.g. `PLAYBOOKS[2].commands[0]`).
 * A setting's entry keeps the full path as the setting's name; a file's entry names the file and puts
 * the field in the problem: `config/playbooks/triage.json: commands[1].params[0].value: ...`.
 */
export function entryProblem(entry: ConfigEntry, field: string, problem: string): SettingProblem {
  if (!entry.file || !field.startsWith(entry.at)) return { setting: field, problem };
  const within = field.slice(entry.at.length).replace(/^\./, "");
  return { setting: entry.at, problem: within ? `${within}: ${problem}` : problem };
}

/** A setting's JSON array as entries named `${setting}[i]`. */
export function settingEntries(values: readonly unknown[], setting: string): ConfigEntry[] {
  return values.map((value, i) => ({ value, at: `${setting}[${i}]` }));
}
