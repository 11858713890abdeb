/**
 * Request and response plumbing of the local host: reading bodies, flattening headers, writing
 * an answer with correct framing.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** An HTTP answer before it is written; `functionName` only feeds the request log. */
export interface HostAnswer {
  status: number;
  /** A string is sent as is; anything else as JSON. */
  body?: string | object;
  headers?: Record<string, string>;
  functionName?: string;
}

/** Headers with lower-case names, repeated ones joined with ", ". */
export function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}

/** The whole request body. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
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
  res.writeHead(answer.status, { ...headers, "content-length": String(payload?.length ?? 0) });
  res.end(payload);
}
