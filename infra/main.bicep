// MDE live response evidence collector: everything `azd up` provisions.
// Plain resources at current API versions and no registry modules, so `bicep build` works offline
// (`npm run infra:check`). Each module says why its settings are what they are.
targetScope = 'subscription'

// ---- azd environment -------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Region for every resource (Flex Consumption must be offered there: az functionapp list-flexconsumption-locations).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the person running azd (AZURE_PRINCIPAL_ID): may read evidence, mint read-only user delegation SAS links and open the Durable Task Scheduler dashboard. Empty grants nothing.')
param deployerPrincipalId string = ''

// ---- API authentication (the API app registration is created beforehand: see README) -------

@description('entra: the app validates Entra access tokens itself (AUTH_MODE=entra). appServiceAuthentication: App Service Authentication validates them in front of the app.')
@allowed([
  'entra'
  'appServiceAuthentication'
])
param authMode string = 'entra'

@description('Client (application) id of the API app registration that defines the Collector.* app roles.')
@minLength(36)
@maxLength(36)
param apiAppClientId string

@description('Comma-separated token audiences the API accepts; empty accepts the client id and api://<client id>.')
param authAudience string = ''

@description('Tenant of the API app registration; defaults to the tenant deployed to.')
param authTenantId string = tenant().tenantId

@description('Entra authority host without a trailing slash; defaults to the current cloud\'s (https://login.microsoftonline.com, or .us in GCC High/DoD).')
param authAuthorityHost string = 'https://${split(environment().authentication.loginEndpoint, '/')[2]}'

@description('Optional JSON restricting roles to scopes (AUTH_ROLE_SCOPES); empty: roles apply everywhere.')
param authRoleScopes string = ''

// ---- MDE --------------------------------------------------------------------------------------

@description('MDE API host: global, regional (https://eu.api.security.microsoft.com, ...) or US Government.')
param mdeApiBaseUrl string = 'https://api.security.microsoft.com'

@description('OAuth scope for MDE tokens; empty derives it from the host.')
param mdeTokenScope string = ''

@description('Extra MDE API hosts the app may call, comma-separated (MDE_ALLOWED_HOSTS).')
param mdeAllowedHosts string = ''

@description('Extra hosts MDE download links may point to, comma-separated (EVIDENCE_SOURCE_ALLOWED_HOSTS).')
param evidenceSourceAllowedHosts string = ''

@description('Allow GetFile paths on UNC shares (\\\\server\\share\\...).')
param getFileAllowUncPaths bool = false

@description('RFC 3161 time-stamp authority that timestamps each manifest\'s SHA-256 (MANIFEST_TIMESTAMP_URL); empty: no timestamps.')
param manifestTimestampUrl string = ''

// ---- What the collector runs ------------------------------------------------------------------

@description('PLAYBOOKS (JSON array); empty: infra/settings/playbooks.json.')
param playbooks string = ''

@description('COLLECTION_PLANS (JSON array) for the timer; empty: infra/settings/collectionPlans.json.')
param collectionPlans string = ''

@description('ALERT_RULES (JSON array); empty: infra/settings/alertRules.json.')
param alertRules string = ''

@description('Timer schedule for the collection plans, NCRONTAB with six fields, UTC.')
param collectionPlansSchedule string = '0 0 2 * * *'

@description('Timing of each collection; the defaults are the loader\'s (README, Settings).')
param collectionTiming {
  queueWindowMinutes: int
  commandTimeoutMinutes: int
  deadlineMarginMinutes: int
  pollInitialSeconds: int
  pollMaxSeconds: int
  busyRetrySeconds: int
  @description('The action poller\'s interval: batched status polling for every waiting collection (divides a minute).')
  actionPollIntervalSeconds: int
} = {
  queueWindowMinutes: 4320
  commandTimeoutMinutes: 30
  deadlineMarginMinutes: 30
  pollInitialSeconds: 15
  pollMaxSeconds: 900
  busyRetrySeconds: 300
  actionPollIntervalSeconds: 30
}

@description('Caps that keep one caller, one alert or one timer run from flooding MDE.')
param limits {
  collectionsMaxInFlight: int
  collectionsMaxInFlightPerCaller: int
  alertMaxDevices: int
  plansMaxMachines: int
  plansSubmissionsPerMinute: int
} = {
  collectionsMaxInFlight: 500
  collectionsMaxInFlightPerCaller: 50
  alertMaxDevices: 5
  plansMaxMachines: 25
  plansSubmissionsPerMinute: 5
}

