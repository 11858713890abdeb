import {
  LIBRARY_FILE_NAME_PATTERN,
  LIVE_RESPONSE_COMMAND_TYPES,
  MACHINE_ID_PATTERN,
  type LiveResponseCommand,
  type LiveResponseCommandType,
} from "./mde/models";

/** One bad field of a request, named by its JSON path (for example `commands[1].params`). */
export interface FieldProblem {
  field: string;
  message: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; problems: FieldProblem[] };

/** A live response request as the webhook accepts it; `commands` has exactly the shape of MDE's `Commands`. */
export interface CollectionRequestBody {
  machineId: string;
  commands: LiveResponseCommand[];
  comment: string;
  idempotencyKey?: string;
}

export const REQUEST_LIMITS = {
  /** Larger bodies are refused before parsing. */
  maxBodyBytes: 64 * 1024,
  maxCommands: 20,
  maxCommentLength: 1000,
  maxParamValueLength: 4096,
  maxIdempotencyKeyLength: 200,
} as const;

export const DEFAULT_COMMENT = "Evidence collection by mde-live-response-collector";

/** Which params each command takes, and which are required (seed 001, "Commands"). */
const PARAMS_BY_TYPE: Record<LiveResponseCommandType, { required: string[]; optional: string[] }> = {
  PutFile: { required: ["FileName"], optional: [] },
  RunScript: { required: ["ScriptName"], optional: ["Args"] },
  GetFile: { required: ["Path"], optional: [] },
};

/** MDE runs PutFile, then RunScript, then GetFile commands; another order is refused (mde-api-facts.md). */
const TYPE_ORDER: Record<LiveResponseCommandType, number> = { PutFile: 0, RunScript: 1, GetFile: 2 };

const TOP_LEVEL_FIELDS = new Set(["machineId", "commands", "comment", "idempotencyKey"]);
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Validates a webhook body completely, collecting every problem rather than stopping at the first,
 * so the caller can fix the whole request in one go. Nothing is started for an invalid request.
 */
export function validateCollectionRequest(body: unknown): Validated<CollectionRequestBody> {
  const problems: FieldProblem[] = [];
  const add = (field: string, message: string) => problems.push({ field, message });
  if (!isRecord(body)) return { ok: false, problems: [{ field: "(body)", message: "must be a JSON object" }] };

  for (const key of Object.keys(body)) {
    if (!TOP_LEVEL_FIELDS.has(key)) {
      const hint = [...TOP_LEVEL_FIELDS].find((f) => f.toLowerCase() === key.toLowerCase());
      add(key, hint ? `unknown field; did you mean "${hint}"?` : "unknown field");
    }
  }

  const machineId = body.machineId;
  if (typeof machineId !== "string" || !MACHINE_ID_PATTERN.test(machineId)) {
    add("machineId", "required: the MDE machine id, 40 hexadecimal characters");
  }

  const commands = validateCommands(body.commands, add);

  let comment = DEFAULT_COMMENT;
  if (body.comment !== undefined) {
    if (typeof body.comment !== "string" || body.comment.trim() === "") add("comment", "must be a non-empty string");
    else if (body.comment.length > REQUEST_LIMITS.maxCommentLength) add("comment", `must be at most ${REQUEST_LIMITS.maxCommentLength} characters`);
    else if (CONTROL_CHARS.test(body.comment)) add("comment", "must not contain control characters");
    else comment = body.comment.trim();
  }

  let idempotencyKey: string | undefined;
  if (body.idempotencyKey !== undefined) {
    const problem = idempotencyKeyProblem(body.idempotencyKey);
    if (problem) add("idempotencyKey", problem);
    else idempotencyKey = body.idempotencyKey as string;
  }

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: { machineId: (machineId as string).toLowerCase(), commands, comment, idempotencyKey } };
}

/** Why an idempotency key (body field or `Idempotency-Key` header) is unusable, or undefined when it is fine. */
export function idempotencyKeyProblem(key: unknown): string | undefined {
  if (typeof key !== "string" || key.length === 0) return "must be a non-empty string";
  if (key.length > REQUEST_LIMITS.maxIdempotencyKeyLength) return `must be at most ${REQUEST_LIMITS.maxIdempotencyKeyLength} characters`;
  if (!/^[\x21-\x7e]+$/.test(key)) return "must be printable ASCII without spaces";
  return undefined;
}

function validateCommands(value: unknown, add: (field: string, message: string) => void): LiveResponseCommand[] {
  if (!Array.isArray(value) || value.length === 0) {
    add("commands", "required: a non-empty array of live response commands (PutFile, RunScript, GetFile)");
    return [];
  }
  if (value.length > REQUEST_LIMITS.maxCommands) add("commands", `at most ${REQUEST_LIMITS.maxCommands} commands`);

  const commands: LiveResponseCommand[] = [];
  value.forEach((raw, i) => {
    const at = `commands[${i}]`;
    if (!isRecord(raw)) return add(at, "must be an object with type and params");
    for (const key of Object.keys(raw)) if (key !== "type" && key !== "params") add(`${at}.${key}`, "unknown field (fields are case-sensitive: type, params)");
    const type = raw.type;
    if (typeof type !== "string" || !(LIVE_RESPONSE_COMMAND_TYPES as readonly string[]).includes(type)) {
      return add(`${at}.type`, `must be one of ${LIVE_RESPONSE_COMMAND_TYPES.join(", ")}`);
    }
    const params = validateParams(type as LiveResponseCommandType, raw.params, at, add);
    if (params) commands.push({ type: type as LiveResponseCommandType, params });
  });

  for (let i = 1; i < commands.length; i++) {
    if (TYPE_ORDER[commands[i].type] < TYPE_ORDER[commands[i - 1].type]) {
      add("commands", "MDE runs commands in the order PutFile, then RunScript, then GetFile: reorder them");
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
      return add(pat, "must be { \"key\": string, \"value\": string }");
    }
    if (!allowed.includes(p.key)) return add(`${pat}.key`, `${type} takes ${allowed.join(", ")} (case-sensitive), not "${p.key}"`);
    if (seen.has(p.key)) return add(`${pat}.key`, `${p.key} given twice`);
    seen.add(p.key);
    const problem = paramValueProblem(p.key, p.value);
    if (problem) return add(`${pat}.value`, problem);
    params.push({ key: p.key, value: p.value });
  });
  for (const key of rules.required) if (!seen.has(key) && !value.some((p) => isRecord(p) && p.key === key)) add(`${at}.params`, `${type} requires ${key}`);
  return params;
}

function paramValueProblem(key: string, value: string): string | undefined {
  if (value.length === 0) return "must not be empty";
  if (value.length > REQUEST_LIMITS.maxParamValueLength) return `must be at most ${REQUEST_LIMITS.maxParamValueLength} characters`;
  if (CONTROL_CHARS.test(value)) return "must not contain control characters";
  if ((key === "ScriptName" || key === "FileName") && !LIBRARY_FILE_NAME_PATTERN.test(value)) {
    return "must be the name of a file in the live response library: letters, digits, '.', '_', '-' only";
  }
  return undefined;
}
