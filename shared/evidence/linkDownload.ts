import { CollectorError, errorMessage, redactUrl } from "../errors";
import type { HostAllowList } from "../hostPolicy";
import type { Logger, LogProperties } from "../log";
import { checkDownloadLink } from "./linkPolicy";
import type { LinkSource } from "./types";

/**
 * What the consumer of a download sees: bytes in order, or "forget everything, bytes start again at
 * the window start (0 without a window)".
 */
export type DownloadEvent = { kind: "data"; chunk: Uint8Array } | { kind: "restart"; reason: string };

export interface LinkDownloadOptions {
  fetch: typeof globalThis.fetch;
  /** Links fetched at most, the first included (each is one MDE API call). */
  maxLinkFetches: number;
  /** Hosts a link may name (see checkDownloadLink). @default DEFAULT_SOURCE_HOSTS: Azure Storage blob endpoints, no loopback */
  sourceHosts?: HostAllowList;
  abortSignal?: AbortSignal;
  logger: Logger;
  /** Added to every log entry (blobName, ...); never a URL with its query. */
  logProperties?: LogProperties;
  /** Only this byte range of the source (one chunk of a chunked copy). @default the whole content */
  window?: DownloadWindow;
}

/**
 * A byte range of the source, for chunked copies: one activity reads `[start, end)`, the next
 * one continues there. What earlier chunks saw of the source (size, ETag) must still hold.
 */
export interface DownloadWindow {
  /** First byte wanted; every request asks for `[start, end)` only (see {@link downloadWithResume}). */
  start: number;
  /**
   * One past the last byte wanted; undefined for "to the end". Dropped when the source turns out
   * to be content-encoded: ranges then address other bytes than those read, so it is read whole.
   */
  end?: number;
  /** Source size seen by an earlier chunk. */
  total?: number;
  /** Source ETag seen by an earlier chunk. */
  etag?: string;
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
  /** The source's full size, when an answer announced it (Content-Length of a 200, Content-Range total of a 206). */
  total?: number;
  /** The source's ETag, when it has one. */
  etag?: string;
}

/**
 * Streams the content behind a short-lived download link, surviving an expired link and a
 * broken stream: on 403/404 (an expired SAS answers 403 `AuthenticationFailed`), a network
 * error or a premature end it asks `link()` for a fresh URL and resumes with
 * `Range: bytes=<offset>-`, so the consumer keeps its hash state (the source is immutable).
 * When a resumed answer is not a 206 for exactly that offset (or the ETag changed), it yields a
 * `restart` event and starts again from byte 0. The consumer pulls, so backpressure is natural.
 *
 * With a {@link DownloadWindow} it yields only `[start, end)`, asking for
 * `Range: bytes=<start>-<end-1>` from the first request on, so the first chunk of a large result
 * does not ask for the whole file. At byte 0 an answer that cannot be that range (416 from an
 * empty source; a 206 of a content-encoded one, whose ranges address encoded bytes) is followed
 * by one request of the same link without Range, read and cut at `end` (or read whole when
 * content-encoded). A `restart` means "again from `start`"; a source that ignores Range (200) is
 * read from byte 0, its first `start` bytes discarded and the rest cut at `end`: slow but exact.
 * @throws CollectorError `DownloadFailed` for any other HTTP status, or after `maxLinkFetches`
 * links; `UntrustedDownloadLink` from the link policy; `SourceChanged` when a window after 0
 * finds another size or ETag than earlier chunks saw, or a Content-Encoding (the bytes already
 * staged may belong to other content: only a copy from byte 0 is exact). Messages never contain the SAS.
 */
