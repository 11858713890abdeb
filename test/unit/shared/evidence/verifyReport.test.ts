import { createLimiter } from "../../../../shared/evidence/verify/limiter";
import { exitCodeOf, formatReport, progressLine, reportJson } from "../../../../shared/evidence/verify/report";
import { isManifestBlobName } from "../../../../shared/evidence/verify/scope";
import type { VerifyReport, VerifyRow } from "../../../../shared/evidence/verify/types";

const SHA = "ab".repeat(32);
const report = (rows: VerifyRow[]): VerifyReport => ({
  rows,
  summary: {
    collections: 1,
    rows: rows.length,
    ok: rows.filter((r) => r.status === "OK").length,
    mismatch: rows.filter((r) => r.status === "MISMATCH").length,
    missing: rows.filter((r) => r.status === "MISSING").length,
    extra: rows.filter((r) => r.status === "EXTRA").length,
    bytesRead: 10 * 1024 * 1024,
    elapsedInMs: 2000,
  },
});

describe("the verify report", () => {
  it("prints one row per blob with its findings below it and a summary, and exits 0 only when every row is OK", () => {
    const ok = report([{ status: "OK", blobName: "p/m/a/manifest.json", kind: "manifest", size: 10, sha256: SHA, problems: [] }]);
    expect(exitCodeOf(ok)).toBe(0);
    expect(formatReport(ok)).toBe(
      `OK                  10  ${SHA}  p/m/a/manifest.json\nall OK: 1 blob(s) in 1 collection(s): 1 OK, 0 MISMATCH, 0 MISSING, 0 EXTRA; 10.0 MiB read in 2.0 s (5.0 MiB/s)`,
    );
    const bad = report([
      {
        status: "MISMATCH",
        blobName: "p/m/a/0-GetFile-x",
        kind: "evidence",
        size: 6,
        sha256: SHA,
        problems: ["size 6, the manifest says 4096"],
        notes: ["index-only block ids"],
      },
      {
        status: "MISSING",
        blobName: "p/m/a/manifest.signature.json",
        kind: "signature",
        problems: ["the manifest's signature document is missing"],
      },
    ]);
    expect(exitCodeOf(bad)).toBe(1);
    expect(formatReport(bad).split("\n")).toEqual([
      `MISMATCH             6  ${SHA}  p/m/a/0-GetFile-x`,
      "          - size 6, the manifest says 4096",
      "          (index-only block ids)",
      `MISSING              -  ${"-".padEnd(64)}  p/m/a/manifest.signature.json`,
      "          - the manifest's signature document is missing",
      "PROBLEMS FOUND: 2 blob(s) in 1 collection(s): 0 OK, 1 MISMATCH, 1 MISSING, 0 EXTRA; 10.0 MiB read in 2.0 s (5.0 MiB/s)",
    ]);
    expect(JSON.parse(reportJson(bad))).toEqual({ ok: false, ...bad });
  });

  it("exits 1 when there was nothing to verify (a wrong prefix or id must not look like success)", () => {
    expect(exitCodeOf(report([]))).toBe(1);
    expect(formatReport(report([]))).toContain("nothing to verify");
  });

  it("says how far a long run is", () => {
    expect(progressLine({ blobsDone: 3, blobsTotal: 10, bytesDone: 512 * 1024 * 1024, bytesTotal: 1024 * 1024 * 1024 }, 4000)).toBe(
      "verify: 3/10 blobs, 512.0/1024.0 MiB (50%), 128.0 MiB/s",
    );
  });

  it("tells manifests from signatures and evidence", () => {
    expect(["p/m/a/manifest.json", "p/m/a/manifest-abc.json"].map(isManifestBlobName)).toEqual([true, true]);
    expect(["p/m/a/manifest.signature.json", "p/m/a/0-GetFile-manifest.json", "p/m/a/manifest.json.bak"].map(isManifestBlobName)).toEqual([
      false,
      false,
      false,
    ]);
  });
});

describe("createLimiter", () => {
  it("never runs more than its concurrency, hands each freed slot to the next task in order, and passes failures through", async () => {
    const limit = createLimiter(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (i: number) =>
      limit(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5 * (i % 3)));
        order.push(i);
        running--;
        if (i === 4) throw new Error("boom");
        return i;
      });
    const results = await Promise.allSettled([0, 1, 2, 3, 4, 5, 6].map(task));
    expect(peak).toBe(2);
    expect(results.map((r) => r.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
    ]);
    expect(order.sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(() => createLimiter(0)).toThrow(RangeError);
  });
});
