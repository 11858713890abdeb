import { createHash } from "node:crypto";
import type { ContainerClient } from "@azure/storage-blob";
import type { Manifest } from "../../contract";
import { expectedFromMetadata } from "../evidenceMetadata";
import { contentProblems, documentDigest } from "../integrity";
import { parseJsonDocument } from "../jsonDocument";
import { signatureBlobNameOf } from "../signing/manifestSignature";
import { parseSignatureDocument, signatureProblems, type TrustedKeys } from "../signing/signatureCheck";
import type { EvidenceRecordOf } from "./evidenceCheck";
import { checkTimestamp, missingTimestamp, NO_TIMESTAMP_TRUST, type TimestampTrust } from "./timestampCheck";
import { timestampBlobNameOf } from "../timestamp/manifestTimestamp";
import type { ListedBlob } from "./scope";
import type { VerifyRow } from "./types";

/** A manifest is small JSON; anything larger is not one and is not read whole. */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
/** A signature document is a few hundred bytes. */
const MAX_SIGNATURE_BYTES = 64 * 1024;

export const MANIFEST_SCHEMA: Manifest["schema"] = "mde-live-response-evidence-manifest/v1";

/** The verdict on a manifest and its signature, and the evidence it records (by blob name). */
export interface ManifestCheck {
  rows: VerifyRow[];
  records: Map<string, EvidenceRecordOf>;
  bytesRead: number;
}

/**
 * Checks a manifest: its bytes against its metadata and Content-MD5, its layout, and its signature
 * document beside it (which must sign exactly these bytes with a trusted key). The manifest's row
 * is OK only when both hold; the signature's row says what is wrong with the signature itself
 * (MISSING when there is none). Its RFC 3161 timestamp token, when there is one (or must be), has
 * a row of its own.
 */
export async function checkManifest(
  container: ContainerClient,
  listed: ListedBlob,
  signature: ListedBlob | undefined,
  trust: TrustedKeys,
  timestamp: { blob?: ListedBlob; trust: TimestampTrust } = { trust: NO_TIMESTAMP_TRUST },
): Promise<ManifestCheck> {
  const records = new Map<string, EvidenceRecordOf>();
  const signatureName = signatureBlobNameOf(listed.name);
  const timestampRow = async (bytes: Buffer | undefined) => {
    if (timestamp.blob) return [await checkTimestamp(container, timestamp.blob, bytes, timestamp.trust)];
    return timestamp.trust.required ? [missingTimestamp(timestampBlobNameOf(listed.name))] : [];
  };
  if (listed.size > MAX_MANIFEST_BYTES) {
    const tooLarge: VerifyRow = {
      status: "MISMATCH",
      blobName: listed.name,
      kind: "manifest",
      size: listed.size,
      problems: [`${listed.size} bytes: too large for a manifest, not read`],
    };
    const rows = [tooLarge, ...(signature ? [] : [missingSignature(signatureName)]), ...(await timestampRow(undefined))];
    return { rows, records, bytesRead: 0 };
  }
  const bytes = await container.getBlobClient(listed.name).downloadToBuffer();
  const digest = documentDigest(bytes);
  const problems = [
    ...contentProblems(expectedFromMetadata(listed.metadata), digest, "its metadata"),
    ...(listed.contentMD5 && listed.contentMD5 !== digest.md5 ? [`Content-MD5 ${listed.contentMD5} is not the MD5 of its bytes`] : []),
  ];
  const parsed = parseManifest(bytes);
  if ("error" in parsed) problems.push(parsed.error);
  else for (const [name, record] of recordsOf(parsed.manifest, listed)) records.set(name, record);

  const rows: VerifyRow[] = [];
  let bytesRead = bytes.length;
  if (!signature) {
    problems.push(`not signed: ${signatureName} is missing`);
    rows.push(missingSignature(signatureName));
  } else {
    const checked = await checkSignature(container, signature, listed.name, bytes, trust);
    bytesRead += checked.size ?? 0;
    problems.push(...checked.problems.map((p) => `signature: ${p}`));
    rows.push(checked);
  }
  for (const row of await timestampRow(bytes)) {
    bytesRead += row.status === "MISSING" ? 0 : (row.size ?? 0);
    rows.push(row);
  }
  rows.unshift({
    status: problems.length > 0 ? "MISMATCH" : "OK",
    blobName: listed.name,
    kind: "manifest",
    size: digest.size,
    sha256: digest.sha256,
    problems,
  });
  return { rows, records, bytesRead };
}

function missingSignature(blobName: string): VerifyRow {
  return { status: "MISSING", blobName, kind: "signature", problems: ["the manifest's signature document is missing"] };
}

async function checkSignature(
  container: ContainerClient,
  listed: ListedBlob,
  manifestName: string,
  manifestBytes: Buffer,
  trust: TrustedKeys,
): Promise<VerifyRow> {
  const row = (problems: string[], size?: number, sha256?: string): VerifyRow => ({
    status: problems.length > 0 ? "MISMATCH" : "OK",
    blobName: listed.name,
    kind: "signature",
    size,
    sha256,
    problems,
  });
  if (listed.size > MAX_SIGNATURE_BYTES) return row([`${listed.size} bytes: too large for a signature document, not read`], listed.size);
  const bytes = await container.getBlobClient(listed.name).downloadToBuffer();
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const parsed = parseSignatureDocument(bytes);
  if ("error" in parsed) return row([parsed.error], bytes.length, sha256);
  return row(await signatureProblems(parsed.document, manifestName, manifestBytes, trust), bytes.length, sha256);
}

function parseManifest(bytes: Buffer): { manifest: Manifest } | { error: string } {
  const parsed = parseJsonDocument(bytes);
  if ("error" in parsed) return { error: parsed.error };
  const m = parsed.value as Partial<Manifest>;
  if (m.schema !== MANIFEST_SCHEMA || !Array.isArray(m.commands) || !m.request) {
    return {
      error: `not a collector manifest (schema ${JSON.stringify(m?.schema)}, expected ${MANIFEST_SCHEMA})`,
    };
  }
  return { manifest: m as Manifest };
}

/** The evidence a manifest records, with the metadata the collector wrote on each blob's commit. */
function recordsOf(manifest: Manifest, listed: ListedBlob): [string, EvidenceRecordOf][] {
  const actionId = manifest.machineAction?.id ?? listed.metadata.actionid;
  return manifest.commands.flatMap((c) =>
    c.evidence
      ? [
          [
            c.evidence.blobName,
            {
              evidence: c.evidence,
              metadata: {
                machineid: manifest.request.machineId,
                ...(actionId ? { actionid: actionId } : {}),
                commandindex: String(c.index),
                commandtype: c.type,
                instanceid: manifest.instanceId,
              },
            },
          ] as [string, EvidenceRecordOf],
        ]
      : [],
  );
}
