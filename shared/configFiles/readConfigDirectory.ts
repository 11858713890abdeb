/**
 * Reads the config directory deployed with the app: `playbooks/`, `plans/` and `alert-rules/`, one
 * JSON object per `<name>.json` file. Anything else in those folders, or beside them, is refused by
 * name: a typo'd `triage.jsn` silently ignored would leave a reviewed playbook out without a word.
 * `schemas/` (JSON Schemas for editors) and `examples/` (plans and rules that must not run) are not read.
 */
import { lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { SettingProblem } from "../errors";
import { echoName, isRecord, PLAYBOOK_NAME_PATTERN } from "../validation";

/** The kinds of file the loader reads, by folder. */
export const CONFIG_FOLDERS = { playbooks: "playbooks", plans: "plans", alertRules: "alert-rules" } as const;
export type ConfigKind = keyof typeof CONFIG_FOLDERS;

/** Folders of the config directory the loader never reads. */
export const UNLOADED_FOLDERS = ["schemas", "examples"] as const;

export const CONFIG_FILE_LIMITS = {
  /** Larger files are refused unread (a playbook of 20 commands with 4,096-character values is about 100 KiB). */
  maxFileBytes: 256 * 1024,
  /** More files in one folder are refused: a deployment that copied the wrong tree fails loudly. */
  maxFilesPerFolder: 200,
} as const;

/** One `<name>.json` file: its entry, or the problems that kept it from being read. */
export interface ConfigFile {
  /** The file name without `.json`: the name its entry must carry. */
  name: string;
  /** The path problems name: relative to the app root when inside it, with `/`. */
  at: string;
  /** The parsed object without `$schema`; absent when `problems` says why. */
  value?: unknown;
  /** Problems of this file alone (unreadable, not JSON, a `name` other than the file's). */
  problems: SettingProblem[];
}

export type ConfigFiles = Record<ConfigKind, ConfigFile[]> & {
  /** Problems of the directory: unknown files or folders, too many files. */
  problems: SettingProblem[];
};

const FILE_NAME = /^(.+)\.json$/;
const BYTE_ORDER_MARK = "\uFEFF";

/**
 * Reads every config file under `directory`, in file name order (code points, the same on every
 * platform): alert rules are tried in that order.
 * @param directory - absolute path of the config directory
 * @param labelBase - paths in problems are relative to this (the app root), when inside it
 * @param required - true when a setting named the directory: its absence is then a problem, not "no files"
 * @param setting - the setting that named the directory, for that problem
 */
export function readConfigDirectory(directory: string, labelBase: string, required: boolean, setting: string): ConfigFiles {
  const files: ConfigFiles = { playbooks: [], plans: [], alertRules: [], problems: [] };
  const label = (p: string) => {
    const relative = path.relative(labelBase, p);
    return (relative.startsWith("..") || path.isAbsolute(relative) ? p : relative).split(path.sep).join("/");
  };
  const folderProblem = (p: string, problem: string) => files.problems.push({ setting: label(p), problem });
  // The directory itself may be a link (a setting pointing at a mounted share); what it holds may not.
  const top = statOrUndefined(directory, true);
  if (!top) {
    if (required) files.problems.push({ setting, problem: `names ${directory}, which does not exist` });
    return files;
  }
  if (!top.isDirectory()) {
    files.problems.push({ setting: required ? setting : label(directory), problem: `${directory} is not a folder` });
    return files;
  }
  const kinds = Object.entries(CONFIG_FOLDERS) as [ConfigKind, string][];
  const known = new Set<string>([...Object.values(CONFIG_FOLDERS), ...UNLOADED_FOLDERS]);
  const folders = `${Object.values(CONFIG_FOLDERS).join("/, ")}/ (loaded) and ${UNLOADED_FOLDERS.join("/, ")}/ (not loaded)`;
  for (const entry of sortedNames(directory)) {
    const full = path.join(directory, entry);
    if (!known.has(entry) || !lstatSync(full).isDirectory())
      folderProblem(full, `unknown entry in the config directory: it holds only the folders ${folders}`);
  }
  for (const [kind, folder] of kinds) {
    const dir = path.join(directory, folder);
    try {
      files[kind] = readFolder(dir, folder, label, folderProblem);
    } catch (e) {
      folderProblem(dir, `cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return files;
}

function readFolder(
  dir: string,
  folder: string,
  label: (p: string) => string,
  folderProblem: (p: string, problem: string) => void,
): ConfigFile[] {
  const stat = statOrUndefined(dir);
  if (!stat) return [];
  if (!stat.isDirectory()) {
    folderProblem(dir, "must be a folder of <name>.json files");
    return [];
  }
  const names = sortedNames(dir);
  if (names.length > CONFIG_FILE_LIMITS.maxFilesPerFolder) {
    folderProblem(dir, `holds ${names.length} entries; at most ${CONFIG_FILE_LIMITS.maxFilesPerFolder} files are read`);
    return [];
  }
  const files: ConfigFile[] = [];
  for (const fileName of names) {
    const full = path.join(dir, fileName);
    const name = FILE_NAME.exec(fileName)?.[1];
    const stat = lstatSync(full);
    if (name === undefined || !PLAYBOOK_NAME_PATTERN.test(name)) {
      folderProblem(full, `not a config file: ${folder}/ holds only <name>.json files, name 1-64 letters, digits, '.', '_', '-'`);
    } else if (!stat.isFile()) {
      folderProblem(full, "must be a regular file (not a folder or a link)");
    } else {
      files.push(readConfigFile(full, label(full), name, stat.size));
    }
  }
  return files;
}

/** Reads one file: bounded, UTF-8, one JSON object whose `name` is the file's name. */
function readConfigFile(full: string, at: string, name: string, size: number): ConfigFile {
  const file: ConfigFile = { name, at, problems: [] };
  const problem = (text: string) => (file.problems.push({ setting: at, problem: text }), file);
  if (size > CONFIG_FILE_LIMITS.maxFileBytes) return problem(`is ${size} bytes; at most ${CONFIG_FILE_LIMITS.maxFileBytes} are read`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(full);
  } catch (e) {
    return problem(`cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return problem("is not UTF-8 text");
  }
  let value: unknown;
  try {
    // Editors on Windows may save a byte order mark; JSON.parse refuses one.
    value = JSON.parse(text.startsWith(BYTE_ORDER_MARK) ? text.slice(1) : text);
  } catch (e) {
    return problem(`is not valid JSON: ${(e as Error).message}`);
  }
  if (!isRecord(value)) return problem(`must hold one JSON object (one entry per file), named "${name}" like the file`);
  const { $schema: schema, ...entry } = value;
  if (schema !== undefined && typeof schema !== "string") return problem("$schema: must be a string (the schema's path, for editors)");
  if (typeof entry.name === "string" && entry.name !== name)
    return problem(`name: must be "${name}", the file's name without .json (found "${echoName(entry.name)}")`);
  file.value = entry;
  return file;
}

function statOrUndefined(p: string, followLink = false) {
  try {
    return followLink ? statSync(p) : lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/** Entry names in code point order, so the order never depends on the platform or its locale. */
function sortedNames(dir: string): string[] {
  return readdirSync(dir).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
