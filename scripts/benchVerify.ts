/**
 * Benchmark (not a test) of `npm run verify` against Azurite, beside the baseline that makes its
 * figure meaningful, measured in the same run on the same blob:
 *   (a) a plain read of the evidence blob (Get Blob, streamed, bytes thrown away);
 *   (b) `verify` of the collection holding it: the same read plus SHA-256, MD5, the block list, the
 *       manifest and its signature (goal: at least 0.8 of (a));
 *   (c) the same read hashed with SHA-256 and MD5 on its own thread, and nothing else: the least any
 *       verification must do. When the storage service shares the machine's cores (Azurite here), the
 *       read already keeps them busy and the hashing's CPU comes out of it, so (c)/(a) is the ceiling
 *       of (b)/(a) on this machine, and (b)/(c) is what verify's own work costs.
 * The blob is laid out as the evidence writer lays it out (8 MiB blocks under one nonce, metadata in
 * the commit) and recorded in a signed manifest, so `verify` reports it OK. Runs alternate a, b, c, a, b, c...
 *
 * Then the read-back cost per collection: the evidence writer copies results of each BENCH_COPY_MIB size from a second account
 * (the product's path, chunk by chunk) and its own log says how long the commit's read-back took.
 *
 * Azurite's read rate swings from run to run (one Node.js process holding the blob in memory, its
 * garbage collector included), so one uncounted read warms it up and the medians are compared.
 *
 * Settings (environment): BENCH_MIB (default 1024), BENCH_RUNS (5), BENCH_CONCURRENCY (4),
 * BENCH_COPY_MIB (comma-separated sizes, default 0.0625,1,16,256: the simulator's default GetFile of 64 KiB, then larger).
 * Run with `npm run bench:verify` (Node 22).
 */
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { BlobSASPermissions, BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { startAzurite } from "../simulator";
import type { Manifest } from "../shared/contract";
import { BlobEvidenceStore } from "../shared/evidence/blobWriter";
import { blockIdOf, newBlockNonce } from "../shared/evidence/blockStager";
import { evidenceMetadata } from "../shared/evidence/evidenceMetadata";
import { jsonDocument } from "../shared/evidence/jsonDocument";
import { createLocalSigner } from "../shared/evidence/signing/localSigner";
import { signatureBlobNameOf, signManifest } from "../shared/evidence/signing/manifestSignature";
import type { ChunkedCopyState, CopyResult } from "../shared/evidence/types";
import { inlineDigest, type StreamDigestFactory } from "../shared/evidence/streamDigest";
import { HashPool } from "../shared/evidence/verify/hashPool";
import { verifyEvidence } from "../shared/evidence/verify/verifyEvidence";
import type { LogProperties } from "../shared/log";
import { hashWorkers } from "./verifyCommand";
import { benchSetting } from "./benchSettings";

const MiB = 1024 * 1024;
const BLOCK = 8 * MiB;
const MACHINE = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07";
const ACTION = "7b1f2c3d-0000-4000-8000-000000000001";

interface Measured {
  seconds: number;
  mibPerSecond: number;
  peakRssMiB: number;
  /** CPU seconds this process spent (user + system): what the hashing costs beside the read. */
  cpuSeconds: number;
  /** Share of the whole machine's CPU in use during the phase (Linux /proc/stat), when readable. */
  machineBusy?: number;
}

/** Busy and total jiffies of all CPUs, or undefined off Linux. */
function cpuTimes(): { busy: number; total: number } | undefined {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((sum, n) => sum + n, 0);
    return { busy: total - fields[3] - fields[4], total };
  } catch {
    return undefined;
  }
}

/** Runs one phase, sampling RSS every 20 ms; collects garbage first when node runs with --expose-gc. */
async function measure(bytes: number, work: () => Promise<void>): Promise<Measured> {
  (globalThis as { gc?: () => void }).gc?.();
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  const machineBefore = cpuTimes();
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const machineAfter = cpuTimes();
  const machineBusy =
    machineBefore && machineAfter ? (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total) : undefined;
  return {
    seconds,
    mibPerSecond: bytes / MiB / seconds,
    peakRssMiB: Math.max(peak, process.memoryUsage.rss()) / MiB,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    machineBusy,
  };
}

