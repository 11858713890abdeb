import {
  LIBRARY_FILE_NAME_PATTERN,
  LIVE_RESPONSE_COMMAND_TYPES,
  MACHINE_ID_PATTERN,
  type LiveResponseCommand,
  type LiveResponseCommandType,
} from "./mde/models";
import { escapeUnsafeCharacters, hasUnsafeCharacters, UNSAFE_CHARACTERS_MESSAGE } from "./unsafeCharacters";

export { hasUnsafeCharacters, UNSAFE_CHARACTERS_MESSAGE } from "./unsafeCharacters";

/** One bad field of a request, named by its JSON path (for example `commands[1].params`). */
export interface FieldProblem {
  field: string;
  message: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; problems: FieldProblem[] };

/** A named playbook and the values of its `{{params.*}}` placeholders (shared/playbooks.ts). */
export interface PlaybookReference {
  name: string;
  parameters: Record<string, string>;
}

/**
 * A live response request as the webhook accepts it: exactly one of `commands` (exactly the shape
 * of MDE's `Commands`) or `playbook` is set.
 */
export interface CollectionRequestBody {
  machineId: string;
  commands?: LiveResponseCommand[];
  playbook?: PlaybookReference;
  comment: string;
  idempotencyKey?: string;
}

/** How commands are checked beyond MDE's own rules. */
export interface CommandValidationOptions {
  /**
   * Accept GetFile paths on network shares (`\\server\share`, `//server/share`) and in device
   * namespaces (`\\?\`, `\\.\`, `\??\`). @default false (the GETFILE_ALLOW_UNC_PATHS setting)
   */
  allowUncPaths?: boolean;
}

export const REQUEST_LIMITS = {
  /** Larger bodies are refused before parsing. */
  maxBodyBytes: 64 * 1024,
  maxCommands: 20,
  maxCommentLength: 1000,
  maxParamValueLength: 4096,
  maxIdempotencyKeyLength: 200,
  maxPlaybookParameters: 20,
  /** Problems an answer lists; the rest are counted in one last entry, so an error body stays small. */
  maxListedProblems: 20,
  /** Characters of a caller's field name or key echoed in a problem; longer ones are cut and end with "…". */
  maxEchoedNameLength: 100,
} as const;

/**
 * The collector appends ` [collector:<instanceId>]` to every MDE comment to find its own action
 * again after a lost answer (orchestrators/steps.ts); a caller's text must not carry it.
 */
export const CORRELATION_MARKER_PREFIX = "[collector:";

/** Playbook names: what a log line, a setting and a URL can carry without quoting. */
export const PLAYBOOK_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** Names of `{{params.<name>}}` placeholders. */
export const PARAMETER_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

export const DEFAULT_COMMENT = "Evidence collection by mde-live-response-collector";

/**
 * Which params each command takes, and which are required ("Commands" of Run live response:
 * https://learn.microsoft.com/defender-endpoint/api/run-live-response).
 */
const PARAMS_BY_TYPE: Record<LiveResponseCommandType, { required: string[]; optional: string[] }> = {
  PutFile: { required: ["FileName"], optional: [] },
  RunScript: { required: ["ScriptName"], optional: ["Args"] },
  GetFile: { required: ["Path"], optional: [] },
};

/** Commands must come as PutFile, then RunScript, then GetFile, any number of each (same page); another order is refused. */
const TYPE_ORDER: Record<LiveResponseCommandType, number> = { PutFile: 0, RunScript: 1, GetFile: 2 };

const TOP_LEVEL_FIELDS = new Set(["machineId", "commands", "playbook", "comment", "idempotencyKey"]);

/** True for a plain JSON object (not null, not an array). */
export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * A name or key the caller chose, as a problem may echo it: at most
 * {@link REQUEST_LIMITS.maxEchoedNameLength} characters (then "…"), unsafe characters as `\uXXXX`.
 */
