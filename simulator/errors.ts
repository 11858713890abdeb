import { randomUUID } from "node:crypto";

/**
 * Error codes the simulator answers, all from the codes MDE documents
 * (https://learn.microsoft.com/defender-endpoint/api/common-errors; `ActiveRequestAlreadyExists` from the
 * "Limitations" of https://learn.microsoft.com/defender-endpoint/api/run-live-response).
 */
export type MdeErrorCode =
  | "BadRequest"
  | "InvalidRequestBody"
  | "MissingRequiredParameter"
  | "InvalidInput"
  | "ActiveRequestAlreadyExists"
  | "Unauthorized"
  | "NotFound"
  | "ResourceNotFound"
  | "TooManyRequests"
  | "InternalServerError";

/** The MDE error envelope: `{"error": {"code", "message", "target"}}` where `target` is a correlation id. */
export interface MdeErrorEnvelope {
  error: { code: MdeErrorCode; message: string; target: string };
}

/** Thrown inside request handlers; the server turns it into the MDE error envelope. */
export class SimulatorHttpError extends Error {
  readonly statusCode: number;
  readonly code: MdeErrorCode;
  /** Seconds, sent as `Retry-After` (429 only). */
  readonly retryAfterSeconds: number | undefined;
  constructor(statusCode: number, code: MdeErrorCode, message: string, retryAfterSeconds?: number) {
    super(message);
    this.name = "SimulatorHttpError";
    this.statusCode = statusCode;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Builds the envelope with a fresh correlation GUID, as MDE does for every error. */
export function errorEnvelope(code: MdeErrorCode, message: string): MdeErrorEnvelope {
  return { error: { code, message, target: randomUUID() } };
}

/** 400 with the given MDE code. */
export const badRequest = (code: MdeErrorCode, message: string) => new SimulatorHttpError(400, code, message);
/** 404 `ResourceNotFound`, as MDE answers for an unknown machine or action. */
export const notFound = (message: string) => new SimulatorHttpError(404, "ResourceNotFound", message);
/** 429 `TooManyRequests` with `Retry-After` in whole seconds, rounded up, at least 1 (common-errors, "Throttling"). */
export const tooManyRequests = (message: string, retryAfterInMs: number) =>
  new SimulatorHttpError(429, "TooManyRequests", message, Math.max(1, Math.ceil(retryAfterInMs / 1000)));
