/**
 * Pure mappings from MDE wire JSON to the product's models and errors: no I/O, no clock unless
 * passed in, so every quirk of the wire format is covered by unit tests on published examples.
 */
import { CollectorError, MdeApiError, redactText } from "../errors";
import type { CommandState, LibraryFile, LiveResponseParam, Machine, MachineAction } from "./models";

type Json = Record<string, unknown>;

/**
 * Maps a MachineAction entity as MDE sends it to {@link MachineAction}.
 * Accepts `lastUpdateDateTimeUtc` (entity page, captures) and `lastUpdateTimeUtc` (one example);
 * flattens each command's `command.type`/`command.params`; keeps unknown statuses as strings;
 * turns missing optional fields into null (or "" for `type`/`machineId`, which the short answer of
 * test/support/mde/fixtures.ts, SEED_000_SHORT_RESPONSE, omits).
 * @param wire - the parsed JSON body.
 * @throws CollectorError `UnexpectedResponse` when the body is not an object or lacks `id`/`status`.
 */
export function toMachineAction(wire: unknown): MachineAction {
  if (!isObject(wire)) throw unexpected("MDE answered a MachineAction that is not a JSON object");
  const id = str(wire.id);
  const status = str(wire.status);
  if (!id) throw unexpected("MDE answered a MachineAction without an id");
  if (!status) throw unexpected(`MDE answered MachineAction ${id} without a status`);
  return {
    id,
    type: str(wire.type) ?? "",
    status,
    machineId: str(wire.machineId) ?? "",
    computerDnsName: str(wire.computerDnsName),
    requestor: str(wire.requestor),
    requestorComment: str(wire.requestorComment),
    creationDateTimeUtc: str(wire.creationDateTimeUtc),
    lastUpdateDateTimeUtc: str(wire.lastUpdateDateTimeUtc) ?? str(wire.lastUpdateTimeUtc),
    errorHResult: typeof wire.errorHResult === "number" ? wire.errorHResult : null,
    cancellationRequestor: str(wire.cancellationRequestor),
    cancellationComment: str(wire.cancellationComment),
    cancellationDateTimeUtc: str(wire.cancellationDateTimeUtc),
    commands: Array.isArray(wire.commands) ? wire.commands.map(toCommandState) : [],
  };
}

function toCommandState(wire: unknown, position: number): CommandState {
  const entry = isObject(wire) ? wire : {};
  const command = isObject(entry.command) ? entry.command : {};
  return {
    index: typeof entry.index === "number" ? entry.index : position,
    type: str(command.type) ?? "",
    params: Array.isArray(command.params) ? command.params.filter(isObject).map(toParam) : [],
    // Unknown or missing command statuses mean "still running" to the product (models.ts).
    commandStatus: str(entry.commandStatus) ?? "Unknown",
    errors: Array.isArray(entry.errors) ? entry.errors.map((e) => (typeof e === "string" ? e : JSON.stringify(e))) : [],
    startTime: str(entry.startTime),
    endTime: str(entry.endTime),
  };
}

function toParam(wire: Json): LiveResponseParam {
  return { key: str(wire.key) ?? "", value: wire.value === null || wire.value === undefined ? "" : String(wire.value) };
}

/**
 * Maps a Machine entity (an element of `GET /api/machines`'s `value`) to {@link Machine}; missing
 * optional fields become null, a missing `machineTags` an empty list, and the id is lowercased.
 * @throws CollectorError `UnexpectedResponse` when the entity is not an object or lacks `id`.
 */
export function toMachine(wire: unknown): Machine {
  if (!isObject(wire)) throw unexpected("MDE answered a Machine that is not a JSON object");
  const id = str(wire.id);
  if (!id) throw unexpected("MDE answered a Machine without an id");
  return {
    id: id.toLowerCase(),
    computerDnsName: str(wire.computerDnsName),
    osPlatform: str(wire.osPlatform),
    healthStatus: str(wire.healthStatus),
    machineTags: Array.isArray(wire.machineTags) ? wire.machineTags.filter((t): t is string => typeof t === "string") : [],
    lastSeen: str(wire.lastSeen),
    riskScore: str(wire.riskScore),
    exposureLevel: str(wire.exposureLevel),
    rbacGroupId: typeof wire.rbacGroupId === "number" ? wire.rbacGroupId : null,
    aadDeviceId: str(wire.aadDeviceId),
  };
}