export function echoName(name: string): string {
  const max = REQUEST_LIMITS.maxEchoedNameLength;
  return escapeUnsafeCharacters(name.length <= max ? name : `${name.slice(0, max)}…`);
}

/**
 * The first {@link REQUEST_LIMITS.maxListedProblems} problems, and one last entry `(more)` that
 * says how many were left out and how many there were in all.
 */
export function boundProblems(problems: FieldProblem[]): FieldProblem[] {
  const max = REQUEST_LIMITS.maxListedProblems;
  if (problems.length <= max) return problems;
  const more = { field: "(more)", message: `${problems.length - max} more problems not listed (${problems.length} in all)` };
  return [...problems.slice(0, max), more];
}

/**
 * Validates a webhook body completely, collecting every problem rather than stopping at the first,
 * so the caller can fix the whole request in one go (at most {@link REQUEST_LIMITS.maxListedProblems}
 * are listed, then a count). Nothing is started for an invalid request.
 */
export function validateCollectionRequest(body: unknown, options: CommandValidationOptions = {}): Validated<CollectionRequestBody> {
  const problems: FieldProblem[] = [];
  const add = (field: string, message: string) => problems.push({ field, message });
  if (!isRecord(body)) return { ok: false, problems: [{ field: "(body)", message: "must be a JSON object" }] };

  for (const key of Object.keys(body)) {
    if (!TOP_LEVEL_FIELDS.has(key)) {
      const hint = [...TOP_LEVEL_FIELDS].find((f) => f.toLowerCase() === key.toLowerCase());
      add(echoName(key), hint ? `unknown field; did you mean "${hint}"?` : "unknown field");
    }
  }

  const machineId = body.machineId;
  if (typeof machineId !== "string" || !MACHINE_ID_PATTERN.test(machineId)) {
    add("machineId", "required: the MDE machine id, 40 hexadecimal characters");
  }

  let commands: LiveResponseCommand[] | undefined;
  let playbook: PlaybookReference | undefined;
  if (body.commands !== undefined && body.playbook !== undefined) {
    add("playbook", "give either commands or playbook, not both");
  } else if (body.playbook !== undefined) {
    playbook = validatePlaybookReference(body.playbook, add);
  } else if (body.commands === undefined) {
    add(
      "commands",
      "required: a non-empty array of live response commands (PutFile, RunScript, GetFile), or playbook: { name, parameters? }",
    );
  } else {
    commands = validateCommands(body.commands, add, "commands", options);
  }

  let comment = DEFAULT_COMMENT;
  if (body.comment !== undefined) {
    const problem = commentProblem(body.comment);
    if (problem) add("comment", problem);
    else comment = (body.comment as string).trim();
  }

  let idempotencyKey: string | undefined;
  if (body.idempotencyKey !== undefined) {
    const problem = idempotencyKeyProblem(body.idempotencyKey);
    if (problem) add("idempotencyKey", problem);
    else idempotencyKey = body.idempotencyKey as string;
  }

  if (problems.length > 0) return { ok: false, problems: boundProblems(problems) };
  return { ok: true, value: { machineId: (machineId as string).toLowerCase(), commands, playbook, comment, idempotencyKey } };
}

function validatePlaybookReference(value: unknown, report: (field: string, message: string) => void): PlaybookReference | undefined {
  if (!isRecord(value)) {
    report("playbook", "must be an object: { name, parameters? }");
    return undefined;
  }
  let problems = 0;
  const add = (field: string, message: string) => (problems++, report(field, message));
  for (const key of Object.keys(value))
    if (key !== "name" && key !== "parameters") add(`playbook.${echoName(key)}`, "unknown field (fields: name, parameters)");
  if (typeof value.name !== "string" || !PLAYBOOK_NAME_PATTERN.test(value.name))
    add("playbook.name", "required: a playbook name (letters, digits, '.', '_', '-')");
  const parameters = validateParameterValues(value.parameters, "playbook.parameters", add);
  return problems === 0 ? { name: value.name as string, parameters } : undefined;
}

