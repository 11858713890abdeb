// The Functions host's own storage (AzureWebJobsStorage): host locks and keys, timer schedule state,
// the Flex Consumption deployment package, Event Grid dead letters, the collector's own state
// (COLLECTOR_STATE_CONTAINER), and the Durable Functions task hub when the Azure Storage backend is
// chosen. Evidence never goes here (see evidenceStorage.bicep).

@description('Storage account name (3-24 lowercase letters and digits).')
param name string

@description('Azure region.')
param location string

@description('Tags applied to the account.')
param tags object

@description('Container Flex Consumption deploys the app package from.')
param deploymentContainerName string

@description('Container Event Grid writes undeliverable alert events to.')
param deadLetterContainerName string

@description('Container of the collector\'s own state (COLLECTOR_STATE_CONTAINER): the governor\'s document, the alerts_v2 poller\'s cursor, submission records.')
param stateContainerName string

resource account 'Microsoft.Storage/storageAccounts@2026-09-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    // Host state is disposable and rebuilt by the runtime; locally redundant is enough.
    name: 'Standard_LRS'
  }
  properties: {
    // Identity only: the app reaches this account with its managed identity (AzureWebJobsStorage__credential),
    // so account keys and SAS signed with them are turned off.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // Flex Consumption without a virtual network reaches storage over its public endpoint (Entra-authenticated).
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2026-09-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-09-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-09-01' = {
  parent: blobService
  name: deadLetterContainerName
  properties: {
    publicAccess: 'None'
  }
}

// The collector's state: small JSON blobs rewritten with If-Match (shared/stateStorage.ts). Here, not in the
// evidence account, whose version-level WORM would keep every rewrite as an undeletable version.
resource stateContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-09-01' = {
  parent: blobService
  name: stateContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Submission records (`submissions/<instanceId>.json`) are read only while their collection runs, at most a few
// days (README, "Timing"); nothing else removes them, so the account's lifecycle policy does after 30 days.
// The watch list removes its own entries an hour after their action ends.
// https://learn.microsoft.com/azure/storage/blobs/lifecycle-management-overview
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2026-09-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'collector-submission-records'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              prefixMatch: ['${stateContainer.name}/submissions/']
            }
            actions: {
              baseBlob: {
                delete: { daysAfterModificationGreaterThan: 30 }
              }
            }
          }
        }
      ]
    }
  }
}

output id string = account.id
output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output tableEndpoint string = account.properties.primaryEndpoints.table
output deploymentContainerName string = deploymentContainer.name
output deadLetterContainerName string = deadLetterContainer.name
output stateContainerName string = stateContainer.name
