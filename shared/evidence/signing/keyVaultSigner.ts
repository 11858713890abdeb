import type { TokenCredential } from "@azure/identity";
import { CryptographyClient } from "@azure/keyvault-keys";
import { CollectorError } from "../../errors";
import { SIGNING_ALGORITHM, type ManifestSigner } from "./manifestSignature";

/** The one operation the signer needs from Key Vault (CryptographyClient.sign). */
export interface KeyVaultSigningClient {
  sign(algorithm: typeof SIGNING_ALGORITHM, digest: Uint8Array): Promise<{ result: Uint8Array; keyID?: string }>;
}

/**
 * Signs manifest digests with an RSA key in Key Vault (Sign a digest:
 * https://learn.microsoft.com/rest/api/keyvault/keys/sign/sign). The private key never leaves
 * the vault; the app's identity needs the sign permission only (the `Key Vault Crypto User` role
 * on the key, or an access policy with `sign`): when reading the key is refused, the SDK signs
 * remotely all the same. The signature records the key version that signed, so a rotated key
 * still verifies old manifests.
 * @param keyId - `https://<vault>.vault.azure.net/keys/<name>[/<version>]` (MANIFEST_SIGNING_KEY_ID)
 */
export function createKeyVaultSigner(
  keyId: string,
  credential: TokenCredential,
  client: KeyVaultSigningClient = new CryptographyClient(keyId, credential),
): ManifestSigner {
  return {
    async sign(digest) {
      let signed;
      try {
        signed = await client.sign(SIGNING_ALGORITHM, digest);
      } catch (e) {
        // The message names the key and the vault's answer; the SDK's errors carry no token.
        throw new CollectorError(
          "ManifestSigningFailed",
          `Key Vault key ${keyId} did not sign the manifest: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`,
          { cause: e },
        );
      }
      return { signature: Buffer.from(signed.result), keyId: signed.keyID ?? keyId, algorithm: SIGNING_ALGORITHM };
    },
  };
}
