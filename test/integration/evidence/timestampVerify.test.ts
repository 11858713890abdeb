/**
 * RFC 3161 timestamps end to end: the app configured with MANIFEST_TIMESTAMP_URL (the project's test
 * TSA on loopback) stores a token beside each manifest, and `verify` checks it against the manifest
 * as stored and, with --tsa-ca, against the TSA's CA; a TSA that refuses leaves a completed
 * collection without a token, which only --require-timestamp makes a problem.
 */
import { spawnSync } from "node:child_process";
import { createHash, createPublicKey } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createEvidenceStore } from "../../../shared/evidence/blobWriter";
import { jsonDocument } from "../../../shared/evidence/jsonDocument";
import { loadOrCreateLocalSigningKey } from "../../../shared/evidence/signing/localSigner";
import type { VerifyReport, VerifyRow } from "../../../shared/evidence/verify/types";
import { verifyEvidence } from "../../../shared/evidence/verify/verifyEvidence";
import {
  createTimestampAuthority,
  startTimestampAuthorityServer,
  type TimestampAuthority,
  type TimestampAuthorityServer,
} from "../../../simulator/timestampAuthority";
import { testAzurite } from "../../support/azurite";
import { verifyCli } from "../../support/verifyCli";
import { machine, startCollectorHarness, type CollectorHarness } from "../../support/collectorHarness";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const md5 = (b: Buffer) => createHash("md5").update(b);
const commands = [{ type: "GetFile", params: [{ key: "Path", value: "C:\\Temp\\memory.dmp" }] }];

let h: CollectorHarness;
let tsa: TimestampAuthority;
let otherTsa: TimestampAuthority;
let server: TimestampAuthorityServer;
let dir: string;
let keyFile: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "verify-tsa-"));
  keyFile = path.join(dir, "manifest-signing-key.pem");
  [tsa, otherTsa] = await Promise.all([
    createTimestampAuthority({ name: "Examiner Test TSA" }),
    createTimestampAuthority({ name: "Other TSA" }),
  ]);
  writeFileSync(path.join(dir, "tsa-ca.pem"), tsa.caPem);
  writeFileSync(path.join(dir, "other-ca.pem"), otherTsa.caPem);
  server = await startTimestampAuthorityServer(tsa);
  h = await startCollectorHarness({ settings: { MANIFEST_SIGNING_DEVELOPMENT_KEY_FILE: keyFile, MANIFEST_TIMESTAMP_URL: server.url } });
});

afterAll(async () => {
  await h.stop();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  tsa.faults = {};
});

async function collect() {
  const m = machine({ getFileSizeBytes: 4 * 1024 });
  h.simulator.addMachine(m);
  const res = await h.start({ machineId: m.machineId, commands, comment: "timestamp test" });
  expect(res.status).toBe(202);
  const summary = await h.finish((res.jsonBody as { id: string }).id);
  expect(summary).toMatchObject({ outcome: "Completed", complete: true });
  const folder = `liveresponse/${m.machineId}/${summary.actionId}`;
  return {
    machineId: m.machineId,
    folder,
    file: `${folder}/0-GetFile-memory.dmp`,
    manifest: `${folder}/manifest.json`,
    signature: `${folder}/manifest.signature.json`,
    token: `${folder}/manifest.timestamp.tsr`,
  };
}

const trust = () => ({ publicKeys: [createPublicKey(loadOrCreateLocalSigningKey(keyFile))], keyVaultKeys: [] });
const verifyMachine = (machineId: string, anchors: Uint8Array[] = [tsa.caDer], required = false) =>
  verifyEvidence(h.container, { prefix: "liveresponse", machineId }, { trust: trust(), timestamps: { anchors, required } });
const statuses = (report: VerifyReport) => Object.fromEntries(report.rows.map((r) => [r.blobName, r.status]));
const rowOf = (report: VerifyReport, blobName: string): VerifyRow => report.rows.find((r) => r.blobName === blobName) as VerifyRow;

function cli(...args: string[]) {
  return verifyCli({ containerName: h.container.containerName, publicKeyFile: keyFile, cwd: dir }, ...args);
}

