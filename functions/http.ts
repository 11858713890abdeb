import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import type { FieldProblem } from "../shared/validation";

/** Errors answered in the same envelope MDE and Azure use: `{ error: { code, message, details } }`. */
export function errorResponse(status: number, code: string, message: string, details?: FieldProblem[]): HttpResponseInit {
  return { status, jsonBody: { error: { code, message, ...(details ? { details } : {}) } } };
}

export type BodyResult = { ok: true; value: unknown } | { ok: false; response: HttpResponseInit };

/** Reads a JSON body, refusing oversized bodies before parsing them. */
export async function readJsonBody(request: HttpRequest, maxBytes: number, required = true): Promise<BodyResult> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  const tooLarge = (): BodyResult => ({
    ok: false,
    response: errorResponse(413, "RequestTooLarge", `The request body must be at most ${maxBytes} bytes.`),
  });
  if (declared > maxBytes) return tooLarge();
  const text = await request.text();
  if (Buffer.byteLength(text, "utf8") > maxBytes) return tooLarge();
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
    return {
      ok: false,
      response: errorResponse(400, "InvalidRequest", "The request body is not valid JSON.", [
        { field: "(body)", message: (e as Error).message },
      ]),
    };
  }
}

/** Who called, when App Service authentication is on (it sets this header); undefined otherwise. */
export function callerOf(request: HttpRequest): string | undefined {
  return request.headers.get("x-ms-client-principal-name") ?? undefined;
}

/** Instance ids are ours (GUIDs or `lr-<hex>`): anything else cannot be one. */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9-]{1,100}$/;

export const TERMINAL_RUNTIME_STATUSES = ["Completed", "Failed", "Terminated", "Canceled"];
