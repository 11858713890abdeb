// The alert way in: an Event Grid custom topic that Sentinel playbooks, SOARs or scripts publish alerts
// to, and its subscription delivering each event to the alertCollection function (Event Grid trigger).
// Undeliverable events are dead-lettered to a blob container instead of being dropped after the retries.

@description('Topic name.')
param name string

@description('Azure region.')
param location string

@description('Tags applied to the topic.')
param tags object

@description('Resource id of the user-assigned managed identity (dead-letter writes).')
param identityId string

@description('Create the subscription. The alertCollection function must already exist, so the first `azd up` leaves this off and the postdeploy hook provisions again with it on.')
param subscriptionEnabled bool

@description('Resource id of the Function App.')
param functionAppId string

@description('Host storage account resource id and the container for dead letters.')
param deadLetter {
  storageAccountId: string
  containerName: string
}

resource topic 'Microsoft.EventGrid/topics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    // The Event Grid schema is what the Logic Apps and most SOAR publishers send; the function also reads CloudEvents.
    inputSchema: 'EventGridSchema'
    // Publishers authenticate with Entra ID and the EventGrid Data Sender role; no access keys or SAS tokens.
    disableLocalAuth: true
    minimumTlsVersionAllowed: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource subscription 'Microsoft.EventGrid/topics/eventSubscriptions@2025-02-15' = if (subscriptionEnabled) {
  parent: topic
  name: 'alert-collection'
  properties: {
    destination: {
      // AzureFunction delivery: Event Grid calls the trigger with the extension's system key, found through ARM.
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/alertCollection'
        // The function handles one event per invocation.
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    retryPolicy: {
      // A referenced alert the function could not fetch (429, 5xx) is retried with Event Grid's backoff for a day.
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    // Dead letters are written with the topic's managed identity (Blob Data Owner on the host account):
    // the host account has shared keys disabled.
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'UserAssigned'
        userAssignedIdentity: identityId
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: deadLetter.storageAccountId
          blobContainerName: deadLetter.containerName
        }
      }
    }
  }
}

output id string = topic.id
output name string = topic.name
output endpoint string = topic.properties.endpoint