/** Replaces a blob's bytes as a careful intruder would: metadata digests and Content-MD5 updated to match. */
async function replace(blobName: string, bytes: Buffer) {
  const blob = h.container.getBlockBlobClient(blobName);
  const properties = await blob.getProperties();
  await blob.upload(bytes, bytes.length, {
    metadata: { ...properties.metadata, sha256: sha256(bytes), md5: md5(bytes).digest("base64"), size: String(bytes.length) },
    blobHTTPHeaders: { blobContentMD5: md5(bytes).digest(), blobContentType: properties.contentType },
  });
}

it("stores a token beside the manifest that verify reports OK with its time and TSA, and openssl ts -verify accepts", async () => {
  const c = await collect();
  const report = await verifyMachine(c.machineId);
  expect(statuses(report)).toEqual({ [c.manifest]: "OK", [c.signature]: "OK", [c.token]: "OK", [c.file]: "OK" });
  const row = rowOf(report, c.token);
  expect(row).toMatchObject({
    kind: "timestamp",
    problems: [],
    timestamp: { genTime: expect.any(String), tsa: "CN=Examiner Test TSA", signer: { issuer: "CN=Examiner Test TSA CA" } },
  });
  expect(row.notes).toEqual([expect.stringMatching(/^RFC 3161 token of \S+ by CN=Examiner Test TSA, serial [0-9a-f]+$/)]);

  const run = await cli("--machine", c.machineId, "--tsa-ca", "tsa-ca.pem");
  expect(run.code).toBe(0);
  expect(run.out).toMatch(/^all OK: 4 blob\(s\) in 1 collection\(s\): 4 OK, 0 MISMATCH, 0 MISSING, 0 EXTRA/m);
  expect(run.out).toContain("(RFC 3161 token of ");
  const json = JSON.parse((await cli("--machine", c.machineId, "--tsa-ca", "tsa-ca.pem", "--json", "--quiet")).out);
  expect(json.rows.find((r: VerifyRow) => r.kind === "timestamp")).toMatchObject({ status: "OK", timestamp: row.timestamp });
  // Without --tsa-ca the token is checked against itself only, and said so: a note, not a failure.
  const untrusted = await cli("--machine", c.machineId);
  expect(untrusted.code).toBe(0);
  expect(untrusted.out).toContain("the TSA was not checked against a trust anchor");

  if (spawnSync("openssl", ["version"]).status === 0) {
    writeFileSync(path.join(dir, "manifest.json"), await h.container.getBlobClient(c.manifest).downloadToBuffer());
    writeFileSync(path.join(dir, "manifest.timestamp.tsr"), await h.container.getBlobClient(c.token).downloadToBuffer());
    const openssl = spawnSync(
      "openssl",
      ["ts", "-verify", "-data", "manifest.json", "-in", "manifest.timestamp.tsr", "-CAfile", "tsa-ca.pem"],
      {
        cwd: dir,
        encoding: "utf8",
      },
    );
    expect(`${openssl.stdout}${openssl.stderr}`).toMatch(/Verification: OK/);
  }
});

