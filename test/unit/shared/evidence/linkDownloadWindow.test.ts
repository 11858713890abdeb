import { silentLogger } from "../../../../shared/log";
import { downloadWithResume, type DownloadWindow, type LinkDownloadStats } from "../../../../shared/evidence/linkDownload";
import { streamedResponse } from "../../../support/streamedResponse";

const source = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7) % 253));

type Answer = "ok" | "403" | "ignoreRange" | "otherEtag" | "otherSize" | "gzipEncoded" | { breakAfter: number };

/** A fetch serving `source` with bounded ranges (`bytes=a-b`), one scripted answer per call; records each Range header. */
function servingFetch(answers: Answer[]) {
  const ranges: (string | null)[] = [];
  const fetch = (async (_input: string | URL | Request, init?: RequestInit) => {
    const answer = answers.shift() ?? "ok";
    const range = new Headers(init?.headers).get("range");
    ranges.push(range);
    if (answer === "403") return new Response("<Error/>", { status: 403 });
    const m = range && answer !== "ignoreRange" ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    const size = answer === "otherSize" ? source.length + 1 : source.length;
    const from = m ? Number(m[1]) : 0;
    const to = m && m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
    const body = source.subarray(from, to + 1);
    const headers: Record<string, string> = { etag: answer === "otherEtag" ? '"0x2"' : '"0x1"', "content-length": String(body.length) };
    if (m) headers["content-range"] = `bytes ${from}-${to}/${size}`;
    if (answer === "gzipEncoded") headers["content-encoding"] = "gzip";
    return streamedResponse(body, typeof answer === "object" ? answer.breakAfter : undefined, { status: m ? 206 : 200, headers });
  }) as typeof globalThis.fetch;
  return { fetch, ranges };
}

/** Consumes a windowed download as a chunked copy does: a restart forgets what this window received. */
async function runWindow(window: DownloadWindow, answers: Answer[] = []) {
  const { fetch, ranges } = servingFetch(answers);
  const stats: LinkDownloadStats = { linkFetches: 0 };
  let received: Buffer[] = [];
  const restarts: string[] = [];
  const link = async () => "https://mde.blob.core.windows.net/c/b?sig=SECRET";
  for await (const event of downloadWithResume(link, { fetch, maxLinkFetches: 5, logger: silentLogger, window }, stats)) {
    if (event.kind === "restart") {
      restarts.push(event.reason);
      received = [];
    } else received.push(Buffer.from(event.chunk));
  }
  return { bytes: Buffer.concat(received), stats, ranges, restarts };
}

