/**
 * Playbooks, collection plans and alert rules: read from the config directory deployed with the app
 * (`config/` in the app root, or CONFIG_DIRECTORY), overridden entry by entry by the PLAYBOOKS,
 * COLLECTION_PLANS and ALERT_RULES settings, and validated by the same parsers either way. The config
 * loader (shared/config.ts) and `npm run config:check` (scripts/configCheck.ts) both call this.
 */
import path from "node:path";
import { readAlertRules, type AlertRule } from "../alerts/rules";
import { readCollectionPlans, type CollectionPlan } from "../collectionPlans";
import type { SettingProblem } from "../errors";
import { parseSettingArray, readPlaybooks, type PlaybookCatalog } from "../playbooks";
import type { SettingsReader } from "../settingsReader";
import { withOverrides, type MergedEntries } from "./overrides";
import { readConfigDirectory, type ConfigFiles, type ConfigKind } from "./readConfigDirectory";

/** The default config directory, under the app root. */
export const CONFIG_DIRECTORY_NAME = "config";

export interface Definitions {
  playbooks: PlaybookCatalog;
  plans: CollectionPlan[];
  alertRules: AlertRule[];
  /** The directory read, or undefined when none was (no app root and no CONFIG_DIRECTORY). */
  directory?: string;
  /** Entries of each kind by where they came from, after overrides (config:check prints them). */
  counts: Record<ConfigKind, { files: number; settings: number }>;
  /** Files a setting's entry replaced. */
  overridden: { file: string; by: string }[];
}

export interface DefinitionOptions {
  /** GETFILE_ALLOW_UNC_PATHS, as rendering applies it. */
  allowUncPaths: boolean;
  /**
   * The directory holding package.json (in Azure the deployed wwwroot): `config/` is read there, and a
   * relative CONFIG_DIRECTORY is resolved against it. Without it (tests, tools) only CONFIG_DIRECTORY
   * is read, relative to the working directory.
   */
  appRoot?: string;
}

/**
 * Reads the files and the three settings; pushes every problem, naming the file and field
 * (`config/plans/nightly.json: machineIds[0]: ...`) or the setting's entry (`COLLECTION_PLANS[0].machineIds[0]`).
 */
export function readDefinitions(reader: SettingsReader, problems: SettingProblem[], options: DefinitionOptions): Definitions {
  const { files, directory } = configFiles(reader, options.appRoot);
  problems.push(...files.problems);
  const overridden: Definitions["overridden"] = [];
  const merge = (kind: ConfigKind, setting: string, raw: string | undefined): MergedEntries => {
    const fromSetting = parseSettingArray(raw, setting);
    const merged = withOverrides(files[kind], fromSetting.entries);
    problems.push(...fromSetting.problems, ...merged.problems);
    overridden.push(...merged.overridden);
    return merged;
  };
  const counts = (merged: MergedEntries) => ({
    files: merged.entries.filter((e) => e.file).length,
    settings: merged.entries.filter((e) => !e.file).length,
  });

  // Playbooks first: plans and rules are checked against them.
  const playbookEntries = merge("playbooks", "PLAYBOOKS", reader.optional("PLAYBOOKS"));
  const playbooks = readPlaybooks(playbookEntries.entries, { allowUncPaths: options.allowUncPaths });
  problems.push(...playbooks.problems);
  const planEntries = merge("plans", "COLLECTION_PLANS", reader.optional("COLLECTION_PLANS"));
  const plans = readCollectionPlans(planEntries.entries, playbooks.catalog);
  problems.push(...plans.problems);
  const ruleEntries = merge("alertRules", "ALERT_RULES", reader.optional("ALERT_RULES"));
  const rules = readAlertRules(ruleEntries.entries, playbooks.catalog);
  problems.push(...rules.problems);
  return {
    playbooks: playbooks.catalog,
    plans: plans.plans,
    alertRules: rules.rules,
    ...(directory !== undefined ? { directory } : {}),
    counts: { playbooks: counts(playbookEntries), plans: counts(planEntries), alertRules: counts(ruleEntries) },
    overridden,
  };
}

function configFiles(reader: SettingsReader, appRoot: string | undefined): { files: ConfigFiles; directory?: string } {
  const configured = reader.optional("CONFIG_DIRECTORY");
  if (configured === undefined && appRoot === undefined) return { files: { playbooks: [], plans: [], alertRules: [], problems: [] } };
  const base = appRoot ?? process.cwd();
  const directory = path.resolve(base, configured ?? CONFIG_DIRECTORY_NAME);
  return { files: readConfigDirectory(directory, base, configured !== undefined, "CONFIG_DIRECTORY"), directory };
}
