// The one user-assigned managed identity the collector uses for everything: host storage,
// evidence storage, the Durable Task Scheduler, Application Insights ingestion, dead-lettering and,
// through the Microsoft Graph app role assignments `npm run grant-permissions` makes, the MDE API.
// User-assigned rather than system-assigned so that its principal exists before the Function App does
// (role assignments and MDE permissions can be granted up front) and survives re-creating the app.

@description('Name of the identity.')
param name string

@description('Azure region.')
param location string

@description('Tags applied to the identity.')
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
