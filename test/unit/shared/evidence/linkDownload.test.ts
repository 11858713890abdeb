import { CollectorError } from "../../../../shared/errors";
import { silentLogger } from "../../../../shared/log";
import { downloadWithResume, parseContentRange, type LinkDownloadStats } from "../../../../shared/evidence/linkDownload";
import { BLOB_HOST_PATTERNS } from "../../../../shared/hostPolicy";
import { streamedResponse } from "../../../support/streamedResponse";

const source = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
const SIG = "sig=TOPSECRET";

type Step = "ok" | "403" | "404" | "500" | "throw" | { breakAfter: number } | "ignoreRange" | "wrongRange" | "shortEnd";

/** A scripted fetch serving `source`: one step per call; records the Range header of each request. */
function scriptedFetch(steps: Step[]) {
  const ranges: (string | null)[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const step = steps.shift() ?? "ok";
    const range = new Headers(init?.headers).get("range");
    ranges.push(range);
    if (step === "throw") throw new TypeError("fetch failed", { cause: new Error(`connect ECONNREFUSED ${String(input)}`) });
    if (step === "403" || step === "404" || step === "500") return new Response(`<Error>${SIG}</Error>`, { status: Number(step) });
    const start = range && step !== "ignoreRange" ? Number(/bytes=(\d+)-/.exec(range)?.[1]) : 0;
    const partial = start > 0;
    let body = source.subarray(start);
    const headers: Record<string, string> = { etag: '"0x1"', "content-length": String(body.length) };
    if (partial) headers["content-range"] = `bytes ${step === "wrongRange" ? start + 1 : start}-${source.length - 1}/${source.length}`;
    if (step === "shortEnd") body = body.subarray(0, 100);
    return streamedResponse(body, typeof step === "object" ? step.breakAfter : undefined, { status: partial ? 206 : 200, headers });
  }) as typeof globalThis.fetch;
  return { fetch, ranges };
}

/** Runs the download the way the writer does: restart forgets what was received. */
async function run(steps: Step[], maxLinkFetches = 5) {
  const { fetch, ranges } = scriptedFetch(steps);
  const stats: LinkDownloadStats = { linkFetches: 0 };
  let received: Buffer[] = [];
  const restarts: string[] = [];
  let links = 0;
  const link = async () => `https://mde.blob.core.windows.net/c/b-${++links}?${SIG}`;
  for await (const event of downloadWithResume(link, { fetch, maxLinkFetches, logger: silentLogger }, stats)) {
    if (event.kind === "restart") {
      restarts.push(event.reason);
      received = [];
    } else received.push(Buffer.from(event.chunk));
  }
  return { bytes: Buffer.concat(received), stats, ranges, restarts };
}

async function failure(steps: Step[], maxLinkFetches = 5): Promise<CollectorError> {
  try {
    await run(steps, maxLinkFetches);
  } catch (e) {
    return e as CollectorError;
  }
  throw new Error("expected the download to fail");
}