@description('MDE\'s per-tenant limits the governor enforces (shared/governor; README, Settings). maxSessions: 25 or 50. enabled: false only when another tool of the tenant owns MDE\'s budget.')
param governor {
  enabled: bool
  maxSessions: int
  submissionsPerMinute: int
  readsPerMinute: int
  readsPerHour: int
  sessionLeaseMinutes: int
  headroomPercent: int
} = {
  enabled: true
  maxSessions: 25
  submissionsPerMinute: 10
  readsPerMinute: 100
  readsPerHour: 1500
  sessionLeaseMinutes: 20
  headroomPercent: 10
}

@description('Container of the collector\'s own state in the host storage account (COLLECTOR_STATE_CONTAINER): the governor\'s document, the alerts_v2 poller\'s cursor, submission records.')
param collectorStateContainerName string = 'collector-state'

@description('Graph security/alerts_v2 polling (shared/alerts/graphSettings.ts; README, "Alert routes"): off while schedule is empty. Needs SecurityAlert.Read.All.')
param alertsPoll {
  schedule: string
  graphBaseUrl: string
  lookbackMinutes: int
  pageSize: int
  maxPages: int
} = {
  schedule: ''
  graphBaseUrl: 'https://graph.microsoft.com'
  lookbackMinutes: 60
  pageSize: 100
  maxPages: 10
}

// ---- Evidence ---------------------------------------------------------------------------------

@description('Evidence container name.')
param evidenceContainerName string = 'evidence'

@description('Folder inside the evidence container.')
param evidencePrefix string = 'liveresponse'

@description('MiB one activity copies before the next takes over (a multiple of 8).')
param evidenceChunkMiB int = 512

@description('WORM mode of the evidence: none, containerLevel (time-based policy on the container) or versionLevel (policy on every blob version).')
@allowed([
  'none'
  'containerLevel'
  'versionLevel'
])
param evidenceImmutability string = 'versionLevel'

@description('Days each evidence blob stays immutable (the policy is created unlocked; lock it once settled).')
@minValue(1)
@maxValue(146000)
param evidenceRetentionDays int = 90

@description('Days deleted evidence blobs and containers stay recoverable.')
@minValue(1)
@maxValue(365)
param evidenceSoftDeleteDays int = 14

