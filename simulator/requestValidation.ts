import { badRequest } from "./errors";

/** One command exactly as received on the wire (and echoed back in the entity's `command`). */
export interface WireCommand {
  type: "PutFile" | "RunScript" | "GetFile";
  params: Array<{ key: string; value: string }>;
}

export interface ValidLiveResponseBody {
  commands: WireCommand[];
  comment: string | null;
}

/**
 * Required and optional params per command type ("Commands" of
 * https://learn.microsoft.com/defender-endpoint/api/run-live-response). Names are case-sensitive on the wire
 * ("Body parameters are case-sensitive" in https://learn.microsoft.com/defender-endpoint/api/common-errors).
 */
const PARAMS: Record<WireCommand["type"], { required: string[]; optional: string[] }> = {
  PutFile: { required: ["FileName"], optional: [] },
  RunScript: { required: ["ScriptName"], optional: ["Args"] },
  GetFile: { required: ["Path"], optional: [] },
};
/** Commands must come in this order, any number of each (run-live-response, "Request body"). */
const ORDER: WireCommand["type"][] = ["PutFile", "RunScript", "GetFile"];
/** Library file names: letters, digits, '-', '_', '.' (https://learn.microsoft.com/defender-endpoint/live-response, library upload). */
const LIBRARY_FILE_NAME = /^[A-Za-z0-9._-]+$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function onlyKeys(obj: Record<string, unknown>, allowed: string[], where: string): void {
  const extra = Object.keys(obj).filter((k) => !allowed.includes(k));
  // Model binding is case-sensitive: `commands` is an unknown property, not `Commands`.
  if (extra.length > 0)
    throw badRequest(
      "InvalidRequestBody",
      `${where}: unknown propert${extra.length > 1 ? "ies" : "y"} ${extra.map((k) => `'${k}'`).join(", ")}`,
    );
}

/**
 * Validates a runliveresponse body the way MDE does, answering 400 `InvalidRequestBody` for a
 * malformed body and 400 `MissingRequiredParameter` for a missing one.
 * @throws SimulatorHttpError
 */
export function validateLiveResponseBody(body: unknown): ValidLiveResponseBody {
  if (!isObject(body)) throw badRequest("InvalidRequestBody", "Request body must be a JSON object");
  onlyKeys(body, ["Commands", "Comment"], "Request body");
  if (body.Commands === undefined || body.Commands === null) throw badRequest("MissingRequiredParameter", "Commands is required");
  if (!Array.isArray(body.Commands) || body.Commands.length === 0)
    throw badRequest("InvalidRequestBody", "Commands must be a non-empty array");
  if (body.Comment !== undefined && body.Comment !== null && typeof body.Comment !== "string")
    throw badRequest("InvalidRequestBody", "Comment must be a string");
  const commands = body.Commands.map((c, i) => validateCommand(c, i));
  for (let i = 1; i < commands.length; i++) {
    if (ORDER.indexOf(commands[i]!.type) < ORDER.indexOf(commands[i - 1]!.type))
      throw badRequest(
        "InvalidRequestBody",
        `Commands must be ordered PutFile, RunScript, GetFile: command ${i} (${commands[i]!.type}) follows ${commands[i - 1]!.type}`,
      );
  }
  return { commands, comment: (body.Comment as string | undefined) ?? null };
}

function validateCommand(c: unknown, i: number): WireCommand {
  const where = `Commands[${i}]`;
  if (!isObject(c)) throw badRequest("InvalidRequestBody", `${where} must be an object`);
  onlyKeys(c, ["type", "params"], where);
  if (c.type === undefined || c.type === null) throw badRequest("MissingRequiredParameter", `${where}.type is required`);
  if (typeof c.type !== "string" || !(c.type in PARAMS))
    throw badRequest("InvalidRequestBody", `${where}.type must be one of PutFile, RunScript, GetFile`);
  const type = c.type as WireCommand["type"];
  if (c.params === undefined || c.params === null) throw badRequest("MissingRequiredParameter", `${where}.params is required`);
  if (!Array.isArray(c.params)) throw badRequest("InvalidRequestBody", `${where}.params must be an array`);
  const params = c.params.map((p, j) => {
    if (!isObject(p)) throw badRequest("InvalidRequestBody", `${where}.params[${j}] must be an object`);
    onlyKeys(p, ["key", "value"], `${where}.params[${j}]`);
    if (typeof p.key !== "string" || typeof p.value !== "string")
      throw badRequest("InvalidRequestBody", `${where}.params[${j}] needs string 'key' and 'value'`);
    return { key: p.key, value: p.value };
  });
  const spec = PARAMS[type];
  for (const name of spec.required) {
    const found = params.find((p) => p.key === name);
    if (!found || found.value.length === 0) throw badRequest("MissingRequiredParameter", `${where} (${type}) requires parameter '${name}'`);
  }
  const seen = new Set<string>();
  for (const p of params) {
    if (![...spec.required, ...spec.optional].includes(p.key))
      throw badRequest("InvalidRequestBody", `${where} (${type}): unknown parameter '${p.key}'`);
    if (seen.has(p.key)) throw badRequest("InvalidRequestBody", `${where} (${type}): parameter '${p.key}' given twice`);
    seen.add(p.key);
    if ((p.key === "FileName" || p.key === "ScriptName") && !LIBRARY_FILE_NAME.test(p.value))
      throw badRequest("InvalidRequestBody", `${where} (${type}): '${p.key}' must name a library file (letters, digits, '-', '_', '.')`);
  }
  return { type, params };
}

/** The value of a command's param, or undefined. */
export function paramValue(command: WireCommand, key: string): string | undefined {
  return command.params.find((p) => p.key === key)?.value;
}
