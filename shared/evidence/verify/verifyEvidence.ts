import type { ContainerClient } from "@azure/storage-blob";
import { isSignatureBlobName, signatureBlobNameOf } from "../signing/manifestSignature";
import type { TrustedKeys } from "../signing/signatureCheck";
import type { StreamDigestFactory } from "../streamDigest";
import { isTimestampBlobName, timestampBlobNameOf } from "../timestamp/manifestTimestamp";
import { checkEvidenceBlob, type EvidenceRecordOf } from "./evidenceCheck";
import { createLimiter } from "./limiter";
import { checkManifest } from "./manifestCheck";
import { NO_TIMESTAMP_TRUST, type TimestampTrust } from "./timestampCheck";
import { isManifestBlobName, listCollections, type CollectionFolder, type ListedBlob, type VerifyScope } from "./scope";
import type { VerifyProgress, VerifyReport, VerifyRow, VerifySummary } from "./types";

/** Options of {@link verifyEvidence}. */
export interface VerifyOptions {
  /** Whose manifest signatures count. */
  trust: TrustedKeys;
  /** Which time-stamp authorities count, and whether every manifest must have a token. @default none required, none trusted */
  timestamps?: TimestampTrust;
  /** Blobs read at once. @default 4 */
  concurrency?: number;
  /** Where the digests of evidence blobs are computed (a HashPool spreads them over cores). @default this thread */
  digest?: StreamDigestFactory;
  /** Called as blobs finish and bytes arrive (throttle it for display). */
  onProgress?: (progress: VerifyProgress) => void;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Re-reads every blob of the scope and says, one row per blob, whether it is what the collector
 * wrote: evidence blobs are read whole (streaming, a few at a time) and checked against their
 * metadata, their manifest and the writer's block layout; each manifest against its metadata and
 * its signature. A blob a manifest records that is not there is MISSING; a blob no manifest
 * records is EXTRA (in a folder without a manifest, each blob is checked against its own metadata
 * and the missing manifest is reported). Nothing is written.
 */
export async function verifyEvidence(container: ContainerClient, scope: VerifyScope, options: VerifyOptions): Promise<VerifyReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const limit = createLimiter(options.concurrency ?? 4);
  const collections = await listCollections(container, scope);
  const progress: VerifyProgress = { blobsDone: 0, blobsTotal: 0, bytesDone: 0, bytesTotal: 0 };
  for (const c of collections) {
    for (const b of c.blobs.values()) {
      progress.blobsTotal++;
      progress.bytesTotal += b.size;
    }
  }
  let bytesRead = 0;
  const report = () => options.onProgress?.({ ...progress });
  const tracked: Tracker = {
    digest: options.digest,
    onBytes: (n) => {
      bytesRead += n;
      progress.bytesDone += n;
      report();
    },
    done: (_blob, read = 0, skipped = 0) => {
      bytesRead += read;
      progress.blobsDone++;
      progress.bytesDone += read + skipped;
      report();
    },
  };
  const trust = { keys: options.trust, timestamps: options.timestamps ?? NO_TIMESTAMP_TRUST };
  const perFolder = await Promise.all(collections.map((c) => verifyFolder(container, c, trust, limit, tracked)));
  const rows = perFolder.flat();
  const summary: VerifySummary = {
    collections: collections.length,
    rows: rows.length,
    ok: rows.filter((r) => r.status === "OK").length,
    mismatch: rows.filter((r) => r.status === "MISMATCH").length,
    missing: rows.filter((r) => r.status === "MISSING").length,
    extra: rows.filter((r) => r.status === "EXTRA").length,
    bytesRead,
    elapsedInMs: now() - started,
  };
  return { rows, summary };
}

type Limit = ReturnType<typeof createLimiter>;
interface Tracker {
  digest?: StreamDigestFactory;
  /** Bytes of a streamed read arrived. */
  onBytes(n: number): void;
  /** A blob is finished: `read` bytes read whole (not streamed), `skipped` bytes not read at all. */
  done(blob: ListedBlob, read?: number, skipped?: number): void;
}

