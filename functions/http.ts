import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import type { FieldProblem } from "../shared/validation";

/** Errors answered in the same envelope MDE and Azure use: `{ error: { code, message, details } }`. */
export function errorResponse(
  status: number,
  code: string,
  message: string,
  details?: FieldProblem[],
  headers?: Record<string, string>,
): HttpResponseInit {
  return { status, jsonBody: { error: { code, message, ...(details ? { details } : {}) } }, ...(headers ? { headers } : {}) };
}

export type BodyResult = { ok: true; value: unknown } | { ok: false; response: HttpResponseInit };

/**
 * Reads a JSON body of at most `maxBytes`. A declared Content-Length over the limit is refused
 * before reading; a body without one (chunked) is read chunk by chunk and abandoned as soon as it
 * passes the limit, so an endless body costs at most `maxBytes` plus one chunk of memory.
 * Bytes that are not UTF-8 are refused rather than silently replaced.
 */
export async function readJsonBody(request: HttpRequest, maxBytes: number, required = true): Promise<BodyResult> {
  const tooLarge = (): BodyResult => ({
    ok: false,
    response: errorResponse(413, "RequestTooLarge", `The request body must be at most ${maxBytes} bytes.`),
  });
  const invalid = (message: string): BodyResult => ({
    ok: false,
    response: errorResponse(400, "InvalidRequest", message, [{ field: "(body)", message }]),
  });
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) return tooLarge();
  const bytes = await readAtMost(request.body as ReadableStream<Uint8Array> | null, maxBytes);
  if (!bytes) return tooLarge();
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return invalid("The request body is not valid UTF-8.");
  }
  if (text.trim() === "") {
    return required
      ? {
          ok: false,
          response: errorResponse(400, "InvalidRequest", "The request body is empty; send a JSON object.", [
            { field: "(body)", message: "required" },
          ]),
        }
      : { ok: true, value: {} };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    // Only the position: the parser's message may quote the body, which is not echoed.
    const position = /at position (\d+)/.exec((e as Error).message)?.[1];
    return invalid(`The request body is not valid JSON${position ? ` (at position ${position})` : ""}.`);
  }
}

/**
 * The stream's bytes, or undefined once more than `maxBytes` arrived (the rest is never read: the
 * stream is cancelled). With `@azure/functions` v4 the body is a web ReadableStream.
 */
async function readAtMost(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array | undefined> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        return undefined;
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks, total);
}

/** Instance ids are ours (GUIDs or `lr-<hex>`): anything else cannot be one. */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9-]{1,100}$/;

export const TERMINAL_RUNTIME_STATUSES = ["Completed", "Failed", "Terminated", "Canceled"];

/** The `{instanceId}` route parameter when it can be one of ours, else the 400 to answer. */
export function instanceIdOf(request: HttpRequest): { ok: true; instanceId: string } | { ok: false; response: HttpResponseInit } {
  const instanceId = request.params.instanceId ?? "";
  if (INSTANCE_ID_PATTERN.test(instanceId)) return { ok: true, instanceId };
  return { ok: false, response: errorResponse(400, "InvalidInstanceId", "The instance id is not one this service issues.") };
}

/** 404 for an instance id no collection has. */
export function collectionNotFound(instanceId: string): HttpResponseInit {
  return errorResponse(404, "CollectionNotFound", `No collection with instance id ${instanceId}.`);
}
