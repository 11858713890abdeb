// The collector's Function App on Flex Consumption (Linux, Node 22), its plan, its app settings and,
// when chosen, App Service Authentication in front of the HTTP API.
// Flex Consumption: learn.microsoft.com/azure/azure-functions/flex-consumption-plan

@description('Function App name.')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags applied to both resources; the app also gets azd-service-name so `azd deploy` finds it.')
param tags object

@description('Resource id of the user-assigned managed identity.')
param identityId string

@description('Client id of the user-assigned managed identity.')
param identityClientId string

@description('Host storage endpoints (AzureWebJobsStorage, identity-based).')
param hostStorage {
  blobEndpoint: string
  queueEndpoint: string
  tableEndpoint: string
  deploymentContainerName: string
}

@description('Application Insights connection string (no key material: local authentication is disabled).')
param applicationInsightsConnectionString string

@description('Durable Functions backend; the app settings pin the runtime to it.')
@allowed([
  'durableTaskScheduler'
  'azureStorage'
])
param durableBackend string

@description('Durable Task Scheduler endpoint (empty with the Azure Storage backend).')
param durableTaskSchedulerEndpoint string

@description('The settings the collector itself reads (shared/config.ts), built in main.bicep.')
param appSettings object

@description('Most instances Flex Consumption may scale out to. MDE allows 10 live response submissions per minute, so a few instances are plenty; the cap also bounds cost.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory per instance in MB. 2048 is the default; the evidence writer holds a few 8 MiB blocks per copy.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('entra: the app validates Entra tokens itself. appServiceAuthentication: App Service Authentication validates them in front of the app. development: never in Azure.')
@allowed([
  'entra'
  'appServiceAuthentication'
])
param authMode string

@description('Tenant of the API app registration.')
param authTenantId string

@description('Authority host without a trailing slash (https://login.microsoftonline.com, or https://login.microsoftonline.us for GCC High/DoD).')
param authAuthorityHost string

@description('Client id of the API app registration.')
param apiAppClientId string

@description('Token audiences the API accepts.')
param authAudiences string[]

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    // FC1 is the only Flex Consumption SKU; instances are billed per GB-second while they run.
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    // Linux: Flex Consumption runs on Linux only.
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    // Plain HTTP would expose bearer tokens.
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          // azd uploads the package to this container; the platform reads it with the managed identity.
          type: 'blobContainer'
          value: '${hostStorage.blobEndpoint}${hostStorage.deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      // On Flex Consumption the runtime is declared here, not with FUNCTIONS_WORKER_RUNTIME.
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// Deployments go through Entra-authenticated one deploy; basic (user/password) publishing credentials stay off.
resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

// Host settings: identity-based host storage (no keys anywhere), Entra-authenticated telemetry.
var platformSettings = {
  AzureWebJobsStorage__blobServiceUri: hostStorage.blobEndpoint
  AzureWebJobsStorage__queueServiceUri: hostStorage.queueEndpoint
  AzureWebJobsStorage__tableServiceUri: hostStorage.tableEndpoint
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identityClientId}'
}

// Durable backend. host.json names it too, because the scale controller reads the file itself
// (azure-functions-host FunctionsSyncManager) and ignores app settings; these
// AzureFunctionsJobHost__ overrides (learn.microsoft.com/azure/azure-functions/functions-host-json#override-hostjson-values)
// make sure the running host uses exactly the backend this template provisioned.
var durableTaskSchedulerSettings = {
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=${durableTaskSchedulerEndpoint};Authentication=ManagedIdentity;ClientID=${identityClientId}'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: 'azureManaged'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'
}
var azureStorageDurableSettings = {
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: 'AzureStorage'
  // The task hub lives in the host storage account, reached with the same identity-based connection.
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionName: 'AzureWebJobsStorage'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: 'AzureWebJobsStorage'
}

resource settings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: site
  name: 'appsettings'
  properties: union(
    platformSettings,
    durableBackend == 'durableTaskScheduler' ? durableTaskSchedulerSettings : azureStorageDurableSettings,
    appSettings
  )
}

// App Service Authentication (authMode appServiceAuthentication): the platform rejects requests without a
// valid Entra token for the API app registration before they reach the app.
resource authentication 'Microsoft.Web/sites/config@2025-03-01' = if (authMode == 'appServiceAuthentication') {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      // Event Grid delivers alerts to the runtime's webhook with the extension's system key, not an Entra token.
      excludedPaths: [
        '/runtime/webhooks/eventgrid'
      ]
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: apiAppClientId
          openIdIssuer: '${authAuthorityHost}/${authTenantId}/v2.0'
        }
        validation: {
          allowedAudiences: authAudiences
        }
      }
    }
    login: {
      // An API called with bearer tokens keeps no sessions.
      tokenStore: {
        enabled: false
      }
    }
  }
}

output id string = site.id
output name string = site.name
output defaultHostName string = site.properties.defaultHostName