/**
 * Validates the values given for `{{params.*}}` placeholders (webhook, plan or rule): an object of
 * strings with placeholder-safe names. Undefined means none.
 */
export function validateParameterValues(value: unknown, at: string, add: (field: string, message: string) => void): Record<string, string> {
  const parameters: Record<string, string> = {};
  if (value === undefined) return parameters;
  if (!isRecord(value)) {
    add(at, "must be an object of parameter name to string value");
    return parameters;
  }
  const entries = Object.entries(value);
  if (entries.length > REQUEST_LIMITS.maxPlaybookParameters) add(at, `at most ${REQUEST_LIMITS.maxPlaybookParameters} parameters`);
  for (const [name, v] of entries) {
    if (!PARAMETER_NAME_PATTERN.test(name))
      add(`${at}.${echoName(name)}`, "parameter names are a letter followed by letters, digits or '_'");
    else if (typeof v !== "string") add(`${at}.${name}`, "must be a string");
    else if (v.length > REQUEST_LIMITS.maxParamValueLength)
      add(`${at}.${name}`, `must be at most ${REQUEST_LIMITS.maxParamValueLength} characters`);
    else if (hasUnsafeCharacters(v)) add(`${at}.${name}`, UNSAFE_CHARACTERS_MESSAGE);
    else parameters[name] = v;
  }
  return parameters;
}

/** Why a comment (webhook, playbook or plan, before or after rendering) is unusable, or undefined when it is fine. */
export function commentProblem(value: unknown): string | undefined {
  if (typeof value !== "string" || value.trim() === "") return "must be a non-empty string";
  if (value.length > REQUEST_LIMITS.maxCommentLength) return `must be at most ${REQUEST_LIMITS.maxCommentLength} characters`;
  if (hasUnsafeCharacters(value)) return UNSAFE_CHARACTERS_MESSAGE;
  if (value.toLowerCase().includes(CORRELATION_MARKER_PREFIX)) {
    return `must not contain "${CORRELATION_MARKER_PREFIX}": the collector adds that marker itself to find its own MDE action`;
  }
  return undefined;
}

/** Why an idempotency key (body field or `Idempotency-Key` header) is unusable, or undefined when it is fine. */
export function idempotencyKeyProblem(key: unknown): string | undefined {
  if (typeof key !== "string" || key.length === 0) return "must be a non-empty string";
  if (key.length > REQUEST_LIMITS.maxIdempotencyKeyLength) return `must be at most ${REQUEST_LIMITS.maxIdempotencyKeyLength} characters`;
  // Stricter than the shared character policy: a key becomes part of an instance id's hash and of logs.
  if (!/^[\x21-\x7e]+$/.test(key)) return "must be printable ASCII without spaces";
  return undefined;
}

/**
 * Validates a list of live response commands with MDE's rules (types, case-sensitive params,
 * library file names, PutFile→RunScript→GetFile order) and the collector's own (the character
 * policy, no network or device paths unless `options.allowUncPaths`), reporting each problem under
 * `path` (e.g. `commands[1].params` or `PLAYBOOKS[2].commands[0].params`).
 * @returns the commands that passed (compare the problem count to know whether all did)
 */
export function validateCommands(
  value: unknown,
  add: (field: string, message: string) => void,
  path = "commands",
  options: CommandValidationOptions = {},
): LiveResponseCommand[] {
  if (!Array.isArray(value) || value.length === 0) {
    add(path, "required: a non-empty array of live response commands (PutFile, RunScript, GetFile)");
    return [];
  }
  if (value.length > REQUEST_LIMITS.maxCommands) add(path, `at most ${REQUEST_LIMITS.maxCommands} commands`);

  const commands: LiveResponseCommand[] = [];
  value.forEach((raw, i) => {
    const at = `${path}[${i}]`;
    if (!isRecord(raw)) return add(at, "must be an object with type and params");
    for (const key of Object.keys(raw))
      if (key !== "type" && key !== "params") add(`${at}.${echoName(key)}`, "unknown field (fields are case-sensitive: type, params)");
    const type = raw.type;
    if (typeof type !== "string" || !(LIVE_RESPONSE_COMMAND_TYPES as readonly string[]).includes(type)) {
      return add(`${at}.type`, `must be one of ${LIVE_RESPONSE_COMMAND_TYPES.join(", ")}`);
    }
    const params = validateParams(type as LiveResponseCommandType, raw.params, at, add, options);
    if (params) commands.push({ type: type as LiveResponseCommandType, params });
  });

  for (let i = 1; i < commands.length; i++) {
    if (TYPE_ORDER[commands[i].type] < TYPE_ORDER[commands[i - 1].type]) {
      add(path, "MDE runs commands in the order PutFile, then RunScript, then GetFile: reorder them");
      break;
    }
  }
  return commands;
}