/**
 * Maps a live response library file (an element of `GET /api/libraryfiles`'s `value`, or the entity
 * `POST /api/libraryfiles` returns: https://learn.microsoft.com/defender-endpoint/api/list-library-files) to
 * {@link LibraryFile}; the SHA-256 is lowercased so that comparisons never depend on MDE's case.
 * @throws CollectorError `UnexpectedResponse` when the entity is not an object, lacks `fileName`, or its
 *   `sha256` is not 64 hex digits (a file whose hash cannot be read can never be checked).
 */
export function toLibraryFile(wire: unknown): LibraryFile {
  if (!isObject(wire)) throw unexpected("MDE answered a library file that is not a JSON object");
  const fileName = str(wire.fileName);
  if (!fileName) throw unexpected("MDE answered a library file without a fileName");
  const sha256 = str(wire.sha256);
  if (!sha256 || !/^[0-9a-fA-F]{64}$/.test(sha256)) throw unexpected("MDE answered a library file without a SHA-256");
  return {
    fileName,
    sha256: sha256.toLowerCase(),
    description: str(wire.description),
    creationTime: str(wire.creationTime),
    lastUpdatedTime: str(wire.lastUpdatedTime),
    createdBy: str(wire.createdBy),
    hasParameters: wire.hasParameters === true,
    parametersDescription: str(wire.parametersDescription),
  };
}

/** Reads response headers; `Headers` from fetch satisfies it. */
export interface HeaderReader {
  get(name: string): string | null;
}

/**
 * Maps an MDE error answer to an {@link MdeApiError}.
 * Reads the envelope `{"error":{"code","message","target"}}`; a body that is not that envelope
 * (a gateway's HTML, an empty body) gets the code `HttpError<status>`. `Retry-After` in seconds
 * or as an HTTP-date becomes `retryAfterInMs`. The message is redacted (no SAS query, no bearer token).
 * @param statusCode - the HTTP status.
 * @param headers - the response headers.
 * @param bodyText - the raw response body.
 * @param nowInMs - the current time, to turn an HTTP-date into a delay. @default Date.now()
 */
export function toMdeApiError(statusCode: number, headers: HeaderReader, bodyText: string, nowInMs: number = Date.now()): MdeApiError {
  const envelope = parseErrorEnvelope(bodyText);
  const code = envelope?.code ?? `HttpError${statusCode}`;
  const rawMessage = envelope?.message ?? fallbackMessage(statusCode, bodyText);
  return new MdeApiError({
    statusCode,
    code,
    message: redactText(rawMessage),
    target: envelope?.target,
    retryAfterInMs: parseRetryAfter(headers.get("retry-after"), nowInMs),
  });
}

function parseErrorEnvelope(bodyText: string): { code: string; message?: string; target?: string } | undefined {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return undefined;
  }
  if (!isObject(body) || !isObject(body.error)) return undefined;
  const code = str(body.error.code);
  if (!code) return undefined;
  return { code, message: str(body.error.message) ?? undefined, target: str(body.error.target) ?? undefined };
}

function fallbackMessage(statusCode: number, bodyText: string): string {
  // A short excerpt of a non-envelope body (say a gateway's "upstream connect error") helps
  // diagnosis; it is redacted with the rest of the message.
  const excerpt = bodyText.replace(/\s+/g, " ").trim().slice(0, 200);
  return excerpt ? `MDE answered HTTP ${statusCode}: ${excerpt}` : `MDE answered HTTP ${statusCode}`;
}

/**
 * Parses a `Retry-After` header: delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * @returns milliseconds to wait (never negative), or undefined when absent or unparseable.
 */
export function parseRetryAfter(value: string | null, nowInMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Only a date with a weekday/month name: V8's Date.parse would read "1.5" as a date.
  const date = /[A-Za-z]/.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowInMs);
}

function unexpected(message: string): CollectorError {
  return new CollectorError("UnexpectedResponse", message);
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}