/**
 * A collection as the collector leaves it: one evidence blob of `mib` MiB in the writer's block
 * layout with its metadata, and a signed manifest recording it. Never holds the file in memory.
 */
async function plantCollection(container: ContainerClient, mib: number, signer: ReturnType<typeof createLocalSigner>): Promise<string> {
  const folder = `liveresponse/${MACHINE}/${ACTION}`;
  const blobName = `${folder}/0-GetFile-memory.dmp`;
  const blob = container.getBlockBlobClient(blobName);
  const nonce = newBlockNonce();
  const sha256 = createHash("sha256");
  const md5 = createHash("md5");
  const ids: string[] = [];
  for (let done = 0; done < mib * MiB; done += BLOCK) {
    const block = randomBytes(Math.min(BLOCK, mib * MiB - done));
    sha256.update(block);
    md5.update(block);
    ids.push(blockIdOf(ids.length, nonce));
    await blob.stageBlock(ids[ids.length - 1], block, block.length);
  }
  const md5Bytes = md5.digest();
  const digest = { sha256: sha256.digest("hex"), md5: md5Bytes.toString("base64"), size: mib * MiB };
  const callerMetadata = { machineid: MACHINE, actionid: ACTION, commandindex: "0", commandtype: "GetFile", instanceid: "bench" };
  await blob.commitBlockList(ids, {
    metadata: evidenceMetadata(callerMetadata, digest, { format: "raw" }, { blockNonce: nonce }),
    blobHTTPHeaders: { blobContentMD5: md5Bytes },
  });
  const evidence: Omit<CopyResult, "created" | "head"> = {
    blobName,
    blobUrl: blob.url,
    ...digest,
    contentFormat: "raw",
    blockNonce: nonce,
    committedAt: new Date().toISOString(),
    linkFetches: 1,
  };
  const manifest: Manifest = {
    schema: "mde-live-response-evidence-manifest/v1",
    instanceId: "bench",
    trigger: { kind: "webhook", receivedAt: new Date().toISOString() },
    request: { machineId: MACHINE, comment: "bench", commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\memory.dmp" }] }] },
    outcome: "Completed",
    outcomeReason: "bench",
    complete: true,
    startedAt: new Date().toISOString(),
    finishedAt: new Date().toISOString(),
    machineAction: null,
    commands: [
      { index: 0, type: "GetFile", params: [], status: "Completed", executed: true, errors: [], startTime: null, endTime: null, evidence },
    ],
  };
  const store = new BlobEvidenceStore(container);
  const manifestName = `${folder}/manifest.json`;
  const manifestMetadata = { machineid: MACHINE, actionid: ACTION, instanceid: "bench", outcome: "Completed", kind: "manifest" };
  await store.writeJson(manifestName, manifest, { metadata: manifestMetadata });
  await store.writeJson(signatureBlobNameOf(manifestName), await signManifest(signer, manifestName, jsonDocument(manifest)), {
    metadata: { ...manifestMetadata, kind: "manifest-signature" },
  });
  return blobName;
}

/** MiB/s of SHA-256 and MD5 over 1 GiB already in memory (one 64 KiB buffer fed 16,384 times). */
async function digestRate(factory: StreamDigestFactory): Promise<number> {
  const chunk = randomBytes(64 * 1024);
  const digest = factory();
  const started = process.hrtime.bigint();
  for (let i = 0; i < 16_384; i++) {
    const fed = digest.update(chunk);
    if (fed) await fed;
  }
  await digest.finish();
  return 1024 / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function plainRead(container: ContainerClient, blobName: string, digest?: StreamDigestFactory): Promise<number> {
  const hashing = digest?.();
  const response = await container.getBlobClient(blobName).download(0);
  let size = 0;
  for await (const chunk of response.readableStreamBody ?? []) {
    size += (chunk as Buffer).length;
    const fed = hashing?.update(chunk as Buffer);
    if (fed) await fed;
  }
  await hashing?.finish();
  return size;
}

/** The product's copy path into `container`, returning what its log said about the commit and the read-back. */
async function copyThroughWriter(sourceConnectionString: string, container: ContainerClient, bytes: number) {
  const source = BlobServiceClient.fromConnectionString(sourceConnectionString).getContainerClient(`bench-${randomUUID().slice(0, 8)}`);
  await source.create();
  const result = source.getBlockBlobClient("result.bin");
  const ids: string[] = [];
  for (let done = 0; done < bytes; done += BLOCK) {
    const block = randomBytes(Math.min(BLOCK, bytes - done));
    ids.push(blockIdOf(ids.length));
    await result.stageBlock(ids[ids.length - 1], block, block.length);
  }
  await result.commitBlockList(ids);
  const url = await result.generateSasUrl({ permissions: BlobSASPermissions.parse("r"), expiresOn: new Date(Date.now() + 60 * 60_000) });
  const logged: { message: string; properties?: LogProperties }[] = [];
  const logger = {
    info: (message: string, properties?: LogProperties) => void logged.push({ message, properties }),
    warn() {},
    error() {},
  };
  const store = new BlobEvidenceStore(container, { sourceHosts: { hosts: [], allowLoopback: true }, logger });
  const started = Date.now();
  let state: ChunkedCopyState | undefined;
  for (;;) {
    const progress = await store.copyChunk(async () => url, state, {
      blobName: `copied/${bytes}/0-GetFile-a.bin`,
      contentType: "application/octet-stream",
      metadata: {},
      chunkBytes: 512 * MiB,
    });
    if (progress.result) break;
    state = progress.state;
  }
  const total = Date.now() - started;
  const readBack = Number(logged.find((l) => l.message === "Evidence read back")?.properties?.elapsedInMs);
  await source.delete();
  return { totalMs: total, readBackMs: readBack };
}

async function main(): Promise<void> {
  const mib = benchSetting("BENCH_MIB", 1024);
  const runs = benchSetting("BENCH_RUNS", 5);
  const concurrency = benchSetting("BENCH_CONCURRENCY", 4);
  const copySizes = (process.env.BENCH_COPY_MIB || "0.0625,1,16,256").split(",").map((s) => Math.round(Number(s) * MiB));
  if (copySizes.some((n) => !Number.isSafeInteger(n) || n < 1))
    throw new Error(`BENCH_COPY_MIB must be positive sizes in MiB, got ${process.env.BENCH_COPY_MIB}`);
  const azurite = await startAzurite();
  try {
    const container = BlobServiceClient.fromConnectionString(azurite.evidenceConnectionString).getContainerClient(
      `bench-${randomUUID().slice(0, 8)}`,
    );
    await container.create();
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const blobName = await plantCollection(container, mib, createLocalSigner(privateKey));
    const trust = { publicKeys: [publicKey], keyVaultKeys: [] };
    const scope = { prefix: "liveresponse", machineId: MACHINE };

    await plainRead(container, blobName);
    // As `npm run verify` does: SHA-256 and MD5 on worker threads beside the read.
    const hashes = new HashPool(hashWorkers(concurrency));
    const plain: Measured[] = [];
    const verified: Measured[] = [];
    const hashed: Measured[] = [];
    for (let run = 0; run < runs; run++) {
      plain.push(
        await measure(mib * MiB, async () => {
          if ((await plainRead(container, blobName)) !== mib * MiB) throw new Error("short read");
        }),
      );
      verified.push(
        await measure(mib * MiB, async () => {
          const report = await verifyEvidence(container, scope, { trust, concurrency, digest: hashes.digest });
          const bad = report.rows.filter((r) => r.status !== "OK");
          if (bad.length > 0 || report.rows.length !== 3) throw new Error(`verify did not report all OK: ${JSON.stringify(bad)}`);
        }),
      );
      hashed.push(
        await measure(mib * MiB, async () => {
          if ((await plainRead(container, blobName, inlineDigest)) !== mib * MiB) throw new Error("short read");
        }),
      );
    }
    await hashes.close();
    const median = (xs: Measured[]) => [...xs].sort((x, y) => x.mibPerSecond - y.mibPerSecond)[Math.floor(xs.length / 2)];
    const line = (label: string, m: Measured) =>
      `${label.padEnd(34)} ${m.mibPerSecond.toFixed(1).padStart(7)} MiB/s  ${m.seconds.toFixed(2).padStart(6)} s` +
      `  client CPU ${(m.cpuSeconds / (mib / 1024)).toFixed(2)} s/GiB` +
      `${m.machineBusy === undefined ? "" : `  machine ${(100 * m.machineBusy).toFixed(0)}% busy`}` +
      `  peak RSS ${m.peakRssMiB.toFixed(0)} MiB`;
    console.log(
      `verify benchmark: ${mib} MiB evidence blob in ${mib / 8} blocks, ${runs} runs each (alternating), ` +
        `concurrency ${concurrency}, ${cpus().length} CPUs, Node ${process.version}`,
    );
    for (let run = 0; run < runs; run++) {
      console.log(line(`(a) plain read, run ${run + 1}`, plain[run]));
      console.log(line(`(b) verify, run ${run + 1}`, verified[run]));
      console.log(line(`(c) read + SHA-256 + MD5, run ${run + 1}`, hashed[run]));
    }
    const [a, b, c] = [median(plain), median(verified), median(hashed)];
    console.log(
      `median: (a) ${a.mibPerSecond.toFixed(1)} MiB/s, (b) ${b.mibPerSecond.toFixed(1)} MiB/s, (c) ${c.mibPerSecond.toFixed(1)} MiB/s; ` +
        `ratio (b)/(a): ${(b.mibPerSecond / a.mibPerSecond).toFixed(2)} (goal >= 0.8); ` +
        `(c)/(a): ${(c.mibPerSecond / a.mibPerSecond).toFixed(2)} (hashing's ceiling on this machine); ` +
        `(b)/(c): ${(b.mibPerSecond / c.mibPerSecond).toFixed(2)} (verify's own work)`,
    );
    // What hashing alone allows when the storage service does not share the CPU: the same digests from memory.
    const inline = await digestRate(inlineDigest);
    const pool = new HashPool(hashWorkers(concurrency));
    const pooled = await digestRate(pool.digest);
    await pool.close();
    console.log(
      `SHA-256 + MD5 of 1 GiB from memory: ${inline.toFixed(0)} MiB/s on one thread, ${pooled.toFixed(0)} MiB/s on hash workers ` +
        `(verify's ceiling per process when the storage service runs elsewhere)`,
    );

    await container.delete();
    const evidence = BlobServiceClient.fromConnectionString(azurite.evidenceConnectionString).getContainerClient(
      `bench-${randomUUID().slice(0, 8)}`,
    );
    await evidence.create();
    console.log("read-back cost: each result copied through the evidence writer, then read back once after its commit");
    for (const bytes of copySizes) {
      const copy = await copyThroughWriter(azurite.sourceConnectionString, evidence, bytes);
      const size = bytes < MiB ? `${bytes / 1024} KiB` : `${bytes / MiB} MiB`;
      console.log(
        `  ${size.padStart(9)}: copy ${(copy.totalMs / 1000).toFixed(3)} s, of which read-back ${(copy.readBackMs / 1000).toFixed(3)} s ` +
          `(${((100 * copy.readBackMs) / copy.totalMs).toFixed(0)}%), ${bytes} bytes read back`,
      );
    }
  } finally {
    await azurite.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
