/**
 * Playbooks: named, validated lists of live response commands whose param values (and comment)
 * may reference the trigger's data with `{{placeholders}}`. Loaded once from the `PLAYBOOKS`
 * setting; rendered by each starter; the rendered commands are validated again with the
 * webhook's rules, so a substituted GetFile path must still be a valid value.
 */
import { entryProblem, settingEntries, type ConfigEntry } from "./configFiles/entries";
import type { SettingProblem } from "./errors";
import { LIBRARY_FILE_NAME_PATTERN, type LiveResponseCommand } from "./mde/models";
import {
  boundProblems,
  commentProblem,
  echoName,
  isRecord,
  PARAMETER_NAME_PATTERN,
  PLAYBOOK_NAME_PATTERN,
  validateCommands,
  type CommandValidationOptions,
  type FieldProblem,
  type Validated,
} from "./validation";

/** Every placeholder a playbook may use besides `{{params.<name>}}`, and what fills it. */
export const PLACEHOLDERS = {
  "alert.id": "the alert's id (Graph, MDE or Sentinel SystemAlertId)",
  "alert.title": "the alert's title (Sentinel: AlertName)",
  "alert.severity": "informational, low, medium or high",
  "alert.category": "the alert's category",
  "alert.filePath": "full path of the alert's first file evidence (its directory joined with its file name)",
  "alert.fileDirectory": "directory of the alert's first file evidence",
  "alert.fileName": "file name of the alert's first file evidence",
  "alert.fileSha256": "SHA-256 of the alert's first file evidence",
  "machine.id": "the MDE machine id the collection runs on",
  "machine.computerDnsName": "the device's DNS name (alerts; plans that select machines with a filter)",
  "plan.name": "the collection plan's name",
  "plan.scheduledFor": "the schedule occurrence the run belongs to (ISO 8601, UTC)",
} as const;

export type PlaceholderName = keyof typeof PLACEHOLDERS;
/** Who starts the collection: decides which placeholders can have a value. */
export type PlaceholderContext = "webhook" | "schedule" | "alert";

const AVAILABLE: Record<PlaceholderContext, readonly string[]> = {
  webhook: ["machine.id", "params."],
  schedule: ["machine.", "plan.", "params."],
  alert: ["alert.", "machine.", "params."],
};

export interface Playbook {
  name: string;
  description?: string;
  /** May hold placeholders; rendered into the MDE comment. */
  comment?: string;
  /** Templates: param values may hold placeholders. */
  commands: LiveResponseCommand[];
  /** Every placeholder the playbook uses, e.g. `alert.filePath`, `params.ticket`. */
  placeholders: string[];
  /**
   * The reviewed SHA-256 (lowercase hex) of library files the commands name, by library file name
   * (`ScriptName`/`FileName`): the library check refuses a collection whose library file differs.
   */
  librarySha256?: Record<string, string>;
}

export type PlaybookCatalog = ReadonlyMap<string, Playbook>;

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const PLAYBOOK_FIELDS = new Set(["name", "description", "comment", "commands", "librarySha256"]);
/** The params that name a live response library file. */
const LIBRARY_FILE_KEYS = new Set(["ScriptName", "FileName"]);
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
/** Longer names are refused: a pin's name is echoed in problems and recorded in manifests. */
const MAX_LIBRARY_FILE_NAME_LENGTH = 255;
/** Pins one playbook may carry: a placeholder ScriptName may stand for several reviewed scripts, not for a whole library. */
const MAX_LIBRARY_PINS = 50;

/** Why a template string is unusable (unknown or malformed placeholder), or undefined. */
function templateProblem(text: string): string | undefined {
  for (const [, name] of text.matchAll(PLACEHOLDER)) {
    if (!isKnownPlaceholder(name!)) {
      return `unknown placeholder {{${name}}}: use one of ${Object.keys(PLACEHOLDERS)
        .map((p) => `{{${p}}}`)
        .join(", ")} or {{params.<name>}}`;
    }
  }
  if (/\{\{|\}\}/.test(text.replace(PLACEHOLDER, ""))) return "has an unclosed or malformed {{placeholder}}";
  return undefined;
}

function isKnownPlaceholder(name: string): boolean {
  if (name in PLACEHOLDERS) return true;
  return name.startsWith("params.") && PARAMETER_NAME_PATTERN.test(name.slice("params.".length));
}