describe("downloadWithResume", () => {
  it("streams the content with one link when nothing goes wrong", async () => {
    const { bytes, stats, ranges } = await run(["ok"]);
    expect(bytes.equals(source)).toBe(true);
    expect(stats.linkFetches).toBe(1);
    expect(ranges).toEqual([null]);
  });

  it("fetches a fresh link after 403 (expired SAS) and 404", async () => {
    const { bytes, stats, ranges } = await run(["403", "404", "ok"]);
    expect(bytes.equals(source)).toBe(true);
    expect(stats.linkFetches).toBe(3);
    expect(ranges).toEqual([null, null, null]);
  });

  it("resumes a broken stream from the last byte received, with a Range request", async () => {
    const { bytes, stats, ranges, restarts } = await run([{ breakAfter: 4321 }, "ok"]);
    expect(bytes.equals(source)).toBe(true);
    expect(stats.linkFetches).toBe(2);
    expect(ranges).toEqual([null, "bytes=4321-"]);
    expect(restarts).toEqual([]);
  });

  it("resumes after a network error and an expired link in a row", async () => {
    const { bytes, ranges } = await run([{ breakAfter: 100 }, "throw", "403", "ok"]);
    expect(bytes.equals(source)).toBe(true);
    expect(ranges).toEqual([null, "bytes=100-", "bytes=100-", "bytes=100-"]);
  });

  it("resumes when a stream ends early without an error", async () => {
    const { bytes, ranges } = await run(["shortEnd", "ok"]);
    expect(bytes.equals(source)).toBe(true);
    expect(ranges).toEqual([null, "bytes=100-"]);
  });

  it("restarts from byte 0 on the same answer when the resumed request gets a full 200", async () => {
    const { bytes, stats, restarts } = await run([{ breakAfter: 5000 }, "ignoreRange"]);
    expect(bytes.equals(source)).toBe(true);
    expect(stats.linkFetches).toBe(2);
    expect(restarts).toHaveLength(1);
  });

  it("restarts from byte 0 with a fresh link when Content-Range does not match", async () => {
    const { bytes, stats, restarts, ranges } = await run([{ breakAfter: 5000 }, "wrongRange", "ok"]);
    expect(bytes.equals(source)).toBe(true);
    expect(stats.linkFetches).toBe(3);
    expect(restarts).toHaveLength(1);
    expect(ranges).toEqual([null, "bytes=5000-", null]);
  });

  it("gives up after maxLinkFetches links, naming the last failure but never the signature", async () => {
    const e = await failure(["403", "403", "403", "ok"], 3);
    expect(e).toBeInstanceOf(CollectorError);
    expect(e.code).toBe("DownloadFailed");
    expect(e.message).toMatch(/after 3 download links.*HTTP 403/);
    expect(e.message).not.toContain("sig=");
  });

  it("does not hide the signature-free cause of a network error", async () => {
    const e = await failure(["throw", "throw"], 2);
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(e.message).not.toContain("TOPSECRET");
  });

  it("fails at once with the status for any other HTTP error", async () => {
    const e = await failure(["500", "ok"]);
    expect(e.code).toBe("DownloadFailed");
    expect(e.message).toContain("HTTP 500");
    expect(e.message).toContain("https://mde.blob.core.windows.net/c/b-1");
    expect(e.message).not.toContain("sig=");
  });

  it("refuses an untrusted link before any request", async () => {
    const { fetch, ranges } = scriptedFetch(["ok"]);
    const sourceHosts = { hosts: BLOB_HOST_PATTERNS, allowLoopback: true };
    const events = downloadWithResume(
      async () => `http://example.com/x?${SIG}`,
      { fetch, maxLinkFetches: 5, sourceHosts, logger: silentLogger },
      { linkFetches: 0 },
    );
    await expect(events.next()).rejects.toMatchObject({ code: "UntrustedDownloadLink" });
    expect(ranges).toEqual([]);
  });

  it.each([
    ["the instance metadata address", "https://169.254.169.254/metadata/identity/oauth2/token"],
    ["an https host that is not Azure Storage", "https://attacker.example/x"],
  ])("refuses %s before any request, by default", async (_what, base) => {
    const { fetch, ranges } = scriptedFetch(["ok"]);
    const events = downloadWithResume(async () => `${base}?${SIG}`, { fetch, maxLinkFetches: 5, logger: silentLogger }, { linkFetches: 0 });
    const e = await events.next().catch((error: CollectorError) => error);
    expect(e).toMatchObject({ code: "UntrustedDownloadLink", message: expect.stringContaining("not on the allow-list") });
    expect((e as CollectorError).message).not.toContain(SIG);
    expect(ranges).toEqual([]);
  });

  it("follows loopback links with an allow-list that allows loopback (local development)", async () => {
    const { fetch } = scriptedFetch(["ok"]);
    const sourceHosts = { hosts: BLOB_HOST_PATTERNS, allowLoopback: true };
    const chunks: Uint8Array[] = [];
    for await (const event of downloadWithResume(
      async () => `http://127.0.0.1:10000/devstoreaccount1/c/b?${SIG}`,
      { fetch, maxLinkFetches: 5, sourceHosts, logger: silentLogger },
      { linkFetches: 0 },
    )) {
      if (event.kind === "data") chunks.push(event.chunk);
    }
    expect(Buffer.concat(chunks)).toEqual(source);
  });
});

describe("parseContentRange", () => {
  it("parses complete and unknown-length ranges and rejects garbage", () => {
    expect(parseContentRange("bytes 100-199/1000")).toEqual({ start: 100, end: 199, total: 1000 });
    expect(parseContentRange("bytes 0-9/*")).toEqual({ start: 0, end: 9, total: undefined });
    expect(parseContentRange("bytes */1000")).toBeUndefined();
    expect(parseContentRange(null)).toBeUndefined();
  });
});
