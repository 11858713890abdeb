// Role assignments, each at the narrowest scope that works. The MDE API permissions are not here:
// they are Microsoft Graph app role assignments, granted by `npm run grant-permissions` (README).

@description('Name of the collector\'s user-assigned managed identity.')
param identityName string

@description('Host storage account name.')
param hostStorageName string

@description('Evidence storage account name.')
param evidenceStorageName string

@description('Evidence container name.')
param evidenceContainerName string

@description('Application Insights component name.')
param applicationInsightsName string

@description('Durable Task Scheduler and task hub names (empty with the Azure Storage backend).')
param durableTaskScheduler {
  schedulerName: string
  taskHubName: string
}

@description('Object id of the person deploying (azd sets AZURE_PRINCIPAL_ID); empty to grant nothing.')
param deployerPrincipalId string

@description('Principals allowed to publish alerts to the Event Grid topic (a SOAR\'s service principal, a Logic App identity).')
param alertPublisherPrincipalIds string[]

@description('Event Grid topic name.')
param topicName string

// Built-in role definition ids (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDelegator: 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  durableTaskDataContributor: '0ad04412-c4d5-4796-b79c-f76d14c8d402'
  eventGridDataSender: 'd5a91429-5739-47e2-a06b-3470a27159e7'
}
var useScheduler = !empty(durableTaskScheduler.schedulerName)
var identityPrincipalId = identity.properties.principalId
var grantDeployer = !empty(deployerPrincipalId)

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

resource hostStorage 'Microsoft.Storage/storageAccounts@2026-09-01' existing = {
  name: hostStorageName
}

resource evidenceStorage 'Microsoft.Storage/storageAccounts@2026-09-01' existing = {
  name: evidenceStorageName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource container 'containers' existing = {
      name: evidenceContainerName
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource scheduler 'Microsoft.DurableTask/schedulers@2026-02-01' existing = if (useScheduler) {
  name: durableTaskScheduler.schedulerName

  resource taskHub 'taskHubs' existing = {
    name: durableTaskScheduler.taskHubName
  }
}

resource topic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: topicName
}

// Host storage, account scope: the Functions host takes blob leases and writes keys, timer state and
// the deployment package (Blob Data Owner, as the Functions identity-connection docs require for
// AzureWebJobsStorage); it also uses queues and tables (host diagnostics, and the task hub with the
// Azure Storage backend). Event Grid dead-letters into a container here with the same identity, and the
// collector keeps its own state here (COLLECTOR_STATE_CONTAINER: the governor's document, the poller's
// cursor, submission records), rewritten as it works, so never in the WORM evidence account.
var hostRoles = [
  roles.storageBlobDataOwner
  roles.storageQueueDataContributor
  roles.storageTableDataContributor
]
resource hostStorageAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in hostRoles: {
    name: guid(hostStorage.id, identity.id, role)
    scope: hostStorage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: identityPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Evidence container: exactly what the writer does (shared/evidence/blobWriter.ts): read properties
// (the idempotency check) and the committed head, stage blocks and commit them with metadata and
// index tags in one conditional write. No delete, no immutability or legal-hold changes: no built-in
// role is that narrow (Blob Data Contributor can delete and cannot write tags; Owner can do both and more).
resource evidenceWriterRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'mde-live-response-collector', 'evidence-writer')
  properties: {
    // Role names are unique per tenant: the resource group's name and a hash of its id keep deployments apart.
    roleName: 'MDE live response evidence writer (${resourceGroup().name} ${take(uniqueString(resourceGroup().id), 6)})'
    description: 'Reads blob properties, writes new blobs (blocks and block lists) with metadata and index tags. Cannot delete or change immutability.'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: []
        notActions: []
        dataActions: [
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags/write'
        ]
        notDataActions: []
      }
    ]
  }
}

resource evidenceWriterAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(evidenceStorage::blobService::container.id, identity.id, evidenceWriterRole.id)
  scope: evidenceStorage::blobService::container
  properties: {
    roleDefinitionId: evidenceWriterRole.id
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Telemetry ingestion with Entra ID (APPLICATIONINSIGHTS_AUTHENTICATION_STRING), since local auth is off.
resource telemetryAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Durable Task Scheduler, task hub scope: the app reads and writes orchestration state of its own hub only.
resource durableAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useScheduler) {
  name: guid(scheduler::taskHub.id, identity.id, roles.durableTaskDataContributor)
  scope: scheduler::taskHub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.durableTaskDataContributor)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The deployer may open the scheduler's dashboard: orchestration history with inputs and outputs (machine ids,
// commands, blob names and hashes; never evidence content or tokens).
resource deployerDurableAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useScheduler && grantDeployer) {
  name: guid(scheduler::taskHub.id, deployerPrincipalId, roles.durableTaskDataContributor)
  scope: scheduler::taskHub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.durableTaskDataContributor)
    principalId: deployerPrincipalId
  }
}

// The deployer may read evidence (az storage blob download --auth-mode login) ...
resource deployerEvidenceRead 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantDeployer) {
  name: guid(evidenceStorage::blobService::container.id, deployerPrincipalId, roles.storageBlobDataReader)
  scope: evidenceStorage::blobService::container
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: deployerPrincipalId
  }
}

// ... and hand out read-only user delegation SAS links. Getting a user delegation key is an account-level
// action, so this role sits on the account; what a SAS can reach is still bounded by the container read role.
resource deployerDelegation 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantDeployer) {
  name: guid(evidenceStorage.id, deployerPrincipalId, roles.storageBlobDelegator)
  scope: evidenceStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDelegator)
    principalId: deployerPrincipalId
  }
}

// Alert publishers send events to the topic with Entra tokens (the topic's access keys are disabled).
resource publisherAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in alertPublisherPrincipalIds: {
    name: guid(topic.id, principalId, roles.eventGridDataSender)
    scope: topic
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventGridDataSender)
      principalId: principalId
    }
  }
]