const placeholdersIn = (text: string): string[] => [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);

/** A copy of raw (unvalidated) commands with every string param value mapped by `f`. */
function mapRawValues(raw: unknown[], f: (value: string) => string): unknown[] {
  return raw.map((c) =>
    isRecord(c) && Array.isArray(c.params)
      ? { ...c, params: c.params.map((p) => (isRecord(p) && typeof p.value === "string" ? { ...p, value: f(p.value) } : p)) }
      : c,
  );
}

/** The template value of command j, param k; only called once the commands validated, so it exists. */
function rawValue(raw: unknown[], j: number, k: number): string {
  return (raw[j] as { params: { value: string }[] }).params[k]!.value;
}

/**
 * Parses and validates the `PLAYBOOKS` setting: a JSON array of
 * `{ name, description?, comment?, commands, librarySha256? }` (see {@link readPlaybooks}).
 * @param raw - the setting's value; undefined or empty means no playbooks
 * @param options - as rendering will apply them (a literal UNC path is refused here unless allowed)
 */
export function parsePlaybooks(
  raw: string | undefined,
  setting = "PLAYBOOKS",
  options: CommandValidationOptions = {},
): { catalog: PlaybookCatalog; problems: SettingProblem[] } {
  const { entries, problems } = parseSettingArray(raw, setting);
  const read = readPlaybooks(entries, options);
  return { catalog: read.catalog, problems: [...problems, ...read.problems] };
}

/**
 * Validates playbooks from the setting or from files (shared/configFiles). Commands are checked with
 * the webhook's rules (placeholders stand in as plain text), every placeholder must be known, and each
 * `librarySha256` pin must name a library file the commands use; problems name the entry, e.g.
 * `PLAYBOOKS[2].commands[0].params` or `config/playbooks/triage.json: commands[0].params`.
 */
export function readPlaybooks(
  entries: readonly ConfigEntry[],
  options: CommandValidationOptions = {},
): { catalog: PlaybookCatalog; problems: SettingProblem[] } {
  const problems: SettingProblem[] = [];
  const catalog = new Map<string, Playbook>();
  for (const source of entries) {
    const at = source.at;
    const entry = source.value;
    const add = (field: string, problem: string) => problems.push(entryProblem(source, field, problem));
    if (!isRecord(entry)) {
      add(at, "must be an object: { name, description?, comment?, commands, librarySha256? }");
      continue;
    }
    const before = problems.length;
    for (const key of Object.keys(entry))
      if (!PLAYBOOK_FIELDS.has(key)) add(`${at}.${echoName(key)}`, `unknown field (fields: ${[...PLAYBOOK_FIELDS].join(", ")})`);
    const name = entry.name;
    if (typeof name !== "string" || !PLAYBOOK_NAME_PATTERN.test(name)) add(`${at}.name`, "required: 1-64 letters, digits, '.', '_', '-'");
    else if (catalog.has(name)) add(`${at}.name`, `"${name}" is defined twice`);
    if (entry.description !== undefined && typeof entry.description !== "string") add(`${at}.description`, "must be a string");
    if (entry.comment !== undefined) {
      const problem = commentProblem(entry.comment) ?? templateProblem(entry.comment as string);
      if (problem) add(`${at}.comment`, problem);
    }
    // Placeholders first, then the structure with each placeholder replaced by plain text (a
    // placeholder in a ScriptName is fine; the rendered value is checked again at render time).
    const raw = Array.isArray(entry.commands) ? entry.commands : undefined;
    raw?.forEach((c, j) => {
      if (!isRecord(c) || !Array.isArray(c.params)) return;
      c.params.forEach((param, k) => {
        const problem = isRecord(param) && typeof param.value === "string" ? templateProblem(param.value) : undefined;
        if (problem) add(`${at}.commands[${j}].params[${k}].value`, problem);
      });
    });
    if (problems.length > before) continue;
    const sampled = raw ? mapRawValues(raw, (v) => v.replace(PLACEHOLDER, "placeholder")) : entry.commands;
    const checked = validateCommands(sampled, add, `${at}.commands`, options);
    if (problems.length > before) continue;
    const commands = checked.map((c, j) => ({
      type: c.type,
      params: c.params.map((p, k) => ({ key: p.key, value: rawValue(raw!, j, k) })),
    }));
    const librarySha256 = readLibraryPins(entry.librarySha256, commands, `${at}.librarySha256`, add);
    if (problems.length > before) continue;
    const texts = [...commands.flatMap((c) => c.params.map((p) => p.value)), ...(entry.comment ? [entry.comment as string] : [])];
    catalog.set(name as string, {
      name: name as string,
      ...(entry.description !== undefined ? { description: entry.description as string } : {}),
      ...(entry.comment !== undefined ? { comment: entry.comment as string } : {}),
      commands,
      placeholders: [...new Set(texts.flatMap(placeholdersIn))].sort(),
      ...(librarySha256 ? { librarySha256 } : {}),
    });
  }
  return { catalog, problems };
}

