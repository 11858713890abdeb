import { createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { createLocalSigner, localKeyIdOf } from "../../shared/evidence/signing/localSigner";
import type { ManifestSigner } from "../../shared/evidence/signing/manifestSignature";
import type { TrustedKeys } from "../../shared/evidence/signing/signatureCheck";

/** A development signing key made in memory for one test file: the signer, and what a verifier trusts. */
export interface TestSigningKey {
  signer: ManifestSigner;
  publicKey: KeyObject;
  keyId: string;
  trust: TrustedKeys;
}

export function testSigningKey(): TestSigningKey {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicKey = createPublicKey(privateKey);
  return {
    signer: createLocalSigner(privateKey),
    publicKey,
    keyId: localKeyIdOf(publicKey),
    trust: { publicKeys: [publicKey], keyVaultKeys: [] },
  };
}
