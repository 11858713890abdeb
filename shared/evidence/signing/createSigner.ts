import path from "node:path";
import type { TokenCredential } from "@azure/identity";
import { createKeyVaultSigner } from "./keyVaultSigner";
import { createLocalSigner, loadOrCreateLocalSigningKey } from "./localSigner";
import type { ManifestSigner } from "./manifestSignature";

/**
 * Where the development signing key is kept when MANIFEST_SIGNING_DEVELOPMENT_KEY_FILE is not set
 * (relative to the app's directory; `.devhost/` is git-ignored).
 */
export const DEFAULT_DEVELOPMENT_SIGNING_KEY_FILE = ".devhost/manifest-signing-key.pem";

/** How manifests are signed: a Key Vault key (Azure), or a development key file (local development only). */
export type ManifestSigningSettings = { keyVaultKeyId: string } | { developmentKeyFile: string };

/**
 * The signer the settings name. Nothing is contacted or read here: the credential is made, and
 * the development key loaded (or created), on the first signature.
 */
export function createManifestSigner(settings: ManifestSigningSettings, credential: () => TokenCredential): ManifestSigner {
  if ("keyVaultKeyId" in settings) {
    let signer: ManifestSigner | undefined;
    return { sign: (digest) => (signer ??= createKeyVaultSigner(settings.keyVaultKeyId, credential())).sign(digest) };
  }
  let local: ManifestSigner | undefined;
  return {
    sign: async (digest) =>
      (local ??= createLocalSigner(loadOrCreateLocalSigningKey(path.resolve(settings.developmentKeyFile)))).sign(digest),
  };
}
