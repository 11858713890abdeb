// The evidence account: separate from the host's so that its access, redundancy, retention and
// immutability are decided for evidence alone. The collector commits each result in one conditional
// write (If-None-Match: *) with its hashes in the metadata, which is the only write a WORM container
// accepts, so any immutability mode below works with the app unchanged; the audit trail's append blobs
// grow under the policies' allowProtectedAppendWrites.

@description('Storage account name (3-24 lowercase letters and digits).')
param name string

@description('Azure region.')
param location string

@description('Tags applied to the account.')
param tags object

@description('Container the collector writes evidence to (EVIDENCE_CONTAINER).')
param containerName string

@description('Redundancy of the evidence account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param skuName string

@description('none: no WORM policy. containerLevel: a time-based retention policy on the evidence container. versionLevel: version-level immutability with a default time-based policy on every blob version.')
@allowed([
  'none'
  'containerLevel'
  'versionLevel'
])
param immutability string

@description('Days each blob stays immutable under the time-based policy (ignored when immutability is none).')
@minValue(1)
@maxValue(146000)
param retentionDays int

@description('Days deleted blobs and containers stay recoverable (soft delete).')
@minValue(1)
@maxValue(365)
param softDeleteDays int

var versionLevel = immutability == 'versionLevel'

resource account 'Microsoft.Storage/storageAccounts@2026-09-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    // Evidence is read and written with Entra identities only; a shared key would bypass RBAC and the audit trail.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    // No anonymous reads, ever.
    allowBlobPublicAccess: false
    // Object replication to another tenant would copy evidence out of the organization's control.
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // Flex Consumption without a virtual network reaches the account over its public endpoint (Entra-authenticated).
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    // Version-level immutability is switched on at the account, with a default policy every new blob version inherits.
    // Unlocked: the retention can still be shortened or removed; lock it (az storage account blob-service-properties /
    // Azure portal) once the period is settled, after which nobody, Microsoft included, can delete a version early.
    immutableStorageWithVersioning: versionLevel
      ? {
          enabled: true
          immutabilityPolicy: {
            immutabilityPeriodSinceCreationInDays: retentionDays
            state: 'Unlocked'
            // The audit trail (append blobs under {prefix}-audit/) must grow under the policy; appends add
            // blocks and can neither change nor delete what is there. Block blobs (evidence, manifests) are unaffected.
            allowProtectedAppendWrites: true
          }
        }
      : null
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2026-09-01' = {
  parent: account
  name: 'default'
  properties: {
    // Soft delete: a deleted blob or container can be restored for softDeleteDays.
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
    // Version-level immutability requires blob versioning; without it, versioning only adds cost
    // (the collector never overwrites a blob).
    isVersioningEnabled: versionLevel
  }
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-09-01' = {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
    immutableStorageWithVersioning: versionLevel
      ? {
          enabled: true
        }
      : null
  }
}

// Container-level WORM: every blob in the container is immutable for retentionDays after it is written.
// Unlocked for the same reason as above. Legal holds are not a template property (ARM exposes them as the
// setLegalHold action): set one with `az storage container legal-hold set` when a case requires it.
resource containerPolicy 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2026-09-01' = if (immutability == 'containerLevel') {
  parent: container
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: retentionDays
    // Appends to the audit trail's append blobs only (see the account's policy above).
    allowProtectedAppendWrites: true
  }
}

output id string = account.id
output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output containerName string = container.name
