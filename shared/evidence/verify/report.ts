import type { VerifyProgress, VerifyReport, VerifyRow } from "./types";

const MiB = 1024 * 1024;

/** 0 when every row is OK and there is at least one; 1 otherwise (a problem, or nothing found where something was asked for). */
export function exitCodeOf(report: VerifyReport): 0 | 1 {
  return report.rows.length > 0 && report.rows.every((r) => r.status === "OK") ? 0 : 1;
}

/**
 * The report as text: one line per blob (status, size, SHA-256, name), its findings indented
 * below it, then a summary line. Meant for a terminal or a case file.
 */
export function formatReport(report: VerifyReport): string {
  const lines = report.rows.flatMap((row) => [
    rowLine(row),
    ...row.problems.map((p) => `          - ${p}`),
    ...(row.notes ?? []).map((n) => `          (${n})`),
  ]);
  if (report.rows.length === 0) lines.push("nothing to verify: no blob in the scope");
  return [...lines, summaryLine(report)].join("\n");
}

function rowLine(row: VerifyRow): string {
  const size = row.size === undefined ? "-" : String(row.size);
  return `${row.status.padEnd(9)} ${size.padStart(12)}  ${(row.sha256 ?? "-").padEnd(64)}  ${row.blobName}`;
}

export function summaryLine(report: VerifyReport): string {
  const s = report.summary;
  const seconds = s.elapsedInMs / 1000;
  const rate = seconds > 0 ? ` (${(s.bytesRead / MiB / seconds).toFixed(1)} MiB/s)` : "";
  const verdict = exitCodeOf(report) === 0 ? "all OK" : "PROBLEMS FOUND";
  const counts = `${s.ok} OK, ${s.mismatch} MISMATCH, ${s.missing} MISSING, ${s.extra} EXTRA`;
  const read = `${(s.bytesRead / MiB).toFixed(1)} MiB read in ${seconds.toFixed(1)} s${rate}`;
  return `${verdict}: ${s.rows} blob(s) in ${s.collections} collection(s): ${counts}; ${read}`;
}

/** The report for machines: the rows and the summary, with the exit code the command ends with. */
export function reportJson(report: VerifyReport): string {
  return JSON.stringify({ ok: exitCodeOf(report) === 0, ...report }, null, 2);
}

/** One progress line for stderr: blobs and bytes done out of the total. */
export function progressLine(p: VerifyProgress, elapsedInMs: number): string {
  const percent = p.bytesTotal > 0 ? Math.floor((100 * p.bytesDone) / p.bytesTotal) : 100;
  const rate = elapsedInMs > 0 ? (p.bytesDone / MiB / (elapsedInMs / 1000)).toFixed(1) : "0.0";
  const bytes = `${(p.bytesDone / MiB).toFixed(1)}/${(p.bytesTotal / MiB).toFixed(1)} MiB`;
  return `verify: ${p.blobsDone}/${p.blobsTotal} blobs, ${bytes} (${percent}%), ${rate} MiB/s`;
}
