import { constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, privateEncrypt, type KeyObject } from "node:crypto";
import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { SIGNING_ALGORITHM, type ManifestSigner } from "./manifestSignature";

/** Prefix of a development key's id in a signature document. */
export const LOCAL_KEY_ID_PREFIX = "local:sha256:";

/**
 * `local:sha256:<hex>`: the SHA-256 of the public key's DER SubjectPublicKeyInfo, so a verifier
 * holding the public key can tell it is the one.
 */
export function localKeyIdOf(publicKey: KeyObject): string {
  return (
    LOCAL_KEY_ID_PREFIX +
    createHash("sha256")
      .update(publicKey.export({ type: "spki", format: "der" }))
      .digest("hex")
  );
}

/**
 * Signs manifest digests with a development RSA key held by this process: for local development
 * only (config refuses it without LOCAL_DEVELOPMENT=true), where there is no Key Vault. The
 * signature is RS256 like the Key Vault signer's, so `npm run verify` checks both the same way.
 */
export function createLocalSigner(privateKey: KeyObject): ManifestSigner {
  const keyId = localKeyIdOf(createPublicKey(privateKey));
  return {
    async sign(digest) {
      // RSASSA-PKCS1-v1_5 over a digest computed elsewhere (as Key Vault signs): crypto.sign would
      // hash again, so the SHA-256 DigestInfo is built here and given the private-key operation with
      // PKCS#1 type 1 padding, which is that signature (RFC 8017, 8.2.1 and 9.2).
      const digestInfo = Buffer.concat([SHA256_DIGEST_INFO_PREFIX, digest]);
      return {
        signature: privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo),
        keyId,
        algorithm: SIGNING_ALGORITHM,
      };
    },
  };
}

/** DER prefix of a SHA-256 DigestInfo (RFC 8017, 9.2, note 1). */
const SHA256_DIGEST_INFO_PREFIX = Buffer.from("3031300d060960864801650304020105000420", "hex");

/**
 * The development signing key kept in `file` (PKCS#8 PEM, mode 0600), created on first use; used by
 * every process on the machine (the host, the tests, `npm run verify`). Creation is atomic: the key
 * is written to a temporary file and linked into place, so two processes starting together end
 * up with one key.
 */
export function loadOrCreateLocalSigningKey(file: string): KeyObject {
  try {
    return createPrivateKey(readFileSync(file));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(temporary, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  chmodSync(temporary, 0o600);
  try {
    linkSync(temporary, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  } finally {
    unlinkSync(temporary);
  }
  return createPrivateKey(readFileSync(file));
}
