/**
 * Request and response plumbing of the local host: reading bodies within a limit, flattening
 * headers, the content-type rule, writing an answer with correct framing.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** An HTTP answer before it is written; `functionName` only feeds the request log. */
export interface HostAnswer {
  status: number;
  /** A string is sent as is; anything else as JSON. */
  body?: string | object;
  headers?: Record<string, string>;
  functionName?: string;
  /**
   * The request body was not read to its end. Once the answer is out, the rest is read and thrown
   * away for up to {@link LINGER_MS}: a body that ends by then leaves a reusable connection, one
   * that goes on (an endless chunked upload) has its connection closed. Not at once: closing a
   * socket with unread data sends a reset, and a client still sending would lose the answer.
   */
  abandonsBody?: boolean;
}

/** How long the rest of an abandoned request body is discarded before its connection is closed. */
export const LINGER_MS = 1000;
/**
 * How much of an abandoned body is discarded: past it the host stops reading (the connection still
 * closes after {@link LINGER_MS}), so a client that keeps sending (an endless chunked body) costs the
 * host at most this, and still gets the answer: closing at once would reset it before it read it.
 */
export const LINGER_MAX_BYTES = 1024 * 1024;

/** Headers with lower-case names, repeated ones joined with ", ". */
export function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}

/** A body read within its limit, or the limit it passed. */
export type BodyRead = { ok: true; body: Buffer } | { ok: false; maxBytes: number };

/**
 * Reads the request body chunk by chunk and stops as soon as it passes `maxBytes`: a declared
 * Content-Length over the limit is refused before reading, and a chunked body (no Content-Length)
 * costs at most `maxBytes` plus one chunk of memory however long it would go on. The rest of an
 * abandoned body is never read: answer with {@link HostAnswer.abandonsBody}.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyRead> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve({ ok: false, maxBytes });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: BodyRead | Error) => {
      req.off("data", onData).off("end", onEnd).off("error", onError);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += bytes.length;
      if (size > maxBytes) {
        req.pause();
        return done({ ok: false, maxBytes });
      }
      chunks.push(bytes);
    };
    const onEnd = () => done({ ok: true, body: Buffer.concat(chunks) });
    const onError = (error: Error) => done(error);
    req.on("data", onData).on("end", onEnd).on("error", onError);
  });
}

/** The 413 answer for a body past `maxBytes`. */
export function tooLarge(maxBytes: number): HostAnswer {
  const message = `The request body must be at most ${maxBytes} bytes`;
  return { status: 413, abandonsBody: true, body: { error: "RequestTooLarge", message } };
}

/** True for `application/json` and any `<type>/<subtype>+json` (RFC 6839), parameters ignored. */
export function isJsonContentType(header: string | undefined): boolean {
  const type = (header ?? "").split(";")[0]!.trim().toLowerCase();
  return type === "application/json" || /^[a-z0-9!#$&^_.-]+\/[a-z0-9!#$&^_.-]+\+json$/.test(type);
}

/** Writes `answer`; a handler's own framing headers are dropped, they would not match what is written. */
export function writeAnswer(res: ServerResponse, answer: HostAnswer): void {
  const headers: Record<string, string> = { ...answer.headers };
  let payload: Buffer | undefined;
  if (typeof answer.body === "string") payload = Buffer.from(answer.body, "utf8");
  else if (answer.body !== undefined) {
    payload = Buffer.from(JSON.stringify(answer.body), "utf8");
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json; charset=utf-8";
  }
  for (const h of Object.keys(headers)) if (/^(content-length|transfer-encoding|connection)$/i.test(h)) delete headers[h];
  if (answer.abandonsBody) res.once("finish", () => discardRestOfBody(res));
  res.writeHead(answer.status, { ...headers, "content-length": String(payload?.length ?? 0) });
  res.end(payload);
}

/** See {@link HostAnswer.abandonsBody}. */
function discardRestOfBody(res: ServerResponse): void {
  const req = res.req;
  if (req.complete) return;
  // The request's socket: once the answer is finished the response may already be detached from it.
  const socket = req.socket;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
  req.once("end", () => clearTimeout(timer));
  let discarded = 0;
  // Each chunk is dropped as it arrives.
  req.on("data", (chunk: Buffer | string) => {
    discarded += chunk.length;
    if (discarded > LINGER_MAX_BYTES) req.pause();
  });
  // readBody paused the request: a data listener alone does not make it flow again.
  req.resume();
}
