import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { ResultStore } from "./resultStore";
import type { ResolvedMachineScenario } from "./scenarios";
import type { StatsRecorder } from "./stats";
import type { ReadableStream as WebReadableStream } from "node:stream/web";

/**
 * Download links served by the simulator itself, for the faults Azurite cannot produce: a download
 * cut after N bytes, and a throttled download (so a short-lived link expires mid-copy).
 *
 * A link looks like a blob SAS: `http://127.0.0.1:<port>/download/<token>?sv=...&se=<expiry>&sr=b&sp=r&sig=<hmac>`.
 * Like Azure Storage, the proxy checks the signature and the expiry against the REAL clock when a
 * request starts (403 `AuthenticationFailed`, Azure's XML body), never during a transfer; it honours
 * `Range` (206 + `Content-Range`) by forwarding it to Azurite, whose bytes it relays.
 */

/** Headers relayed from Azurite: what a client of a blob download looks at. */
const RELAYED_HEADERS = [
  "content-length",
  "content-range",
  "accept-ranges",
  "content-type",
  "content-md5",
  "etag",
  "last-modified",
  "x-ms-blob-type",
  "x-ms-version",
];
/** The SAS version shown in proxied links (cosmetic: nothing parses it). */
const SAS_VERSION = "2025-01-05";
/** Lifetime of the simulator's own SAS to Azurite behind one proxied request. */
const UPSTREAM_TTL_IN_MS = 10 * 60_000;

export interface DownloadProxyOptions {
  resultStore: ResultStore;
  /** The simulator's base URL (known once it listens). */
  baseUrl: () => string;
  stats: StatsRecorder;
}

interface ProxiedLink {
  blobName: string;
  machine: ResolvedMachineScenario;
}

/** Issues proxied links and serves `GET|HEAD /download/<token>`. */
export class DownloadProxy {
  /** Signs links: a tampered `se` fails like a tampered SAS. Per simulator instance. */
  private readonly secret = randomBytes(32);
  private readonly links = new Map<string, ProxiedLink>();
  /** Per machine: downloads already cut, against `brokenDownloads`. */
  private readonly brokenSoFar = new Map<string, number>();

  constructor(private readonly options: DownloadProxyOptions) {}

  /**
   * A new link to `blobName`, valid `ttlInMs` from now on the real clock, rounded UP to the whole
   * second (a SAS `se` has whole seconds; rounding down could make a 1-second link expire at once).
   */
  linkFor(blobName: string, machine: ResolvedMachineScenario, ttlInMs: number, alreadyExpired: boolean): string {
    const token = randomBytes(16).toString("hex");
    this.links.set(token, { blobName, machine });
    const expiresAtMs = alreadyExpired ? Date.now() - 60_000 : Math.ceil((Date.now() + ttlInMs) / 1000) * 1000;
    const se = new Date(expiresAtMs).toISOString().replace(/\.\d{3}Z$/, "Z");
    const query = new URLSearchParams({ sv: SAS_VERSION, se, sr: "b", sp: "r", sig: this.sign(token, se) });
    return `${this.options.baseUrl()}/download/${token}?${query.toString()}`;
  }

  private sign(token: string, se: string): string {
    return createHmac("sha256", this.secret).update(`${token}\n${se}`, "utf8").digest("base64");
  }

  /** Serves one request for `/download/<token>`; never throws (errors become answers or a destroyed socket). */
  async serve(req: IncomingMessage, res: ServerResponse, token: string, query: URLSearchParams): Promise<void> {
    const method = req.method ?? "GET";
    if (method !== "GET" && method !== "HEAD")
      return storageError(res, 405, "UnsupportedHttpVerb", "The resource doesn't support specified Http Verb.");
    const se = query.get("se") ?? "";
    const sig = Buffer.from(query.get("sig") ?? "", "base64");
    const expected = Buffer.from(this.sign(token, se), "base64");
    if (sig.length !== expected.length || !timingSafeEqual(sig, expected))
      return storageError(res, 403, "AuthenticationFailed", AUTH_FAILED, "Signature did not match. String to sign used was r\n\n" + se);
    const now = new Date();
    const expiry = new Date(se);
    // Azure Storage's own wording for an expired SAS (the start defaults to the request time).
    if (!(expiry.getTime() > now.getTime()))
      return storageError(
        res,
        403,
        "AuthenticationFailed",
        AUTH_FAILED,
        `Signed expiry time [${expiry.toUTCString()}] must be after signed start time [${now.toUTCString()}]`,
      );
    const link = this.links.get(token);
    if (!link) return storageError(res, 404, "BlobNotFound", "The specified blob does not exist.");
    await this.relay(req, res, method, link);
  }

