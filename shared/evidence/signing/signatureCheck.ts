import { constants, createHash, createPublicKey, verify, type KeyObject } from "node:crypto";
import { parseJsonDocument } from "../jsonDocument";
import { LOCAL_KEY_ID_PREFIX, localKeyIdOf } from "./localSigner";
import { parseKeyVaultKeyId, sameKeyVaultKey, type KeyVaultKeyId } from "./keyVaultKeyId";
import { SIGNATURE_SCHEMA, VERIFIABLE_ALGORITHMS, type ManifestSignature, type SignatureAlgorithm } from "./manifestSignature";

/** Whose signatures a verifier accepts. A signature document names its key, but naming is not trusting: only these count. */
export interface TrustedKeys {
  /** Public keys held by the examiner: the development key, or a Key Vault key downloaded as PEM. */
  publicKeys: KeyObject[];
  /** Key Vault keys whose signatures count; a versionless id trusts every version of the key. */
  keyVaultKeys: KeyVaultKeyId[];
  /** Reads the public part of one Key Vault key version (needs the keys/read permission). */
  fetchKeyVaultKey?: (key: KeyVaultKeyId) => Promise<KeyObject>;
}

/** A signature document parsed from its bytes, or why it is not one. */
export function parseSignatureDocument(bytes: Buffer): { document: ManifestSignature } | { error: string } {
  const parsed = parseJsonDocument(bytes);
  if ("error" in parsed) return { error: `the signature document is ${parsed.error}` };
  const d = parsed.value as Partial<ManifestSignature>;
  const text = (v: unknown) => typeof v === "string" && v.length > 0;
  if (d.schema !== SIGNATURE_SCHEMA)
    return { error: `the signature document's schema is ${JSON.stringify(d.schema)}, expected ${SIGNATURE_SCHEMA}` };
  if (d.digestAlgorithm !== "SHA-256" || !text(d.digest) || !text(d.manifest) || !text(d.keyId) || !text(d.signature))
    return { error: "the signature document lacks a field (manifest, digest, keyId, signature)" };
  if (!(VERIFIABLE_ALGORITHMS as readonly string[]).includes(d.algorithm as string))
    return { error: `the signature algorithm ${JSON.stringify(d.algorithm)} is not one of ${VERIFIABLE_ALGORITHMS.join(", ")}` };
  return { document: d as ManifestSignature };
}

/**
 * What is wrong with a manifest's signature: the document must name this manifest, carry the
 * SHA-256 of its bytes as stored, and hold a signature of that digest that verifies with a
 * trusted key (a development key by its fingerprint, a Key Vault key by its identifier). Empty
 * when the manifest is signed by a trusted key.
 */
export async function signatureProblems(
  document: ManifestSignature,
  manifestBlobName: string,
  manifestBytes: Buffer,
  trust: TrustedKeys,
): Promise<string[]> {
  const problems: string[] = [];
  if (document.manifest !== manifestBlobName) problems.push(`signs ${document.manifest}, not ${manifestBlobName}`);
  const digest = createHash("sha256").update(manifestBytes).digest("hex");
  if (document.digest !== digest) problems.push(`signs digest ${document.digest}, the manifest's SHA-256 is ${digest}`);
  const candidates = await keysFor(document.keyId, trust);
  if ("untrusted" in candidates) return [...problems, candidates.untrusted];
  const signature = Buffer.from(document.signature, "base64");
  if (!candidates.keys.some((key) => verifies(document.algorithm, manifestBytes, key, signature))) {
    problems.push(`the signature does not verify with key ${document.keyId}`);
  }
  return problems;
}

async function keysFor(keyId: string, trust: TrustedKeys): Promise<{ keys: KeyObject[] } | { untrusted: string }> {
  if (keyId.startsWith(LOCAL_KEY_ID_PREFIX)) {
    const keys = trust.publicKeys.filter((k) => localKeyIdOf(k) === keyId);
    return keys.length > 0 ? { keys } : { untrusted: `signed by development key ${keyId}, which is not among the trusted public keys` };
  }
  const signedBy = parseKeyVaultKeyId(keyId);
  if (!signedBy?.version)
    return { untrusted: `signed by ${JSON.stringify(keyId)}, which is neither a Key Vault key version nor a development key` };
  const keys =
    trust.keyVaultKeys.some((t) => sameKeyVaultKey(t, signedBy)) && trust.fetchKeyVaultKey ? [await trust.fetchKeyVaultKey(signedBy)] : [];
  // A Key Vault key downloaded as PEM is trusted too: whichever verifies.
  keys.push(...trust.publicKeys);
  return keys.length > 0
    ? { keys }
    : { untrusted: `signed by Key Vault key ${keyId}, which is not a trusted key (--key-id or --public-key)` };
}

function verifies(algorithm: SignatureAlgorithm, data: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    if (algorithm === "RS256") return verify("sha256", data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    if (algorithm === "PS256") return verify("sha256", data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
    return verify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, signature);
  } catch {
    // A key of another type (an EC key for an RSA signature) does not verify it.
    return false;
  }
}

/** A Key Vault JSON Web Key (byte arrays, `RSA-HSM`/`EC-HSM` types) as a Node public key. */
export function publicKeyFromJsonWebKey(jwk: {
  kty?: string;
  n?: Uint8Array;
  e?: Uint8Array;
  crv?: string;
  x?: Uint8Array;
  y?: Uint8Array;
}): KeyObject {
  const b64 = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString("base64url");
  const kty = (jwk.kty ?? "").replace(/-HSM$/, "");
  if (kty === "RSA") return createPublicKey({ key: { kty: "RSA", n: b64(jwk.n), e: b64(jwk.e) }, format: "jwk" });
  if (kty === "EC") return createPublicKey({ key: { kty: "EC", crv: jwk.crv ?? "", x: b64(jwk.x), y: b64(jwk.y) }, format: "jwk" });
  throw new Error(`Key Vault key type ${jwk.kty ?? "unknown"} cannot verify signatures`);
}
