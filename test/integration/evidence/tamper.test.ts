/**
 * The examiner's check, end to end: real collections through the app (collector harness: the
 * composition root, the durable engine, the MDE simulator, Azurite), then an intruder with write
 * access to the evidence container changes one byte of a blob, swaps a block, plants a blob, edits
 * the manifest (updating its metadata), deletes the signature, deletes a blob. `verify` must report
 * each one and exit non-zero, and report an untouched collection all OK.
 */
import { createHash, createPublicKey } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { blockIdOf } from "../../../shared/evidence/blockStager";
import { jsonDocument } from "../../../shared/evidence/jsonDocument";
import { loadOrCreateLocalSigningKey } from "../../../shared/evidence/signing/localSigner";
import { verifyEvidence } from "../../../shared/evidence/verify/verifyEvidence";
import type { VerifyReport, VerifyRow } from "../../../shared/evidence/verify/types";
import { machine, startCollectorHarness, type CollectorHarness } from "../../support/collectorHarness";
import { verifyCli } from "../../support/verifyCli";

const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const md5 = (b: Buffer) => createHash("md5").update(b);

const commands = [
  { type: "RunScript", params: [{ key: "ScriptName", value: "triage.ps1" }] },
  { type: "GetFile", params: [{ key: "Path", value: "C:\\Temp\\memory.dmp" }] },
];

let h: CollectorHarness;
let keyDir: string;
let keyFile: string;

beforeAll(async () => {
  keyDir = mkdtempSync(path.join(tmpdir(), "verify-"));
  keyFile = path.join(keyDir, "manifest-signing-key.pem");
  // 8 MiB chunks: the 20 MiB GetFile of one collection is copied in three activities, under one nonce.
  h = await startCollectorHarness({ settings: { MANIFEST_SIGNING_DEVELOPMENT_KEY_FILE: keyFile, EVIDENCE_CHUNK_MIB: "8" } });
});

afterAll(async () => {
  await h.stop();
  rmSync(keyDir, { recursive: true, force: true });
});

/** One finished collection: its folder and blob names. */
async function collect(getFileSizeBytes = 64 * 1024) {
  const m = machine({ getFileSizeBytes });
  h.simulator.addMachine(m);
  const res = await h.start({ machineId: m.machineId, commands, comment: "tamper test" });
  expect(res.status).toBe(202);
  const instanceId = (res.jsonBody as { id: string }).id;
  const summary = await h.finish(instanceId);
  expect(summary).toMatchObject({ outcome: "Completed", complete: true });
  const folder = `liveresponse/${m.machineId}/${summary.actionId}`;
  return {
    machineId: m.machineId,
    instanceId,
    folder,
    script: `${folder}/0-RunScript-triage.ps1`,
    file: `${folder}/1-GetFile-memory.dmp`,
    manifest: `${folder}/manifest.json`,
    signature: `${folder}/manifest.signature.json`,
  };
}

const trust = () => ({ publicKeys: [createPublicKey(loadOrCreateLocalSigningKey(keyFile))], keyVaultKeys: [] });
const verifyMachine = (machineId: string) => verifyEvidence(h.container, { prefix: "liveresponse", machineId }, { trust: trust() });
const statuses = (report: VerifyReport) => Object.fromEntries(report.rows.map((r) => [r.blobName, r.status]));
const rowOf = (report: VerifyReport, blobName: string): VerifyRow => report.rows.find((r) => r.blobName === blobName) as VerifyRow;

/** The command line, as an examiner runs it against this Azurite. */
function cli(...args: string[]) {
  return verifyCli({ containerName: h.container.containerName, publicKeyFile: keyFile, cwd: keyDir }, ...args);
}