async function verifyFolder(
  container: ContainerClient,
  collection: CollectionFolder,
  trust: { keys: TrustedKeys; timestamps: TimestampTrust },
  limit: Limit,
  tracker: Tracker,
): Promise<VerifyRow[]> {
  const { blobs, folder } = collection;
  const manifests = [...blobs.values()].filter((b) => isManifestBlobName(b.name));
  const accounted = new Set<string>();
  const records = new Map<string, EvidenceRecordOf[]>();
  const rows: VerifyRow[] = [];

  if (manifests.length === 0) {
    rows.push({
      status: "MISSING",
      blobName: `${folder}/manifest.json`,
      kind: "manifest",
      problems: ["no manifest: the collection did not finish, or its manifest was removed"],
    });
  }
  const manifestChecks = await Promise.all(
    manifests.map((m) =>
      limit(async () => {
        const signature = blobs.get(signatureBlobNameOf(m.name));
        const timestamp = blobs.get(timestampBlobNameOf(m.name));
        for (const b of [m, signature, timestamp]) if (b) accounted.add(b.name);
        const checked = await checkManifest(container, m, signature, trust.keys, { blob: timestamp, trust: trust.timestamps });
        tracker.done(m, checked.bytesRead);
        if (signature) tracker.done(signature);
        if (timestamp) tracker.done(timestamp);
        return checked;
      }),
    ),
  );
  for (const checked of manifestChecks) {
    rows.push(...checked.rows);
    for (const [name, record] of checked.records) records.set(name, [...(records.get(name) ?? []), record]);
  }

  const recorded = [...records.keys()].sort();
  const evidenceRows = await Promise.all(
    recorded.map((name) => {
      const listed = blobs.get(name);
      accounted.add(name);
      if (!listed)
        return Promise.resolve<VerifyRow>({
          status: "MISSING",
          blobName: name,
          kind: "evidence",
          problems: ["recorded in the manifest, not in the container"],
        });
      return limit(() => checkAgainst(container, listed, records.get(name) ?? [], tracker));
    }),
  );
  rows.push(...evidenceRows);

  const unaccounted = [...blobs.values()].filter((b) => !accounted.has(b.name)).sort((a, b) => a.name.localeCompare(b.name));
  const rest = await Promise.all(
    unaccounted.map((b) => {
      if (manifests.length > 0 || isSignatureBlobName(b.name) || isTimestampBlobName(b.name)) {
        tracker.done(b, 0, b.size);
        const kind = isSignatureBlobName(b.name) ? "signature" : isTimestampBlobName(b.name) ? "timestamp" : "other";
        const what = {
          signature: "a signature document without its manifest",
          timestamp: "a timestamp token without its manifest",
          other: "not recorded in the collection's manifest",
        }[kind];
        return Promise.resolve<VerifyRow>({
          status: "EXTRA",
          blobName: b.name,
          kind,
          size: b.size,
          ...(b.metadata.sha256 ? { sha256: b.metadata.sha256 } : {}),
          problems: [what],
        });
      }
      return limit(() => checkAgainst(container, b, [], tracker));
    }),
  );
  rows.push(...rest);
  return rows;
}

/** One evidence blob against its own metadata and each manifest record of it. */
async function checkAgainst(
  container: ContainerClient,
  listed: ListedBlob,
  records: EvidenceRecordOf[],
  tracker: Tracker,
): Promise<VerifyRow> {
  const [first, ...others] = records;
  const row = await checkEvidenceBlob(container, listed, first, { onBytes: tracker.onBytes, digest: tracker.digest });
  // Two manifests recording the same blob (one of them planted) must agree with what is stored.
  for (const other of others) {
    if (other.evidence.sha256 !== row.sha256) row.problems.push(`another manifest records SHA-256 ${other.evidence.sha256}`);
  }
  if (row.problems.length > 0) row.status = "MISMATCH";
  tracker.done(listed);
  return row;
}
