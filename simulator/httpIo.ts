import type { IncomingMessage } from "node:http";
import { SimulatorHttpError } from "./errors";

const MAX_BODY_BYTES = 1024 * 1024;

/** Requires `Authorization: Bearer <token>` (and the accepted token, when one is configured). @throws SimulatorHttpError 401 */
export function authorize(header: string | undefined, acceptedToken: string | undefined): void {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!match) throw new SimulatorHttpError(401, "Unauthorized", "Authorization header with a bearer token is required");
  if (acceptedToken !== undefined && match[1] !== acceptedToken)
    throw new SimulatorHttpError(401, "Unauthorized", "The bearer token is not valid");
}

/** Reads the request body, at most 1 MiB. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new SimulatorHttpError(400, "InvalidRequestBody", "Request body is too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** @throws SimulatorHttpError 400 InvalidRequestBody for an empty or malformed body */
export function parseJson(text: string): unknown {
  if (text.trim().length === 0) throw new SimulatorHttpError(400, "InvalidRequestBody", "A JSON request body is required");
  try {
    return JSON.parse(text);
  } catch {
    throw new SimulatorHttpError(400, "InvalidRequestBody", "The request body is not valid JSON");
  }
}