describe("downloadWithResume with a window (one chunk of a chunked copy)", () => {
  it("asks for the first window with a bounded Range too, reporting the size from Content-Range and the ETag", async () => {
    const { bytes, ranges, stats } = await runWindow({ start: 0, end: 4096 });
    expect(bytes.equals(source.subarray(0, 4096))).toBe(true);
    expect(ranges).toEqual(["bytes=0-4095"]);
    expect(stats).toMatchObject({ linkFetches: 1, total: source.length, etag: '"0x1"' });
  });

  it("resumes a broken first window with a Range bounded by its end", async () => {
    const { bytes, ranges, restarts } = await runWindow({ start: 0, end: 4096 }, [{ breakAfter: 1000 }]);
    expect(bytes.equals(source.subarray(0, 4096))).toBe(true);
    expect(ranges).toEqual(["bytes=0-4095", "bytes=1000-4095"]);
    expect(restarts).toEqual([]);
  });

  it("cuts the first window at its end when the source ignores Range (200 with the whole content)", async () => {
    const { bytes, ranges, stats, restarts } = await runWindow({ start: 0, end: 4096 }, ["ignoreRange"]);
    expect(bytes.equals(source.subarray(0, 4096))).toBe(true);
    expect(ranges).toEqual(["bytes=0-4095"]);
    expect(stats).toMatchObject({ linkFetches: 1, total: source.length });
    expect(restarts).toEqual([]);
  });

  it("reads a content-encoded source whole with the same link when the first window's range comes back encoded", async () => {
    const { bytes, ranges, stats, restarts } = await runWindow({ start: 0, end: 4096 }, ["gzipEncoded", "gzipEncoded"]);
    expect(bytes.equals(source)).toBe(true);
    expect(ranges).toEqual(["bytes=0-4095", null]);
    expect(stats).toMatchObject({ linkFetches: 1, contentEncoding: "gzip" });
    expect(restarts).toEqual([]);
  });

  it("reads an empty source (416 to a range at byte 0) with the same link, without Range", async () => {
    const ranges: (string | null)[] = [];
    const fetch = (async (_input: string | URL | Request, init?: RequestInit) => {
      const range = new Headers(init?.headers).get("range");
      ranges.push(range);
      if (range)
        return new Response("<Error><Code>InvalidRange</Code></Error>", { status: 416, headers: { "content-range": "bytes */0" } });
      return new Response(new Uint8Array(0), { status: 200, headers: { "content-length": "0", etag: '"0x1"' } });
    }) as typeof globalThis.fetch;
    const stats: LinkDownloadStats = { linkFetches: 0 };
    const link = async () => "https://mde.blob.core.windows.net/c/b?sig=SECRET";
    const events = [];
    for await (const event of downloadWithResume(
      link,
      { fetch, maxLinkFetches: 5, logger: silentLogger, window: { start: 0, end: 4096 } },
      stats,
    ))
      events.push(event);
    expect(events).toEqual([]);
    expect(ranges).toEqual(["bytes=0-4095", null]);
    expect(stats).toMatchObject({ linkFetches: 1, total: 0 });
  });

  it("asks for a later window with a bounded Range and gets exactly it", async () => {
    const { bytes, ranges } = await runWindow({ start: 4096, end: 8192, total: source.length, etag: '"0x1"' });
    expect(bytes.equals(source.subarray(4096, 8192))).toBe(true);
    expect(ranges).toEqual(["bytes=4096-8191"]);
  });

  it("ends the last window at the end of the source", async () => {
    const { bytes } = await runWindow({ start: 8192, end: 12_288 });
    expect(bytes.equals(source.subarray(8192))).toBe(true);
  });

  it("resumes a window whose stream breaks, with a fresh link and a Range bounded by the window end", async () => {
    const { bytes, ranges, stats, restarts } = await runWindow({ start: 4096, end: 8192 }, [{ breakAfter: 1500 }]);
    expect(bytes.equals(source.subarray(4096, 8192))).toBe(true);
    expect(ranges).toEqual(["bytes=4096-8191", "bytes=5596-8191"]);
    expect(stats.linkFetches).toBe(2);
    expect(restarts).toEqual([]);
  });

  it("fetches a fresh link when the first one of a window answers 403", async () => {
    const { bytes, ranges } = await runWindow({ start: 4096, end: 8192 }, ["403"]);
    expect(bytes.equals(source.subarray(4096, 8192))).toBe(true);
    expect(ranges).toEqual(["bytes=4096-8191", "bytes=4096-8191"]);
  });

  it("reads past the bytes before the window when the source ignores Range (200)", async () => {
    const { bytes, restarts } = await runWindow({ start: 4096, end: 8192 }, ["ignoreRange"]);
    expect(bytes.equals(source.subarray(4096, 8192))).toBe(true);
    expect(restarts).toHaveLength(1);
  });

  it("accepts the same ETag marked weak by a proxy as the same source", async () => {
    const { bytes } = await runWindow({ start: 4096, end: 8192, total: source.length, etag: 'W/"0x1"' });
    expect(bytes.equals(source.subarray(4096, 8192))).toBe(true);
  });

  it("refuses a later window when the source's ETag or size differs from what earlier chunks saw", async () => {
    await expect(runWindow({ start: 4096, end: 8192, etag: '"0x1"' }, ["otherEtag"])).rejects.toMatchObject({ code: "SourceChanged" });
    await expect(runWindow({ start: 4096, end: 8192, total: source.length }, ["otherSize"])).rejects.toMatchObject({
      code: "SourceChanged",
    });
  });

  it("refuses a later window of a content-encoded source (ranges address other bytes than those read)", async () => {
    await expect(runWindow({ start: 4096, end: 8192 }, ["gzipEncoded"])).rejects.toMatchObject({ code: "SourceChanged" });
  });
});
