/**
 * The settings (PLAYBOOKS, COLLECTION_PLANS, ALERT_RULES) override the files: a setting's entry with
 * the name of a file replaces that file's entry, in the file's place (alert rules keep their order);
 * the setting's other entries follow the files, in the setting's order.
 */
import type { SettingProblem } from "../errors";
import { isRecord } from "../validation";
import type { ConfigEntry } from "./entries";
import type { ConfigFile } from "./readConfigDirectory";

export interface MergedEntries {
  entries: ConfigEntry[];
  /** Problems of the files that were used (a replaced file's problems do not stop the app: the setting stands in for it). */
  problems: SettingProblem[];
  /** Each replaced file, and the setting entry that replaced it. */
  overridden: { file: string; by: string }[];
}

/** The name an entry would be known by: the same `name` the validators read (alert rules trim theirs). */
const nameOf = (entry: ConfigEntry): string | undefined =>
  isRecord(entry.value) && typeof entry.value.name === "string" ? entry.value.name.trim() : undefined;

/** Merges one kind's files (in file name order) with the setting's entries. */
export function withOverrides(files: readonly ConfigFile[], settings: readonly ConfigEntry[]): MergedEntries {
  const byName = new Map<string, ConfigEntry>();
  for (const entry of settings) {
    const name = nameOf(entry);
    // A second entry of the same name stays in the list below, where the validator names the duplicate.
    if (name !== undefined && !byName.has(name)) byName.set(name, entry);
  }
  const merged: MergedEntries = { entries: [], problems: [], overridden: [] };
  const used = new Set<ConfigEntry>();
  for (const file of files) {
    const override = byName.get(file.name);
    if (override) {
      merged.entries.push(override);
      merged.overridden.push({ file: file.at, by: override.at });
      used.add(override);
      continue;
    }
    merged.problems.push(...file.problems);
    if (file.value !== undefined) merged.entries.push({ value: file.value, at: file.at, file: true });
  }
  merged.entries.push(...settings.filter((entry) => !used.has(entry)));
  return merged;
}
