import type { ContainerClient } from "@azure/storage-blob";
import { expectedFromMetadata } from "../evidenceMetadata";
import { contentProblems, documentDigest } from "../integrity";
import { MAX_TIMESTAMP_RESPONSE_BYTES } from "../timestamp/timestampRequest";
import { parseTimestampResponse, timestampProblems } from "../timestamp/timestampToken";
import type { ListedBlob } from "./scope";
import type { VerifyRow } from "./types";

/** What the examiner trusts and asks of manifests' RFC 3161 timestamp tokens. */
export interface TimestampTrust {
  /** CA certificates (DER, from `--tsa-ca`) a token's signer must chain to; none: the signature is checked, the TSA is not trusted. */
  anchors: Uint8Array[];
  /** `--require-timestamp`: a manifest without a token is a problem. */
  required: boolean;
}

export const NO_TIMESTAMP_TRUST: TimestampTrust = { anchors: [], required: false };

/**
 * A manifest's timestamp token against the manifest's bytes as stored: its own metadata digests,
 * a granted TimeStampResp, the imprint, the CMS signature and, with trust anchors, the signer's chain
 * and extended key usage (see timestampProblems). The row names the token's time and TSA.
 */
export async function checkTimestamp(
  container: ContainerClient,
  listed: ListedBlob,
  manifestBytes: Buffer | undefined,
  trust: TimestampTrust,
): Promise<VerifyRow> {
  const row: VerifyRow = { status: "OK", blobName: listed.name, kind: "timestamp", size: listed.size, problems: [] };
  const done = () => ({ ...row, status: row.problems.length > 0 ? ("MISMATCH" as const) : ("OK" as const) });
  if (listed.size > MAX_TIMESTAMP_RESPONSE_BYTES) {
    row.problems.push(`${listed.size} bytes: too large for a timestamp token, not read`);
    return done();
  }
  if (!manifestBytes) {
    row.problems.push("not checked: its manifest could not be read");
    return done();
  }
  const bytes = await container.getBlobClient(listed.name).downloadToBuffer();
  const digest = documentDigest(bytes);
  row.size = digest.size;
  row.sha256 = digest.sha256;
  row.problems.push(...contentProblems(expectedFromMetadata(listed.metadata), digest, "its metadata"));
  const parsed = parseTimestampResponse(bytes);
  if (!parsed.ok) {
    row.problems.push(parsed.message);
    return done();
  }
  const { facts } = parsed;
  row.timestamp = {
    genTime: facts.genTime,
    serialNumber: facts.serialNumber,
    policy: facts.policy,
    ...(facts.tsa ? { tsa: facts.tsa } : {}),
    ...(facts.signer ? { signer: facts.signer } : {}),
  };
  row.problems.push(...(await timestampProblems(parsed, manifestBytes, { anchors: trust.anchors })));
  const by = facts.tsa ?? facts.signer?.subject ?? "an unnamed TSA";
  row.notes = [`RFC 3161 token of ${facts.genTime} by ${by}, serial ${facts.serialNumber}`];
  if (trust.anchors.length === 0) row.notes.push("the TSA was not checked against a trust anchor: give --tsa-ca <pem>");
  return done();
}

export function missingTimestamp(blobName: string): VerifyRow {
  return {
    status: "MISSING",
    blobName,
    kind: "timestamp",
    problems: ["the manifest has no RFC 3161 timestamp token (--require-timestamp)"],
  };
}