  private async relay(req: IncomingMessage, res: ServerResponse, method: string, link: ProxiedLink): Promise<void> {
    const abort = new AbortController();
    // The client went away (or was cut): stop reading from Azurite.
    res.once("close", () => abort.abort());
    let upstream: Response;
    try {
      const url = await this.options.resultStore.linkFor(link.blobName, UPSTREAM_TTL_IN_MS, false);
      upstream = await fetch(url, { method, headers: req.headers.range ? { range: req.headers.range } : {}, signal: abort.signal });
    } catch {
      return storageError(res, 500, "InternalError", "The server encountered an internal error. Please retry the request.");
    }
    res.statusCode = upstream.status;
    for (const name of RELAYED_HEADERS) {
      const value = upstream.headers.get(name);
      if (value !== null) res.setHeader(name, value);
    }
    res.setHeader("x-ms-request-id", randomUUID());
    if (!upstream.body || method === "HEAD") {
      await upstream.body?.cancel();
      return void res.end();
    }
    const m = link.machine;
    const ok = upstream.status === 200 || upstream.status === 206;
    const length = Number(upstream.headers.get("content-length") ?? NaN);
    let cutAt: number | null = null;
    // Only a response longer than the cut point counts as a broken download (a short range passes whole).
    if (
      ok &&
      m.breakDownloadsAfterBytes !== null &&
      length > m.breakDownloadsAfterBytes &&
      (this.brokenSoFar.get(m.machineId) ?? 0) < m.brokenDownloads
    ) {
      cutAt = m.breakDownloadsAfterBytes;
      this.brokenSoFar.set(m.machineId, (this.brokenSoFar.get(m.machineId) ?? 0) + 1);
      this.options.stats.recordFault("brokenDownload", "download");
    }
    await streamBody(res, Readable.fromWeb(upstream.body as WebReadableStream), ok ? m.slowDownloadBytesPerSecond : null, cutAt);
  }
}

/** Copies `body` to `res`, at most `bytesPerSecond`, destroying the socket after `cutAt` bytes. */
async function streamBody(res: ServerResponse, body: Readable, bytesPerSecond: number | null, cutAt: number | null): Promise<void> {
  // Slices of ~50 ms of transfer keep a throttled stream smooth.
  const slice = bytesPerSecond === null ? Number.POSITIVE_INFINITY : Math.max(1, Math.min(64 * 1024, Math.floor(bytesPerSecond / 20)));
  const startedAt = Date.now();
  let sent = 0;
  res.flushHeaders();
  try {
    if (cutAt === 0) return cut(res, body);
    for await (const chunk of body) {
      let rest = chunk as Buffer;
      while (rest.length > 0) {
        if (res.destroyed) return void body.destroy();
        let n = Math.min(rest.length, slice);
        if (cutAt !== null) n = Math.min(n, cutAt - sent);
        const part = rest.subarray(0, n);
        rest = rest.subarray(n);
        if (bytesPerSecond !== null) {
          const due = startedAt + (sent * 1000) / bytesPerSecond;
          if (due > Date.now()) await sleep(due - Date.now());
        }
        sent += n;
        if (cutAt !== null && sent >= cutAt) {
          // Hand the last bytes to the OS first, so the client receives exactly `cutAt` bytes.
          await new Promise<void>((resolve) => res.write(part, () => resolve()));
          return cut(res, body);
        }
        if (!res.write(part)) await drained(res);
      }
    }
    res.end();
  } catch {
    // Azurite failed mid-stream: the client sees a truncated body, as with any broken transfer.
    res.destroy();
  }
}

function cut(res: ServerResponse, body: Readable): void {
  body.destroy();
  res.socket?.destroy();
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

const AUTH_FAILED =
  "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.";

/** An Azure Storage error answer: XML body `<Error><Code>..</Code><Message>..</Message>...</Error>` and `x-ms-error-code`. */
function storageError(res: ServerResponse, status: number, code: string, message: string, authDetail?: string): void {
  const requestId = randomUUID();
  const xml =
    `\uFEFF<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${escapeXml(message)}\nRequestId:${requestId}\nTime:${new Date().toISOString()}</Message>` +
    (authDetail === undefined ? "" : `<AuthenticationErrorDetail>${escapeXml(authDetail)}</AuthenticationErrorDetail>`) +
    `</Error>`;
  const payload = Buffer.from(xml, "utf8");
  res.statusCode = status;
  res.setHeader("Content-Type", "application/xml");
  res.setHeader("Content-Length", payload.length);
  res.setHeader("x-ms-error-code", code);
  res.setHeader("x-ms-request-id", requestId);
  res.end(payload);
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
