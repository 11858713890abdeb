/**
 * Key Vault and Managed HSM host suffixes of the public and sovereign clouds
 * (https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates#object-identifiers).
 */
export const KEY_VAULT_HOST_SUFFIXES = [
  ".vault.azure.net",
  ".vault.azure.cn",
  ".vault.usgovcloudapi.net",
  ".vault.microsoftazure.de",
  ".managedhsm.azure.net",
  ".managedhsm.azure.cn",
  ".managedhsm.usgovcloudapi.net",
];

/** A parsed Key Vault key identifier. */
export interface KeyVaultKeyId {
  /** `https://<vault>.vault.azure.net` */
  vaultUrl: string;
  name: string;
  /** Absent for a versionless identifier (the key's current version signs). */
  version?: string;
}

/**
 * Parses `https://<vault>.vault.azure.net/keys/<name>[/<version>]`.
 * @returns undefined for anything else (another host, scheme or path), so a setting or a
 * signature document naming something else is refused rather than contacted
 */
export function parseKeyVaultKeyId(value: string): KeyVaultKeyId | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const host = url.hostname.toLowerCase();
  if (
    url.protocol !== "https:" ||
    url.port !== "" ||
    url.search ||
    url.hash ||
    url.username ||
    !KEY_VAULT_HOST_SUFFIXES.some((s) => host.endsWith(s) && host.length > s.length)
  )
    return undefined;
  const m = /^\/keys\/([A-Za-z0-9-]{1,127})(?:\/([A-Za-z0-9]{1,64}))?\/?$/.exec(url.pathname);
  if (!m) return undefined;
  return { vaultUrl: `https://${host}`, name: m[1], ...(m[2] ? { version: m[2] } : {}) };
}

/** Whether the key `signedBy` (with version) is the key `trusted` names: the same key, and the same version when `trusted` has one. */
export function sameKeyVaultKey(trusted: KeyVaultKeyId, signedBy: KeyVaultKeyId): boolean {
  return (
    trusted.vaultUrl === signedBy.vaultUrl &&
    trusted.name.toLowerCase() === signedBy.name.toLowerCase() &&
    (trusted.version === undefined || trusted.version === signedBy.version)
  );
}
