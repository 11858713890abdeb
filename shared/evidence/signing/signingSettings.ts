/** The MANIFEST_SIGNING_* settings. */
import type { SettingProblem } from "../../errors";
import type { SettingsReader } from "../../settingsReader";
import { DEFAULT_DEVELOPMENT_SIGNING_KEY_FILE, type ManifestSigningSettings } from "./createSigner";
import { parseKeyVaultKeyId } from "./keyVaultKeyId";

/**
 * MANIFEST_SIGNING_*: a Key Vault key signs every manifest (required outside local development, so a
 * deployed app never writes an unsigned one); in local development, without one, a development key
 * kept in a file (created on first use) does.
 */
export function readManifestSigningSettings(
  reader: SettingsReader,
  problems: SettingProblem[],
  localDevelopment: boolean,
): ManifestSigningSettings | undefined {
  const keyId = reader.optional("MANIFEST_SIGNING_KEY_ID");
  const keyFile = reader.optional("MANIFEST_SIGNING_DEVELOPMENT_KEY_FILE");
  const problem = (setting: string, text: string) => problems.push({ setting, problem: text });
  if (keyFile !== undefined && (keyId !== undefined || !localDevelopment)) {
    problem("MANIFEST_SIGNING_DEVELOPMENT_KEY_FILE", "allowed only with LOCAL_DEVELOPMENT=true and without MANIFEST_SIGNING_KEY_ID");
  }
  if (keyId !== undefined) {
    if (parseKeyVaultKeyId(keyId)) return { keyVaultKeyId: keyId };
    problem("MANIFEST_SIGNING_KEY_ID", "must be a Key Vault key identifier, https://<vault>.vault.azure.net/keys/<name>[/<version>]");
    return undefined;
  }
  if (localDevelopment) return { developmentKeyFile: keyFile ?? DEFAULT_DEVELOPMENT_SIGNING_KEY_FILE };
  problem("MANIFEST_SIGNING_KEY_ID", "required: the Key Vault key that signs manifests (a development key: LOCAL_DEVELOPMENT=true only)");
  return undefined;
}