/** Rewrites a committed blob as a careful intruder would: the same block ids, metadata and Content-MD5, other bytes. */
async function rewriteBlock(blobName: string, change: (block: Buffer) => Buffer, newId?: string) {
  const blob = h.container.getBlockBlobClient(blobName);
  const properties = await blob.getProperties();
  const blocks = (await blob.getBlockList("committed")).committedBlocks ?? [];
  const block0 = await blob.downloadToBuffer(0, blocks[0].size);
  const id = newId ?? blocks[0].name;
  const replacement = change(block0);
  await blob.stageBlock(id, replacement, replacement.length);
  await blob.commitBlockList([id, ...blocks.slice(1).map((b) => b.name)], {
    metadata: properties.metadata,
    blobHTTPHeaders: { blobContentMD5: properties.contentMD5, blobContentType: properties.contentType },
  });
}

it("reports an untouched collection all OK, a 20 MiB GetFile copied in chunks included; the command exits 0", async () => {
  const c = await collect(20 * MiB);
  const report = await verifyMachine(c.machineId);
  expect(statuses(report)).toEqual({ [c.manifest]: "OK", [c.signature]: "OK", [c.script]: "OK", [c.file]: "OK" });
  expect(report.rows.every((r) => r.problems.length === 0)).toBe(true);
  const file = rowOf(report, c.file);
  const manifest = JSON.parse((await h.container.getBlockBlobClient(c.manifest).downloadToBuffer()).toString("utf8"));
  // The decompressed SHA-256 of a gzip result copied in several chunks, from the read-back, in the manifest.
  expect(manifest.commands[1].evidence).toMatchObject({ contentFormat: "gzip", decompressed: { sha256: file.decompressedSha256 } });
  expect((await h.container.getBlockBlobClient(c.file).getBlockList("committed")).committedBlocks?.length).toBeGreaterThan(2);

  const run = await cli("--machine", c.machineId);
  expect(run.code).toBe(0);
  expect(run.out).toMatch(/^all OK: 4 blob\(s\) in 1 collection\(s\): 4 OK, 0 MISMATCH, 0 MISSING, 0 EXTRA/m);
  const json = await cli("--instance", c.instanceId, "--json", "--quiet");
  expect(JSON.parse(json.out)).toMatchObject({ ok: true, summary: { collections: 1, ok: 4 } });
  expect(json.err).toBe("");
});

it("reports one byte changed in an evidence blob (metadata and Content-MD5 kept) as MISMATCH, and exits 1", async () => {
  const c = await collect();
  await rewriteBlock(c.file, (b) => {
    const changed = Buffer.from(b);
    changed[100] ^= 0x01;
    return changed;
  });
  const report = await verifyMachine(c.machineId);
  expect(statuses(report)).toEqual({ [c.manifest]: "OK", [c.signature]: "OK", [c.script]: "OK", [c.file]: "MISMATCH" });
  const row = rowOf(report, c.file);
  expect(row.problems).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^SHA-256 [0-9a-f]{64}, its metadata says /),
      expect.stringMatching(/^SHA-256 [0-9a-f]{64}, the manifest says /),
      expect.stringMatching(/^Content-MD5 .* is not the MD5 of its bytes$/),
    ]),
  );
  const run = await cli("--machine", c.machineId);
  expect(run.code).toBe(1);
  expect(run.out).toContain(`MISMATCH`);
  expect(run.out).toMatch(/^PROBLEMS FOUND: 4 blob\(s\)/m);
});

it("reports a block swapped for one staged by an intruder (another id) as MISMATCH naming the block", async () => {
  const c = await collect();
  await rewriteBlock(
    c.script,
    (b) => Buffer.from(b.toString("utf8").replace('"exit_code":0', '"exit_code":1')),
    blockIdOf(0, "intruderintruder"),
  );
  const report = await verifyMachine(c.machineId);
  const row = rowOf(report, c.script);
  expect(row.status).toBe("MISMATCH");
  expect(row.problems).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^committed block 0 does not carry the copy's nonce [A-Za-z0-9_-]{16}: staged by another writer$/),
      expect.stringMatching(/^SHA-256 [0-9a-f]{64}, the manifest says /),
    ]),
  );
  expect(statuses(report)).toMatchObject({ [c.manifest]: "OK", [c.signature]: "OK", [c.file]: "OK" });
  expect((await cli("--machine", c.machineId)).code).toBe(1);
});