@description('Redundancy of the evidence account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param evidenceStorageSku string = 'Standard_LRS'

// ---- Durable backend and hosting --------------------------------------------------------------

@description('Durable Functions backend; empty: what host.json declares (extensions.durableTask.storageProvider.type: azureManaged or AzureStorage). The scale controller reads host.json, so switch backends there, not with this parameter alone.')
@allowed([
  ''
  'durableTaskScheduler'
  'azureStorage'
])
param durableBackend string = ''

@description('Durable Task Scheduler SKU.')
@allowed([
  'Consumption'
  'Dedicated'
])
param durableTaskSchedulerSku string = 'Consumption'

@description('Region of the Durable Task Scheduler, when it is not offered in the main region.')
param durableTaskSchedulerLocation string = location

@description('Most Flex Consumption instances.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per Flex Consumption instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

// ---- Alerts and monitoring --------------------------------------------------------------------

@description('Create the Event Grid subscription to alertCollection. Needs the function deployed: the azd postdeploy hook turns it on and provisions again.')
param alertSubscriptionEnabled bool = false

@description('Principals that may publish alerts to the Event Grid topic (EventGrid Data Sender).')
param alertPublisherPrincipalIds string[] = []

@description('Deploy the Sentinel playbook (Logic App) that forwards Sentinel alerts to the topic.')
param sentinelPlaybookEnabled bool = false

@description('Audience of Event Grid data-plane tokens for the playbook (https://eventgrid.azure.net; https://eventgrid.azure.us in US Government).')
param eventGridAudience string = 'https://eventgrid.azure.net'

@description('Days Log Analytics keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('Create the alert rule on failed collections.')
param failedCollectionAlertEnabled bool = true

@description('E-mail the failed-collection alert notifies; empty: the alert fires in Azure Monitor without notifying.')
param alertEmail string = ''

// ---- Defender XDR streaming through Event Hubs (optional) ------------------------------------

@description('Resource id of an existing Event Hubs namespace the Defender XDR Streaming API writes to (the "Event Hub Namespace resource ID" asked in Defender XDR > Settings > Streaming API); empty: no streaming route.')
param alertsEventHubNamespaceId string = ''

@description('Event hub in that namespace that receives the AlertInfo and AlertEvidence tables.')
param alertsEventHubName string = ''

@description('Consumer group the collector reads with; create one for it, as $Default is every other reader\'s too. Empty: $Default.')
param alertsEventHubConsumerGroup string = '$Default'

@description('Seconds a streamed alert\'s records settle before MDE is asked for the alert (ALERTS_SETTLE_SECONDS).')
@minValue(0)
@maxValue(900)
param alertsSettleSeconds int = 60

// ---- Names ------------------------------------------------------------------------------------

var token = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  application: 'mde-live-response-collector'
}
var hostJson = loadJsonContent('../host.json')
var names = {
  resourceGroup: 'rg-${environmentName}'
  identity: 'id-collector-${token}'
  plan: 'plan-collector-${token}'
  functionApp: 'func-collector-${token}'
  hostStorage: 'sthost${token}'
  evidenceStorage: 'stevid${token}'
  keyVault: 'kv-col-${token}'
  workspace: 'log-collector-${token}'
  applicationInsights: 'appi-collector-${token}'
  scheduler: 'dts-collector-${token}'
  topic: 'evgt-alerts-${token}'
  playbook: 'logic-sentinel-alerts-${token}'
  deploymentContainer: 'app-package-${token}'
  deadLetterContainer: 'alert-deadletter'
}
var hostJsonBackend = toLower(hostJson.extensions.durableTask.storageProvider.?type ?? 'AzureStorage') == 'azuremanaged'
  ? 'durableTaskScheduler'
  : 'azureStorage'
var useScheduler = (empty(durableBackend) ? hostJsonBackend : durableBackend) == 'durableTaskScheduler'
var backend = useScheduler ? 'durableTaskScheduler' : 'azureStorage'
var alertStreamingEnabled = !empty(alertsEventHubNamespaceId) && !empty(alertsEventHubName)
// A placeholder keeps the module's scope expression valid when the route is off.
var alertsEventHubNamespace = split(
  alertStreamingEnabled
    ? alertsEventHubNamespaceId
    : '/subscriptions/${subscription().subscriptionId}/resourceGroups/none/providers/Microsoft.EventHub/namespaces/none',
  '/'
)

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: names.resourceGroup
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  scope: rg
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  scope: rg
  params: {
    workspaceName: names.workspace
    applicationInsightsName: names.applicationInsights
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
    failedCollectionAlertEnabled: failedCollectionAlertEnabled
    alertEmail: alertEmail
    alertNamePrefix: 'collector-${token}'
  }
}

module hostStorage 'modules/hostStorage.bicep' = {
  scope: rg
  params: {
    name: names.hostStorage
    location: location
    tags: tags
    deploymentContainerName: names.deploymentContainer
    deadLetterContainerName: names.deadLetterContainer
    stateContainerName: collectorStateContainerName
  }
}

module evidenceStorage 'modules/evidenceStorage.bicep' = {
  scope: rg
  params: {
    name: names.evidenceStorage
    location: location
    tags: tags
    containerName: evidenceContainerName
    skuName: evidenceStorageSku
    immutability: evidenceImmutability
    retentionDays: evidenceRetentionDays
    softDeleteDays: evidenceSoftDeleteDays
  }
}

module manifestSigning 'modules/keyVault.bicep' = {
  scope: rg
  dependsOn: [
    identity
  ]
  params: {
    name: names.keyVault
    location: location
    tags: tags
    keyName: 'manifest-signing'
    identityName: names.identity
    deployerPrincipalId: deployerPrincipalId
  }
}

module scheduler 'modules/durableTaskScheduler.bicep' = if (useScheduler) {
  scope: rg
  params: {
    name: names.scheduler
    location: durableTaskSchedulerLocation
    tags: tags
    // host.json's hubName names the task hub, so the app and the scheduler cannot disagree.
    taskHubName: hostJson.extensions.durableTask.hubName
    skuName: durableTaskSchedulerSku
  }
}

// The settings the collector reads (shared/config.ts); test/unit/infra/settingsDrift.test.ts fails when
// this list and the loader disagree. Values are strings: app settings are environment variables.
var audiences = empty(authAudience) ? '${apiAppClientId},api://${apiAppClientId}' : authAudience
var appSettings = {
  // Never in Azure: it allows http:// loopback download links and a fixed development token.
  LOCAL_DEVELOPMENT: 'false'
  MDE_API_BASE_URL: mdeApiBaseUrl
  MDE_TOKEN_SCOPE: mdeTokenScope
  MDE_ALLOWED_HOSTS: mdeAllowedHosts
  // The one identity for MDE and evidence storage; AZURE_CLIENT_ID also points any DefaultAzureCredential at it.
  MDE_MANAGED_IDENTITY_CLIENT_ID: identity.outputs.clientId
  AZURE_CLIENT_ID: identity.outputs.clientId
  EVIDENCE_STORAGE_ACCOUNT_URL: evidenceStorage.outputs.blobEndpoint
  EVIDENCE_CONTAINER: evidenceStorage.outputs.containerName
  EVIDENCE_PREFIX: evidencePrefix
  EVIDENCE_CHUNK_MIB: string(evidenceChunkMiB)
  EVIDENCE_SOURCE_ALLOWED_HOSTS: evidenceSourceAllowedHosts
  // Every manifest's SHA-256 is signed with this key; its signature is stored beside it.
  MANIFEST_SIGNING_KEY_ID: manifestSigning.outputs.signingKeyId
  // Optional: an RFC 3161 token for each manifest's SHA-256, stored beside it; a TSA outage never fails a collection.
  MANIFEST_TIMESTAMP_URL: manifestTimestampUrl
  GETFILE_ALLOW_UNC_PATHS: string(getFileAllowUncPaths)
  // RunScript and PutFile run only library files whose SHA-256 was reviewed (library/ or a playbook pin).
  LIBRARY_ALLOW_UNREVIEWED: 'false'
  COLLECTION_QUEUE_WINDOW_MINUTES: string(collectionTiming.queueWindowMinutes)
  COLLECTION_COMMAND_TIMEOUT_MINUTES: string(collectionTiming.commandTimeoutMinutes)
  COLLECTION_DEADLINE_MARGIN_MINUTES: string(collectionTiming.deadlineMarginMinutes)
  COLLECTION_POLL_INITIAL_SECONDS: string(collectionTiming.pollInitialSeconds)
  COLLECTION_POLL_MAX_SECONDS: string(collectionTiming.pollMaxSeconds)
  COLLECTION_BUSY_RETRY_SECONDS: string(collectionTiming.busyRetrySeconds)
  ACTION_POLL_INTERVAL_SECONDS: string(collectionTiming.actionPollIntervalSeconds)
  COLLECTIONS_MAX_IN_FLIGHT: string(limits.collectionsMaxInFlight)
  COLLECTIONS_MAX_IN_FLIGHT_PER_CALLER: string(limits.collectionsMaxInFlightPerCaller)
  MDE_MAX_SESSIONS: string(governor.maxSessions)
  MDE_SUBMISSIONS_PER_MINUTE: string(governor.submissionsPerMinute)
  MDE_READS_PER_MINUTE: string(governor.readsPerMinute)
  MDE_READS_PER_HOUR: string(governor.readsPerHour)
  MDE_SESSION_LEASE_MINUTES: string(governor.sessionLeaseMinutes)
  GOVERNOR_HEADROOM_PERCENT: string(governor.headroomPercent)
  GOVERNOR_ENABLED: string(governor.enabled)
  ALERT_MAX_DEVICES: string(limits.alertMaxDevices)
  ALERTS_POLL_SCHEDULE: alertsPoll.schedule
  GRAPH_BASE_URL: alertsPoll.graphBaseUrl
  ALERTS_POLL_LOOKBACK_MINUTES: string(alertsPoll.lookbackMinutes)
  ALERTS_POLL_PAGE_SIZE: string(alertsPoll.pageSize)
  ALERTS_POLL_MAX_PAGES: string(alertsPoll.maxPages)
  // The governor's document, the poller's cursor and submission records: one container in host storage.
  COLLECTOR_STATE_CONTAINER: hostStorage.outputs.stateContainerName
  PLAYBOOKS: empty(playbooks) ? loadTextContent('settings/playbooks.json') : playbooks
  COLLECTION_PLANS: empty(collectionPlans) ? loadTextContent('settings/collectionPlans.json') : collectionPlans
  COLLECTION_PLANS_SCHEDULE: collectionPlansSchedule
  COLLECTION_PLANS_MAX_MACHINES: string(limits.plansMaxMachines)
  COLLECTION_PLANS_SUBMISSIONS_PER_MINUTE: string(limits.plansSubmissionsPerMinute)
  ALERT_RULES: empty(alertRules) ? loadTextContent('settings/alertRules.json') : alertRules
  // App Service Authentication has validated the token already in that mode; otherwise the app does.
  AUTH_MODE: authMode
  AUTH_TENANT_ID: authTenantId
  AUTH_AUDIENCE: audiences
  AUTH_AUTHORITY_HOST: authAuthorityHost
  AUTH_ROLE_SCOPES: authRoleScopes
  // The streaming route; the trigger is registered only when the hub is set (its connection: below).
  ALERTS_EVENTHUB_NAME: alertStreamingEnabled ? alertsEventHubName : ''
  ALERTS_EVENTHUB_CONSUMER_GROUP: alertsEventHubConsumerGroup
  ALERTS_SETTLE_SECONDS: string(alertsSettleSeconds)
}

module alertsEventHub 'modules/eventHubAccess.bicep' = if (alertStreamingEnabled) {
  scope: resourceGroup(alertsEventHubNamespace[2], alertsEventHubNamespace[4])
  params: {
    namespaceName: alertsEventHubNamespace[8]
    eventHubName: alertsEventHubName
    principalId: identity.outputs.principalId
    // Built from names known at compile time (not the module's output), so What-If stays precise.
    identityId: '${subscription().id}/resourceGroups/${names.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${names.identity}'
  }
}

// The Event Hubs trigger's identity-based connection, read by the Functions host (and checked by the
// app's loader): the user-assigned identity, by client id. Empty when the route is off.
var alertsEventHubConnection = {
  ALERTS_EVENTHUB__fullyQualifiedNamespace: alertStreamingEnabled ? alertsEventHub!.outputs.fullyQualifiedNamespace : ''
  ALERTS_EVENTHUB__credential: 'managedidentity'
  ALERTS_EVENTHUB__clientId: identity.outputs.clientId
}

module functionApp 'modules/functionApp.bicep' = {
  scope: rg
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    hostStorage: {
      blobEndpoint: hostStorage.outputs.blobEndpoint
      queueEndpoint: hostStorage.outputs.queueEndpoint
      tableEndpoint: hostStorage.outputs.tableEndpoint
      deploymentContainerName: hostStorage.outputs.deploymentContainerName
    }
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    durableBackend: backend
    durableTaskSchedulerEndpoint: useScheduler ? scheduler!.outputs.endpoint : ''
    appSettings: union(appSettings, alertsEventHubConnection)
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    authMode: authMode
    authTenantId: authTenantId
    authAuthorityHost: authAuthorityHost
    apiAppClientId: apiAppClientId
    authAudiences: split(audiences, ',')
  }
}

