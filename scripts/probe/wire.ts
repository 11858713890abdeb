/**
 * The probe's HTTP client: node:http rather than fetch, so a probe can set any Host header, stream
 * a chunked body until the server answers, or write bytes no well-behaved client would send.
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { connect } from "node:net";

/** One request of a probe case. */
export interface ProbeRequest {
  method: string;
  /** Path and query, e.g. `/api/liveresponse`. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Stream the body chunked instead: `chunk` again and again until the answer arrives or `maxChunks` were sent. */
  chunked?: { chunk: Buffer; maxChunks: number };
  /** Bytes written to the socket as they are, instead of method, path, headers and body. */
  raw?: string;
}

/** What came back; status 0 when the connection ended without an answer (`error` says how). */
export interface ProbeAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** At most `keepBytes` of the body (@default 256 KiB), as text. */
  text: string;
  /** The body's full size in bytes. */
  bytes: number;
  /** Body bytes written before the answer arrived. */
  bytesSent: number;
  error?: string;
}

/** How long to wait and how much to keep. */
export interface SendOptions {
  /** @default 15 s */
  timeoutMs?: number;
  /** Answer bytes kept for the checks; the size is counted in full. @default 256 KiB */
  keepBytes?: number;
}

/**
 * Sends `req` to `base` and waits for the whole answer (or the timeout).
 * Never throws: a refused or reset connection is an answer with status 0.
 */
export function send(base: URL, req: ProbeRequest, options: SendOptions = {}): Promise<ProbeAnswer> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const keepBytes = options.keepBytes ?? 256 * 1024;
  return req.raw !== undefined ? sendRaw(base, req.raw, timeoutMs, keepBytes) : sendHttp(base, req, timeoutMs, keepBytes);
}

function sendHttp(base: URL, req: ProbeRequest, timeoutMs: number, keepBytes: number): Promise<ProbeAnswer> {
  return new Promise((resolve) => {
    let bytesSent = 0;
    let settled = false;
    let answered = false;
    const finish = (answer: Omit<ProbeAnswer, "bytesSent">) => {
      if (settled) return;
      settled = true;
      resolve({ ...answer, bytesSent });
    };
    const headers: Record<string, string> = { ...req.headers };
    if (req.chunked) headers["transfer-encoding"] = "chunked";
    else if (req.body !== undefined) headers["content-length"] = String(Buffer.byteLength(req.body));
    const out = httpRequest(
      { host: base.hostname.replace(/^\[|\]$/g, ""), port: base.port || 80, method: req.method, path: req.path, headers },
      (res) => {
        answered = true;
        const kept: Buffer[] = [];
        let bytes = 0;
        res.on("data", (chunk: Buffer) => {
          if (bytes < keepBytes) kept.push(chunk.subarray(0, keepBytes - bytes));
          bytes += chunk.length;
        });
        res.on("end", () =>
          finish({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(kept).toString("utf8"), bytes }),
        );
        res.on("error", (e) =>
          finish({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(kept).toString("utf8"),
            bytes,
            error: e.message,
          }),
        );
      },
    );
    out.setTimeout(timeoutMs, () => out.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    // Writing on after the server answered and closed fails; what matters is the answer.
    out.on("error", (e) => (answered ? undefined : finish({ status: 0, headers: {}, text: "", bytes: 0, error: e.message })));
    if (req.chunked) {
      const { chunk, maxChunks } = req.chunked;
      let chunks = 0;
      const pump = (): void => {
        while (!answered && !out.destroyed && chunks < maxChunks) {
          chunks++;
          bytesSent += chunk.length;
          if (!out.write(chunk)) return void out.once("drain", pump);
        }
        if (!answered && !out.destroyed) out.end();
      };
      pump();
    } else {
      bytesSent = req.body === undefined ? 0 : Buffer.byteLength(req.body);
      out.end(req.body);
    }
  });
}

/** Writes `raw` to a socket and reads the status line and body of the first answer. */
function sendRaw(base: URL, raw: string, timeoutMs: number, keepBytes: number): Promise<ProbeAnswer> {
  return new Promise((resolve) => {
    const socket = connect(Number(base.port || 80), base.hostname.replace(/^\[|\]$/g, ""));
    let received = "";
    let settled = false;
    const done = (error?: string) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(received)?.[1] ?? 0);
      const text = received.split("\r\n\r\n").slice(1).join("\r\n\r\n");
      resolve({
        status,
        headers: {},
        text: text.slice(0, keepBytes),
        bytes: Buffer.byteLength(text),
        bytesSent: Buffer.byteLength(raw),
        ...(status === 0 && error ? { error } : {}),
      });
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs / 1000} s`));
    socket.on("data", (d) => {
      const first = received === "";
      received += d.toString("latin1");
      // Wait a moment for the rest: a server that read a smuggled second request answers twice.
      if (first) setTimeout(() => done(), 300);
    });
    socket.on("error", (e) => done(e.message));
    socket.on("end", () => done());
    socket.write(raw);
  });
}

/** The body as JSON, or undefined. */
export function jsonOf(answer: ProbeAnswer): unknown {
  try {
    return JSON.parse(answer.text) as unknown;
  } catch {
    return undefined;
  }
}