it("reports a planted blob as EXTRA, and a deleted one as MISSING", async () => {
  const c = await collect();
  const planted = Buffer.from("not evidence");
  await h.container
    .getBlockBlobClient(`${c.folder}/2-GetFile-planted.exe`)
    .upload(planted, planted.length, { metadata: { sha256: sha256(planted), size: String(planted.length) } });
  await h.container.getBlockBlobClient(c.script).delete();
  const report = await verifyMachine(c.machineId);
  expect(statuses(report)).toEqual({
    [c.manifest]: "OK",
    [c.signature]: "OK",
    [c.file]: "OK",
    [c.script]: "MISSING",
    [`${c.folder}/2-GetFile-planted.exe`]: "EXTRA",
  });
  expect((await cli("--machine", c.machineId)).code).toBe(1);
});

it("reports a manifest edited (with its metadata updated to match) as MISMATCH: the signature no longer covers it", async () => {
  const c = await collect();
  const blob = h.container.getBlockBlobClient(c.manifest);
  const manifest = JSON.parse((await blob.downloadToBuffer()).toString("utf8"));
  manifest.outcomeReason = "nothing suspicious was found";
  const edited = jsonDocument(manifest);
  const properties = await blob.getProperties();
  await blob.upload(edited, edited.length, {
    metadata: { ...properties.metadata, sha256: sha256(edited), md5: md5(edited).digest("base64"), size: String(edited.length) },
    blobHTTPHeaders: { blobContentMD5: md5(edited).digest(), blobContentType: properties.contentType },
  });
  const report = await verifyMachine(c.machineId);
  expect(statuses(report)).toEqual({ [c.manifest]: "MISMATCH", [c.signature]: "MISMATCH", [c.script]: "OK", [c.file]: "OK" });
  expect(rowOf(report, c.signature).problems).toEqual([
    expect.stringMatching(/^signs digest [0-9a-f]{64}, the manifest's SHA-256 is [0-9a-f]{64}$/),
    expect.stringMatching(/^the signature does not verify with key local:sha256:[0-9a-f]{64}$/),
  ]);
  expect(rowOf(report, c.manifest).problems).toEqual([
    expect.stringMatching(/^signature: signs digest /),
    expect.stringMatching(/^signature: the signature does not verify/),
  ]);
  expect((await cli("--machine", c.machineId)).code).toBe(1);
});

it("reports a deleted signature as MISSING and its manifest as unsigned", async () => {
  const c = await collect();
  await h.container.getBlockBlobClient(c.signature).delete();
  const report = await verifyMachine(c.machineId);
  expect(statuses(report)).toEqual({ [c.manifest]: "MISMATCH", [c.signature]: "MISSING", [c.script]: "OK", [c.file]: "OK" });
  expect(rowOf(report, c.manifest).problems).toEqual([`not signed: ${c.signature} is missing`]);
  expect((await cli("--machine", c.machineId)).code).toBe(1);
});

it("does not trust a signature by another key, nor a manifest re-signed by the intruder's own key", async () => {
  const c = await collect();
  const other = path.join(keyDir, "other.pem");
  loadOrCreateLocalSigningKey(other);
  const run = await verifyCli(
    { containerName: h.container.containerName, publicKeyFile: other, cwd: keyDir },
    "--machine",
    c.machineId,
    "--json",
  );
  expect(run.code).toBe(1);
  const report = await verifyEvidence(
    h.container,
    { prefix: "liveresponse", machineId: c.machineId },
    { trust: { publicKeys: [createPublicKey(loadOrCreateLocalSigningKey(other))], keyVaultKeys: [] } },
  );
  expect(rowOf(report, c.signature)).toMatchObject({
    status: "MISMATCH",
    problems: [expect.stringMatching(/^signed by development key local:sha256:[0-9a-f]{64}, which is not among the trusted public keys$/)],
  });
});
