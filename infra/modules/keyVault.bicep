// The key that signs every manifest's SHA-256 (shared/evidence/signing): an RSA key in a Key Vault
// with Azure RBAC, used by the collector's identity through `sign` only (the private key never
// leaves the vault). Signatures name the key version that made them, so the key can be rotated and
// old manifests still verify (`npm run verify -- --key-id <this key's URI>`).
// learn.microsoft.com/azure/key-vault/keys/about-keys

@description('Key Vault name (3-24 letters, digits and hyphens).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the vault.')
param tags object

@description('Name of the manifest signing key.')
param keyName string

@description('Name of the collector\'s user-assigned managed identity: may sign with the key (Key Vault Crypto User on the key).')
param identityName string

@description('Object id of the person deploying (AZURE_PRINCIPAL_ID): may read the public key to verify manifests (Key Vault Reader on the key). Empty grants nothing.')
param deployerPrincipalId string

// Built-in role definition ids (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roles = {
  // Cryptographic operations with keys (sign, verify, ...); no key management, no secrets.
  keyVaultCryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424'
  // Read key metadata and public keys; no cryptographic operation.
  keyVaultReader: '21090545-7ca7-4776-b22c-e363652d74d2'
}

// Names known at compile time keep the role assignment names (and What-If) precise, as in access.bicep.
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    // Azure RBAC only (no access policies): the role assignments below are the whole access model.
    enableRbacAuthorization: true
    // A signing key of evidence must outlive mistakes: deleted keys stay recoverable for 90 days and
    // cannot be purged early (purge protection cannot be turned off again).
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    // Flex Consumption without a virtual network reaches the vault over its public endpoint; access
    // is still Entra ID plus the role on the key.
    publicNetworkAccess: 'Enabled'
  }
}

resource signingKey 'Microsoft.KeyVault/vaults/keys@2024-11-01' = {
  parent: vault
  name: keyName
  properties: {
    kty: 'RSA'
    keySize: 3072
    // RS256 signatures of manifest digests, and their verification.
    keyOps: [
      'sign'
      'verify'
    ]
    attributes: {
      enabled: true
      exportable: false
    }
  }
}

resource signerAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(signingKey.id, identity.id, roles.keyVaultCryptoUser)
  // Scoped to the one key: the identity can use no other key of the vault.
  scope: signingKey
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultCryptoUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource deployerRead 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(signingKey.id, deployerPrincipalId, roles.keyVaultReader)
  scope: signingKey
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultReader)
    principalId: deployerPrincipalId
  }
}

output name string = vault.name
@description('Versionless key identifier (MANIFEST_SIGNING_KEY_ID): the current version signs; every version verifies.')
output signingKeyId string = signingKey.properties.keyUri
