import { CollectorError, errorMessage, redactUrl } from "../errors";
import type { Logger, LogProperties } from "../log";
import { checkDownloadLink } from "./linkPolicy";
import type { LinkSource } from "./types";

/** What the consumer of a download sees: bytes in order, or "forget everything, bytes start again at 0". */
export type DownloadEvent = { kind: "data"; chunk: Uint8Array } | { kind: "restart"; reason: string };

export interface LinkDownloadOptions {
  fetch: typeof globalThis.fetch;
  /** Links fetched at most, the first included (each is one MDE API call). */
  maxLinkFetches: number;
  allowLoopbackHttp: boolean;
  abortSignal?: AbortSignal;
  logger: Logger;
  /** Added to every log entry (blobName, ...); never a URL with its query. */
  logProperties?: LogProperties;
}

/** Filled in while the download runs, read by the caller afterwards. */
export interface LinkDownloadStats {
  linkFetches: number;
  /**
   * The source's Content-Encoding, when it has one other than identity. fetch then decodes the
   * bytes itself (undici does, whatever Accept-Encoding says), so what is stored is the decoded
   * content: recorded so the manifest says so.
   */
  contentEncoding?: string;
}

/**
 * Streams the content behind a short-lived download link, surviving an expired link and a
 * broken stream: on 403/404 (an expired SAS answers 403 `AuthenticationFailed`), a network
 * error or a premature end it asks `link()` for a fresh URL and resumes with
 * `Range: bytes=<offset>-`, so the consumer keeps its hash state (the source is immutable).
 * When a resumed answer is not a 206 for exactly that offset (or the ETag changed), it yields a
 * `restart` event and starts again from byte 0. The consumer pulls, so backpressure is natural.
 * @throws CollectorError `DownloadFailed` for any other HTTP status, or after `maxLinkFetches`
 * links; `UntrustedDownloadLink` from the link policy. Messages never contain the SAS.
 */
export async function* downloadWithResume(
  link: LinkSource,
  options: LinkDownloadOptions,
  stats: LinkDownloadStats,
): AsyncGenerator<DownloadEvent, void, undefined> {
  const { logger, logProperties = {}, abortSignal } = options;
  let offset = 0;
  let total: number | undefined;
  let etag: string | undefined;
  let lastFailure = "no attempt";
  for (;;) {
    if (stats.linkFetches >= options.maxLinkFetches) {
      throw new CollectorError("DownloadFailed", `Download abandoned after ${stats.linkFetches} download links; last failure: ${lastFailure}`);
    }
    if (offset > 0 && stats.contentEncoding) {
      // Ranges address the encoded bytes, the offset counts decoded ones: only a restart is exact.
      const reason = `source has Content-Encoding ${stats.contentEncoding}; cannot resume by range`;
      offset = 0;
      total = undefined;
      yield { kind: "restart", reason };
    }
    const fresh = await link();
    stats.linkFetches += 1;
    const url = checkDownloadLink(fresh, { allowLoopbackHttp: options.allowLoopbackHttp });
    const where = redactUrl(url.href);
    const retry = (failure: string, extra: LogProperties = {}): void => {
      lastFailure = failure;
      logger.warn("Evidence download interrupted; fetching a fresh link", { ...logProperties, ...extra, failure, offset, linkFetches: stats.linkFetches, source: where });
    };

    let response: Response;
    try {
      response = await options.fetch(url, {
        headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
        // A redirect would bypass the link policy; Azure Storage never redirects a blob GET.
        redirect: "manual",
        signal: abortSignal,
      });
    } catch (e) {
      if (abortSignal?.aborted) throw e;
      retry(`network error: ${describe(e)}`);
      continue;
    }

    if (response.status === 403 || response.status === 404) {
      await discard(response);
      retry(`HTTP ${response.status}`, { status: response.status });
      continue;
    }
    const answerEtag = response.headers.get("etag") ?? undefined;
    if (offset > 0) {
      const range = parseContentRange(response.headers.get("content-range"));
      const resumed =
        response.status === 206 &&
        range?.start === offset &&
        (total === undefined || range.total === undefined || range.total === total) &&
        (!etag || !answerEtag || etag === answerEtag);
      if (!resumed) {
        const reason = `resume at byte ${offset} answered HTTP ${response.status}${response.status === 206 ? ` with Content-Range ${response.headers.get("content-range") ?? "missing"}` : ""}`;
        logger.warn("Evidence download restarting from byte 0", { ...logProperties, reason, source: where });
        offset = 0;
        total = undefined;
        etag = undefined;
        yield { kind: "restart", reason };
        // A full 200 answer is the whole content again: use it rather than fetch once more.
        if (response.status !== 200) {
          await discard(response);
          lastFailure = reason;
          continue;
        }
      }
    }
    if (offset === 0 && response.status !== 200) {
      await discard(response);
      throw new CollectorError("DownloadFailed", `Download failed: HTTP ${response.status} from ${where}`);
    }
    etag = answerEtag ?? etag;
    const encoding = response.headers.get("content-encoding")?.trim().toLowerCase();
    if (encoding && encoding !== "identity") stats.contentEncoding = encoding;
    total ??= expectedTotal(response);

    try {
      if (response.body) {
        for await (const chunk of response.body) {
          offset += chunk.byteLength;
          yield { kind: "data", chunk };
        }
      }
    } catch (e) {
      if (abortSignal?.aborted) throw e;
      // Every announced byte arrived; only the close failed.
      if (total !== undefined && offset === total) return;
      retry(`stream broke at byte ${offset}: ${describe(e)}`);
      continue;
    }
    if (total !== undefined && offset < total) {
      retry(`stream ended at byte ${offset} of ${total}`);
      continue;
    }
    if (total !== undefined && offset > total) {
      throw new CollectorError("DownloadFailed", `Download failed: received ${offset} bytes, ${total} announced, from ${where}`);
    }
    return;
  }
}

/** `bytes <start>-<end>/<total|*>` parsed, or undefined when malformed. */
export function parseContentRange(header: string | null): { start: number; end: number; total?: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header?.trim() ?? "");
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === "*" ? undefined : Number(m[3]) };
}

/** Total size announced by a 200 (Content-Length) or 206 (Content-Range), when the bytes are not re-encoded in transit. */
function expectedTotal(response: Response): number | undefined {
  // fetch decodes a Content-Encoding itself: lengths then describe other bytes than those read.
  const encoding = response.headers.get("content-encoding");
  if (encoding && encoding.trim().toLowerCase() !== "identity") return undefined;
  if (response.status === 206) return parseContentRange(response.headers.get("content-range"))?.total;
  const length = response.headers.get("content-length");
  return length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
}

/** fetch errors say "fetch failed" or "terminated"; the cause says why (ECONNRESET, ...). Redacted. */
function describe(e: unknown): string {
  const cause = e instanceof Error && e.cause !== undefined ? ` (${errorMessage(e.cause)})` : "";
  return errorMessage(e) + cause;
}

async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // Nothing to keep from a failed answer.
  }
}