/**
 * Reads `librarySha256`: `{ "<library file name>": "<SHA-256, 64 hex>" }`, stored lowercase. Every name
 * must be a ScriptName or FileName of the commands (a pin for a file the playbook never names is a typo
 * that would check nothing), unless a command takes its library file from a placeholder.
 */
function readLibraryPins(
  value: unknown,
  commands: LiveResponseCommand[],
  at: string,
  add: (field: string, problem: string) => void,
): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value) || Object.keys(value).length === 0) {
    add(at, 'must be a non-empty object of library file name to SHA-256, e.g. { "Collect-Triage.ps1": "<64 hex>" }');
    return undefined;
  }
  if (Object.keys(value).length > MAX_LIBRARY_PINS) {
    add(at, `at most ${MAX_LIBRARY_PINS} library files`);
    return undefined;
  }
  const libraryFiles = commands.flatMap((c) => c.params.filter((p) => LIBRARY_FILE_KEYS.has(p.key)).map((p) => p.value));
  const templated = libraryFiles.some((f) => placeholdersIn(f).length > 0);
  const pins: Record<string, string> = {};
  for (const [file, hash] of Object.entries(value)) {
    const field = `${at}.${echoName(file)}`;
    if (!LIBRARY_FILE_NAME_PATTERN.test(file) || /^\.+$/.test(file) || file.length > MAX_LIBRARY_FILE_NAME_LENGTH)
      add(field, `must be a live response library file name: 1-${MAX_LIBRARY_FILE_NAME_LENGTH} letters, digits, '.', '_', '-'`);
    else if (!templated && !libraryFiles.includes(file))
      add(field, `names no ScriptName or FileName of this playbook's commands (${libraryFiles.join(", ") || "none"})`);
    else if (typeof hash !== "string" || !SHA256_HEX.test(hash)) add(field, "must be a SHA-256: exactly 64 hexadecimal characters");
    else pins[file] = hash.toLowerCase();
  }
  return pins;
}

/** Parses a JSON-array setting; problems go to `add`. Undefined or blank is an empty array. */
export function parseJsonArray(raw: string | undefined, setting: string, add: (at: string, problem: string) => void): unknown[] {
  if (raw === undefined || raw.trim() === "") return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    add(setting, `is not valid JSON: ${(e as Error).message}`);
    return [];
  }
  if (!Array.isArray(value)) {
    add(setting, "must be a JSON array");
    return [];
  }
  return value;
}

/**
 * Reads entries of objects (COLLECTION_PLANS, ALERT_RULES, or their files): each entry must be an
 * object with only `fields`; `read` parses one entry (problems go to `add`, named from `at`, e.g.
 * `ALERT_RULES[1].name` or the file's path), and an entry with any problem yields nothing.
 * @param shape - how an entry looks, for the "must be an object" problem
 */
export function readEntries<T>(
  entries: readonly ConfigEntry[],
  fields: ReadonlySet<string>,
  shape: string,
  read: (entry: Record<string, unknown>, at: string, add: (at: string, problem: string) => void, earlier: readonly T[]) => T | undefined,
): { values: T[]; problems: SettingProblem[] } {
  const problems: SettingProblem[] = [];
  const values: T[] = [];
  for (const source of entries) {
    const { at, value: entry } = source;
    const add = (field: string, problem: string) => problems.push(entryProblem(source, field, problem));
    if (!isRecord(entry)) {
      add(at, `must be an object: ${shape}`);
      continue;
    }
    const before = problems.length;
    for (const key of Object.keys(entry))
      if (!fields.has(key)) add(`${at}.${echoName(key)}`, `unknown field (fields: ${[...fields].join(", ")})`);
    const value = read(entry, at, add, values);
    if (problems.length === before && value !== undefined) values.push(value);
  }
  return { values, problems };
}