module alerts 'modules/eventGrid.bicep' = {
  scope: rg
  params: {
    name: names.topic
    location: location
    tags: tags
    identityId: identity.outputs.id
    subscriptionEnabled: alertSubscriptionEnabled
    functionAppId: functionApp.outputs.id
    deadLetter: {
      storageAccountId: hostStorage.outputs.id
      containerName: hostStorage.outputs.deadLetterContainerName
    }
  }
}

// Names known at compile time (not module outputs) keep What-If precise; dependsOn orders the modules.
module access 'modules/access.bicep' = {
  scope: rg
  dependsOn: [
    identity
    hostStorage
    evidenceStorage
    monitoring
    scheduler
    alerts
  ]
  params: {
    identityName: names.identity
    hostStorageName: names.hostStorage
    evidenceStorageName: names.evidenceStorage
    evidenceContainerName: evidenceContainerName
    applicationInsightsName: names.applicationInsights
    durableTaskScheduler: {
      schedulerName: useScheduler ? names.scheduler : ''
      taskHubName: useScheduler ? hostJson.extensions.durableTask.hubName : ''
    }
    deployerPrincipalId: deployerPrincipalId
    alertPublisherPrincipalIds: alertPublisherPrincipalIds
    topicName: names.topic
  }
}

module sentinelPlaybook 'modules/sentinelPlaybook.bicep' = if (sentinelPlaybookEnabled) {
  scope: rg
  dependsOn: [
    alerts
  ]
  params: {
    name: names.playbook
    location: location
    tags: tags
    topicName: names.topic
    eventGridAudience: eventGridAudience
  }
}

// azd stores these in the environment (.azure/<env>/.env); the hooks and the README's commands read them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output COLLECTOR_API_URL string = 'https://${functionApp.outputs.defaultHostName}/api'
output COLLECTOR_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output COLLECTOR_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output COLLECTOR_EVIDENCE_ACCOUNT string = evidenceStorage.outputs.name
output COLLECTOR_EVIDENCE_CONTAINER string = evidenceStorage.outputs.containerName
output COLLECTOR_MANIFEST_SIGNING_KEY_ID string = manifestSigning.outputs.signingKeyId
output COLLECTOR_ALERT_TOPIC_ENDPOINT string = alerts.outputs.endpoint
output COLLECTOR_ALERT_TOPIC_ID string = alerts.outputs.id
output COLLECTOR_DURABLE_BACKEND string = backend
output COLLECTOR_LOG_ANALYTICS_WORKSPACE_ID string = monitoring.outputs.workspaceId
output COLLECTOR_SENTINEL_PLAYBOOK string = sentinelPlaybookEnabled ? sentinelPlaybook!.outputs.name : ''
