// The Defender XDR streaming route's Event Hub: an existing hub the tenant's Streaming API writes to
// (README, "Defender XDR streaming through Event Hubs"). Deployed at the namespace's resource group,
// which may be another than the collector's. Grants the collector's identity "Azure Event Hubs Data
// Receiver" on that one hub, which is all the Event Hubs trigger needs to read it (checkpoints go to
// the host storage account), and returns the namespace host name the trigger's identity-based
// connection setting takes (ALERTS_EVENTHUB__fullyQualifiedNamespace).

@description('Event Hubs namespace name.')
param namespaceName string

@description('Event hub that receives the AlertInfo and AlertEvidence tables.')
param eventHubName string

@description('Principal id of the collector\'s user-assigned managed identity.')
param principalId string

@description('Resource id of that identity (keeps the role assignment\'s name stable).')
param identityId string

// Built-in role definition id (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var eventHubsDataReceiver = 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' existing = {
  name: namespaceName

  resource hub 'eventhubs' existing = {
    name: eventHubName
  }
}

resource receiverAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(namespace::hub.id, identityId, eventHubsDataReceiver)
  scope: namespace::hub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventHubsDataReceiver)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// serviceBusEndpoint is https://<namespace>.<the cloud's Service Bus suffix>:443/: the host name is the middle.
output fullyQualifiedNamespace string = split(split(namespace.properties.serviceBusEndpoint, '//')[1], ':')[0]