/** A JSON-array setting's entries, named `${setting}[i]`; undefined or blank is none. */
export function parseSettingArray(raw: string | undefined, setting: string): { entries: ConfigEntry[]; problems: SettingProblem[] } {
  const problems: SettingProblem[] = [];
  const list = parseJsonArray(raw, setting, (at, problem) => problems.push({ setting: at, problem }));
  return { entries: settingEntries(list, setting), problems };
}

/** Placeholders of `playbook` that `context` can never fill (checked when plans and rules load). */
export function unavailablePlaceholders(playbook: Playbook, context: PlaceholderContext): string[] {
  return playbook.placeholders.filter(
    (p) => !AVAILABLE[context].some((prefix) => (prefix.endsWith(".") ? p.startsWith(prefix) : p === prefix)),
  );
}

/** Values for the placeholders, by full name (`alert.id`); `params.*` come from `parameters`. */
export type PlaceholderValues = Partial<Record<PlaceholderName, string>>;

/**
 * Substitutes the placeholders and validates the result again with the webhook's rules: a value
 * that arrives through a placeholder (an alert's file path, a caller's parameter) meets the same
 * checks as one typed into a request, network and device paths included.
 * @param parameters - values of `{{params.<name>}}`; a name the playbook does not use is refused
 * @param options - `allowUncPaths` (the GETFILE_ALLOW_UNC_PATHS setting); @default refused
 * @returns the commands and comment, or problems naming `commands[i].params[j].value`, `parameters.<name>` or `comment`
 */
export function renderPlaybook(
  playbook: Playbook,
  context: PlaceholderContext,
  values: PlaceholderValues,
  parameters: Record<string, string> = {},
  options: CommandValidationOptions = {},
): Validated<{ commands: LiveResponseCommand[]; comment?: string }> {
  const problems: FieldProblem[] = [];
  const add = (field: string, message: string) => problems.push({ field, message });
  for (const name of Object.keys(parameters)) {
    if (!playbook.placeholders.includes(`params.${name}`))
      add(`parameters.${echoName(name)}`, `playbook "${playbook.name}" has no {{params.${name}}} placeholder`);
  }
  const unavailable = new Set(unavailablePlaceholders(playbook, context));
  const lookup = (name: string): string | undefined =>
    name.startsWith("params.") ? parameters[name.slice("params.".length)] : values[name as PlaceholderName];
  const substitute = (text: string, field: string): string =>
    text.replace(PLACEHOLDER, (_m, name: string) => {
      const value = unavailable.has(name) ? undefined : lookup(name);
      if (value === undefined || value === "") {
        add(
          field,
          unavailable.has(name)
            ? `{{${name}}} is not available to a ${context} collection`
            : `{{${name}}} has no value for this collection`,
        );
        return "";
      }
      return value;
    });
  const substituted = playbook.commands.map((c, i) => ({
    type: c.type,
    params: c.params.map((p, j) => ({ key: p.key, value: substitute(p.value, `commands[${i}].params[${j}].value`) })),
  }));
  const comment = playbook.comment === undefined ? undefined : substitute(playbook.comment, "comment").trim();
  if (problems.length > 0) return { ok: false, problems: boundProblems(problems) };
  // The same rules as a webhook request: a substituted value must still be a valid value.
  const commands = validateCommands(substituted, add, "commands", options);
  if (comment !== undefined) {
    const problem = commentProblem(comment);
    if (problem) add("comment", problem);
  }
  if (problems.length > 0) return { ok: false, problems: boundProblems(problems) };
  return { ok: true, value: { commands, ...(comment !== undefined ? { comment } : {}) } };
}

/** For messages: the known playbook names. */
export function playbookNames(catalog: PlaybookCatalog): string {
  return catalog.size === 0 ? "(none in config/playbooks/ or PLAYBOOKS)" : [...catalog.keys()].join(", ");
}
