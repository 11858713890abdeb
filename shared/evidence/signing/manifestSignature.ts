import { createHash } from "node:crypto";

/** Identifies the signature document's layout. */
export const SIGNATURE_SCHEMA = "mde-live-response-manifest-signature/v1";

/**
 * The only signature algorithm the collector writes: RSASSA-PKCS1-v1_5 with SHA-256, which is
 * deterministic, so a retried manifest write produces the very same signature document (and the
 * "already written" check can compare bytes), and which `openssl dgst -sha256 -verify` checks.
 * Verification also accepts PS256 and ES256 (a key another tool made).
 */
export const SIGNING_ALGORITHM = "RS256";

/** Algorithms a signature may name; all over SHA-256. */
export const VERIFIABLE_ALGORITHMS = ["RS256", "PS256", "ES256"] as const;
export type SignatureAlgorithm = (typeof VERIFIABLE_ALGORITHMS)[number];

/**
 * The signature stored beside a manifest, as `manifest.signature.json`: which manifest, its
 * SHA-256, and the signature of that digest, with the key that made it. Deterministic (no time):
 * the manifest says when the collection finished.
 */
export interface ManifestSignature {
  schema: typeof SIGNATURE_SCHEMA;
  /** Blob name of the signed manifest, in the same container. */
  manifest: string;
  digestAlgorithm: "SHA-256";
  /** Lowercase hex SHA-256 of the manifest's bytes exactly as stored. */
  digest: string;
  algorithm: SignatureAlgorithm;
  /**
   * The signing key: a Key Vault key identifier with its version
   * (`https://<vault>.vault.azure.net/keys/<name>/<version>`), or `local:sha256:<hex>` for a
   * development key (the SHA-256 of its public key, DER SubjectPublicKeyInfo).
   */
  keyId: string;
  /** Base64 signature (for ES256: r || s, 64 bytes, as Key Vault returns it). */
  signature: string;
}

/** A signature over a manifest digest, made by whichever key the deployment uses. */
export interface ManifestSigner {
  /**
   * Signs the SHA-256 `digest` of a manifest.
   * @returns the signature and the exact key (with version) that made it
   */
  sign(digest: Buffer): Promise<{ signature: Buffer; keyId: string; algorithm: SignatureAlgorithm }>;
}

/** `…/manifest.json` → `…/manifest.signature.json` (and `manifest-x.json` → `manifest-x.signature.json`). */
export function signatureBlobNameOf(manifestBlobName: string): string {
  return manifestBlobName.replace(/\.json$/, "") + ".signature.json";
}

/** Whether a blob name is a signature document's. */
export function isSignatureBlobName(blobName: string): boolean {
  return blobName.endsWith(".signature.json");
}

/** Signs the manifest's bytes and returns the signature document to store beside it. */
export async function signManifest(signer: ManifestSigner, manifestBlobName: string, manifestBytes: Buffer): Promise<ManifestSignature> {
  const digest = createHash("sha256").update(manifestBytes).digest();
  const signed = await signer.sign(digest);
  return {
    schema: SIGNATURE_SCHEMA,
    manifest: manifestBlobName,
    digestAlgorithm: "SHA-256",
    digest: digest.toString("hex"),
    algorithm: signed.algorithm,
    keyId: signed.keyId,
    signature: signed.signature.toString("base64"),
  };
}