export async function* downloadWithResume(
  link: LinkSource,
  options: LinkDownloadOptions,
  stats: LinkDownloadStats,
): AsyncGenerator<DownloadEvent, void, undefined> {
  const { logger, logProperties = {}, abortSignal, window } = options;
  const start = window?.start ?? 0;
  let end = window?.end;
  let offset = start;
  let total = window?.total;
  let etag = window?.etag;
  let lastFailure = "no attempt";
  // Cleared when a range at byte 0 is not served as asked (see answersRangeAtZero).
  let rangeAtZero = true;
  for (;;) {
    if (stats.linkFetches >= options.maxLinkFetches) {
      throw new CollectorError(
        "DownloadFailed",
        `Download abandoned after ${stats.linkFetches} download links; last failure: ${lastFailure}`,
      );
    }
    if (offset > start && stats.contentEncoding) {
      // Ranges address the encoded bytes, the offset counts decoded ones: only a restart is exact.
      const reason = `source has Content-Encoding ${stats.contentEncoding}; cannot resume by range`;
      offset = start;
      total = undefined;
      yield { kind: "restart", reason };
    }
    const fresh = await link();
    stats.linkFetches += 1;
    const url = checkDownloadLink(fresh, { sourceHosts: options.sourceHosts });
    const where = redactUrl(url.href);
    const retry = (failure: string, extra: LogProperties = {}): void => {
      lastFailure = failure;
      logger.warn("Evidence download interrupted; fetching a fresh link", {
        ...logProperties,
        ...extra,
        failure,
        offset,
        linkFetches: stats.linkFetches,
        source: where,
      });
    };

    const get = async (ranged: boolean): Promise<Response | undefined> => {
      try {
        return await options.fetch(url, {
          headers: ranged ? { range: `bytes=${offset}-${end === undefined ? "" : end - 1}` } : {},
          // A redirect would bypass the link policy; Azure Storage never redirects a blob GET.
          redirect: "manual",
          signal: abortSignal,
        });
      } catch (e) {
        if (abortSignal?.aborted) throw e;
        retry(`network error: ${describe(e)}`);
        return undefined;
      }
    };
    // At byte 0 only a bounded window needs a range: the whole content is wanted otherwise.
    let rangedAtZero = offset === 0 && end !== undefined && rangeAtZero;
    let response = await get(offset > 0 || rangedAtZero);
    if (response && rangedAtZero && !answersRangeAtZero(response)) {
      // An empty source answers 416, a content-encoded one a range of encoded bytes: ask the same
      // link for the whole content, as for a window without an end (no further MDE call).
      const status = response.status;
      await discard(response);
      rangeAtZero = false;
      rangedAtZero = false;
      logger.info("Evidence range at byte 0 not served; reading the whole content", { ...logProperties, status, source: where });
      response = await get(false);
    }
    if (!response) continue;

    if (response.status === 403 || response.status === 404) {
      await discard(response);
      retry(`HTTP ${response.status}`, { status: response.status });
      continue;
    }
    const answerEtag = response.headers.get("etag") ?? undefined;
    let skip = 0;
    if (offset > 0) {
      const range = parseContentRange(response.headers.get("content-range"));
      const answerTotal = response.status === 206 ? range?.total : expectedTotal(response);
      const sameSource =
        (total === undefined || answerTotal === undefined || answerTotal === total) && (!etag || !answerEtag || sameEtag(etag, answerEtag));
      const resumed = response.status === 206 && range?.start === offset && sameSource;
      if (start > 0 && (!sameSource || isEncoded(response))) {
        await discard(response);
        throw new CollectorError(
          "SourceChanged",
          `Source at ${where} no longer matches the bytes already copied (size, ETag or Content-Encoding changed); ` +
            "copy it again from byte 0",
        );
      }
      if (!resumed) {
        // Not the bytes that follow: the window starts again. Before a later window the bytes are
        // already staged, so a full answer is read past them; at byte 0 it is the whole content
        // again, of a source that may have changed (its size and ETag are taken afresh).
        const contentRange = response.status === 206 ? ` with Content-Range ${response.headers.get("content-range") ?? "missing"}` : "";
        const reason = `resume at byte ${offset} answered HTTP ${response.status}${contentRange}`;
        logger.warn("Evidence download restarting at the window start", { ...logProperties, reason, restartAt: start, source: where });
        offset = start;
        if (start === 0) {
          total = undefined;
          etag = undefined;
        }
        yield { kind: "restart", reason };
        if (response.status !== 200) {
          await discard(response);
          lastFailure = reason;
          continue;
        }
        // A full 200 answer is the whole content again: read it from the window start rather than fetch once more.
        skip = start;
      }
    }
    if (offset === 0 && response.status !== 200 && !(rangedAtZero && response.status === 206)) {
      await discard(response);
      throw new CollectorError("DownloadFailed", `Download failed: HTTP ${response.status} from ${where}`);
    }
    etag = answerEtag ?? etag;
    const encoding = response.headers.get("content-encoding")?.trim().toLowerCase();
    if (encoding && encoding !== "identity") stats.contentEncoding = encoding;
    total ??= expectedTotal(response);
    stats.total = total;
    stats.etag = etag;
    // A content-encoded source cannot be cut by range (see DownloadWindow.end): it is read whole.
    if (stats.contentEncoding) end = undefined;

    try {
      if (response.body) {
        for await (const received of response.body) {
          let chunk = received;
          if (skip > 0) {
            const n = Math.min(skip, chunk.byteLength);
            skip -= n;
            chunk = chunk.subarray(n);
          }
          if (end !== undefined && offset + chunk.byteLength >= end) {
            chunk = chunk.subarray(0, end - offset);
            offset = end;
            if (chunk.byteLength > 0) yield { kind: "data", chunk };
            // Leaving the loop cancels the rest of an answer longer than the window (a source that ignored Range).
            return;
          }
          offset += chunk.byteLength;
          if (chunk.byteLength > 0) yield { kind: "data", chunk };
        }
      }
    } catch (e) {
      if (abortSignal?.aborted) throw e;
      // Every announced byte arrived; only the close failed.
      if (total !== undefined && offset === total) return;
      if (end !== undefined && offset === end) return;
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
  if (isEncoded(response)) return undefined;
  if (response.status === 206) return parseContentRange(response.headers.get("content-range"))?.total;
  const length = response.headers.get("content-length");
  return length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
}

/**
 * Whether the answer to `Range: bytes=0-<n>` can be read as the window's bytes: a 206 from byte 0
 * of identity-encoded content, or a 200 of the whole content (a source that ignores Range, read
 * and cut at the window end as before), or a status handled like any other answer (403/404: a
 * fresh link). Not so: 416 (an empty source has no byte 0) and a content-encoded 206.
 */
function answersRangeAtZero(response: Response): boolean {
  if (response.status === 206) return !isEncoded(response) && parseContentRange(response.headers.get("content-range"))?.start === 0;
  return response.status !== 416;
}

function isEncoded(response: Response): boolean {
  const encoding = response.headers.get("content-encoding")?.trim().toLowerCase();
  return !!encoding && encoding !== "identity";
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

/** Weak comparison (RFC 9110 8.8.3.2): a proxy may mark the same ETag weak (`W/"x"` and `"x"`). */
function sameEtag(a: string, b: string): boolean {
  const opaque = (e: string) => e.replace(/^W\//, "");
  return opaque(a) === opaque(b);
}