function validateParams(
  type: LiveResponseCommandType,
  value: unknown,
  at: string,
  add: (field: string, message: string) => void,
  options: CommandValidationOptions,
): LiveResponseCommand["params"] | undefined {
  const rules = PARAMS_BY_TYPE[type];
  if (!Array.isArray(value)) {
    add(`${at}.params`, `required: an array of { key, value } (${type} needs ${rules.required.join(", ")})`);
    return undefined;
  }
  const allowed = [...rules.required, ...rules.optional];
  const params: LiveResponseCommand["params"] = [];
  const seen = new Set<string>();
  value.forEach((p, j) => {
    const pat = `${at}.params[${j}]`;
    if (!isRecord(p) || typeof p.key !== "string" || typeof p.value !== "string") {
      return add(pat, 'must be { "key": string, "value": string }');
    }
    if (!allowed.includes(p.key))
      return add(`${pat}.key`, `${type} takes ${allowed.join(", ")} (case-sensitive), not "${echoName(p.key)}"`);
    if (seen.has(p.key)) return add(`${pat}.key`, `${p.key} given twice`);
    seen.add(p.key);
    const problem = paramValueProblem(p.key, p.value, options);
    if (problem) return add(`${pat}.value`, problem);
    params.push({ key: p.key, value: p.value });
  });
  for (const key of rules.required)
    if (!seen.has(key) && !value.some((p) => isRecord(p) && p.key === key)) add(`${at}.params`, `${type} requires ${key}`);
  return params;
}

const LIBRARY_NAME = "must be the name of a file in the live response library";

function paramValueProblem(key: string, value: string, options: CommandValidationOptions): string | undefined {
  if (value.length === 0) return "must not be empty";
  if (value.length > REQUEST_LIMITS.maxParamValueLength) return `must be at most ${REQUEST_LIMITS.maxParamValueLength} characters`;
  if (hasUnsafeCharacters(value)) return UNSAFE_CHARACTERS_MESSAGE;
  if (key === "ScriptName" || key === "FileName") {
    if (!LIBRARY_FILE_NAME_PATTERN.test(value)) return `${LIBRARY_NAME}: letters, digits, '.', '_', '-' only`;
    if (/^\.+$/.test(value)) return `${LIBRARY_NAME}, not only dots`;
  }
  if (key === "Path" && !options.allowUncPaths && isNetworkOrDevicePath(value)) {
    return (
      "must be a local path: network shares (\\\\server\\share, //server/share) and device paths (\\\\?\\, \\\\.\\, \\??\\) " +
      "are refused unless GETFILE_ALLOW_UNC_PATHS is true"
    );
  }
  return undefined;
}

/**
 * A network share or a device namespace path: two leading separators (either slash; Windows takes
 * both, so `\\server\share`, `//server/share`, `\\?\C:\...`, `\\.\PhysicalDrive0`) or the NT object
 * namespace `\??\`. File path formats: https://learn.microsoft.com/dotnet/standard/io/file-path-formats
 */
export function isNetworkOrDevicePath(path: string): boolean {
  const p = path.trimStart();
  return /^[\\/]{2}/.test(p) || /^[\\/]\?\?[\\/]/.test(p);
}