it("reports an edited manifest's token as MISMATCH: it timestamps other bytes", async () => {
  const c = await collect();
  const manifest = JSON.parse((await h.container.getBlobClient(c.manifest).downloadToBuffer()).toString("utf8"));
  manifest.outcomeReason = "nothing suspicious was found";
  await replace(c.manifest, jsonDocument(manifest));
  const report = await verifyMachine(c.machineId);
  expect(statuses(report)).toMatchObject({ [c.manifest]: "MISMATCH", [c.signature]: "MISMATCH", [c.token]: "MISMATCH" });
  expect(rowOf(report, c.token).problems).toEqual([expect.stringMatching(/^the token is for SHA-256 [0-9a-f]{64}, the bytes' SHA-256 is/)]);
  expect((await cli("--machine", c.machineId, "--tsa-ca", "tsa-ca.pem")).code).toBe(1);
});

it("reports a token replaced by one for another digest as MISMATCH, even one by the same TSA", async () => {
  const c = await collect();
  await replace(c.token, await tsa.timestamp(Buffer.from("a manifest the intruder prefers")));
  const report = await verifyMachine(c.machineId);
  expect(statuses(report)).toMatchObject({ [c.manifest]: "OK", [c.signature]: "OK", [c.token]: "MISMATCH" });
  expect(rowOf(report, c.token).problems).toEqual([expect.stringMatching(/^the token is for SHA-256 /)]);
  expect((await cli("--machine", c.machineId, "--tsa-ca", "tsa-ca.pem")).code).toBe(1);
});

it("reports a token whose signer does not chain to --tsa-ca as MISMATCH", async () => {
  const c = await collect();
  const report = await verifyMachine(c.machineId, [otherTsa.caDer]);
  expect(rowOf(report, c.token)).toMatchObject({
    status: "MISMATCH",
    problems: [expect.stringContaining("the CMS signature does not verify: Validation of signer's certificate failed")],
  });
  // A token by a TSA that signs for the manifest but under the examiner's other CA: the same.
  await replace(c.token, await otherTsa.timestamp(await h.container.getBlobClient(c.manifest).downloadToBuffer()));
  const run = await cli("--machine", c.machineId, "--tsa-ca", "tsa-ca.pem");
  expect(run.code).toBe(1);
  expect(run.out).toContain("Validation of signer's certificate failed");
  expect((await cli("--machine", c.machineId, "--tsa-ca", "other-ca.pem")).code).toBe(0);
});

it("completes a collection whose TSA refuses, without a token: a problem only with --require-timestamp", async () => {
  tsa.faults = { status: 2 };
  const c = await collect();
  expect(await h.container.getBlobClient(c.token).exists()).toBe(false);
  expect(statuses(await verifyMachine(c.machineId))).toEqual({ [c.manifest]: "OK", [c.signature]: "OK", [c.file]: "OK" });
  expect((await cli("--machine", c.machineId)).code).toBe(0);
  const required = await verifyMachine(c.machineId, [tsa.caDer], true);
  expect(rowOf(required, c.token)).toMatchObject({ status: "MISSING", kind: "timestamp" });
  const run = await cli("--machine", c.machineId, "--require-timestamp");
  expect(run.code).toBe(1);
  expect(run.out).toMatch(/^MISSING .*manifest\.timestamp\.tsr$/m);
});

it("reports a deleted token as MISSING with --require-timestamp", async () => {
  const c = await collect();
  await h.container.getBlobClient(c.token).delete();
  expect((await cli("--machine", c.machineId, "--tsa-ca", "tsa-ca.pem")).code).toBe(0);
  const run = await cli("--machine", c.machineId, "--tsa-ca", "tsa-ca.pem", "--require-timestamp");
  expect(run.code).toBe(1);
  expect(run.out).toMatch(/^PROBLEMS FOUND: 4 blob\(s\) in 1 collection\(s\): 3 OK, 0 MISMATCH, 1 MISSING, 0 EXTRA/m);
});

it("writes a binary document once (If-None-Match: *): a second write to the name changes nothing and says so", async () => {
  const store = createEvidenceStore({ connectionString: testAzurite.evidenceConnectionString }, h.container.containerName);
  const name = "liveresponse/create-document/manifest.timestamp.tsr";
  const first = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]);
  const options = { contentType: "application/timestamp-reply", metadata: { kind: "manifest-timestamp" } };
  expect(await store.createDocument(name, first, options)).toMatchObject({ blobName: name, size: 5, sha256: sha256(first), created: true });
  expect(await store.createDocument(name, Buffer.from("other"), options)).toBeUndefined();
  const blob = h.container.getBlobClient(name);
  expect(await blob.downloadToBuffer()).toEqual(first);
  const properties = await blob.getProperties();
  expect(properties.contentType).toBe("application/timestamp-reply");
  expect(properties.metadata).toMatchObject({ kind: "manifest-timestamp", sha256: sha256(first), size: "5" });
  expect(Buffer.from(properties.contentMD5!).toString("base64")).toBe(md5(first).digest("base64"));
});

it("reports a token with no manifest of its name as EXTRA", async () => {
  const c = await collect();
  const stray = `${c.folder}/manifest-planted.timestamp.tsr`;
  const bytes = await h.container.getBlobClient(c.token).downloadToBuffer();
  await h.container.getBlockBlobClient(stray).upload(bytes, bytes.length);
  const report = await verifyMachine(c.machineId);
  expect(statuses(report)).toMatchObject({ [c.token]: "OK", [stray]: "EXTRA" });
  expect(rowOf(report, stray)).toMatchObject({ kind: "timestamp", problems: ["a timestamp token without its manifest"] });
});
