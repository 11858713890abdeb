// Optional Microsoft Sentinel playbook: a Logic App that a Sentinel automation rule runs for each alert
// (trigger "Microsoft Sentinel alert"), which publishes the alert to the collector's Event Grid topic.
// It uses its own system-assigned identity, not the collector's: the collector's identity holds MDE
// live response permissions, and the playbook needs nothing but EventGrid Data Sender on the topic.
// The alert is sent with the SecurityAlert column names the function reads (shared/alerts/sentinel.ts).

@description('Logic App name.')
param name string

@description('Azure region.')
param location string

@description('Tags applied to both resources.')
param tags object

@description('Event Grid topic name.')
param topicName string

@description('Audience of Event Grid data-plane tokens (https://eventgrid.azure.net in the public cloud).')
param eventGridAudience string

resource topic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: topicName
}

// The Sentinel connector, authenticated with the Logic App's managed identity (no stored credentials).
resource sentinelConnection 'Microsoft.Web/connections@2016-06-01' = {
  name: 'azuresentinel-${name}'
  location: location
  tags: tags
  // kind V1 and parameterValueType Alternative make the connection use the Logic App's managed identity.
  // Both are accepted by ARM and used by Microsoft's own Sentinel playbook templates, but missing from the
  // Bicep type definition of Microsoft.Web/connections@2016-06-01, hence the two suppressions.
  #disable-next-line BCP187
  kind: 'V1'
  properties: {
    displayName: 'azuresentinel-${name}'
    #disable-next-line BCP037
    parameterValueType: 'Alternative'
    api: {
      id: subscriptionResourceId('Microsoft.Web/locations/managedApis', location, 'azuresentinel')
    }
  }
}

resource playbook 'Microsoft.Logic/workflows@2019-05-01' = {
  name: name
  location: location
  tags: union(tags, { LogicAppsCategory: 'security' })
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    state: 'Enabled'
    definition: {
      '$schema': 'https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#'
      contentVersion: '1.0.0.0'
      parameters: {
        '$connections': {
          defaultValue: {}
          type: 'Object'
        }
      }
      triggers: {
        Microsoft_Sentinel_alert: {
          type: 'ApiConnectionWebhook'
          inputs: {
            host: {
              connection: {
                name: '@parameters(\'$connections\')[\'azuresentinel\'][\'connectionId\']'
              }
            }
            body: {
              callback_url: '@{listCallbackUrl()}'
            }
            path: '/subscribe'
          }
        }
      }
      actions: {
        Publish_alert_to_collector: {
          type: 'Http'
          runAfter: {}
          inputs: {
            method: 'POST'
            uri: topic.properties.endpoint
            headers: {
              'Content-Type': 'application/json'
            }
            // One Event Grid event; the alert id makes the collection idempotent if the playbook runs twice.
            body: [
              {
                id: '@{guid()}'
                eventType: 'Microsoft.Sentinel.Alert'
                subject: 'alerts/@{triggerBody()?[\'SystemAlertId\']}'
                eventTime: '@{utcNow()}'
                dataVersion: '1.0'
                data: {
                  SystemAlertId: '@{triggerBody()?[\'SystemAlertId\']}'
                  AlertName: '@{coalesce(triggerBody()?[\'AlertDisplayName\'], triggerBody()?[\'AlertName\'])}'
                  AlertSeverity: '@{coalesce(triggerBody()?[\'Severity\'], triggerBody()?[\'AlertSeverity\'])}'
                  ProductName: '@{triggerBody()?[\'ProductName\']}'
                  // How the collector finds the MDE alert id to fetch the alert from its source; and what rules may match on.
                  AlertLink: '@{triggerBody()?[\'AlertLink\']}'
                  ProviderAlertId: '@{triggerBody()?[\'ProviderAlertId\']}'
                  VendorOriginalId: '@{triggerBody()?[\'VendorOriginalId\']}'
                  ProviderName: '@{triggerBody()?[\'ProviderName\']}'
                  AlertType: '@{triggerBody()?[\'AlertType\']}'
                  Tactics: '@{triggerBody()?[\'Tactics\']}'
                  Entities: '@triggerBody()?[\'Entities\']'
                  ExtendedProperties: '@triggerBody()?[\'ExtendedProperties\']'
                }
              }
            ]
            authentication: {
              type: 'ManagedServiceIdentity'
              audience: eventGridAudience
            }
          }
        }
      }
      outputs: {}
    }
    parameters: {
      '$connections': {
        value: {
          azuresentinel: {
            connectionId: sentinelConnection.id
            connectionName: sentinelConnection.name
            id: subscriptionResourceId('Microsoft.Web/locations/managedApis', location, 'azuresentinel')
            connectionProperties: {
              authentication: {
                type: 'ManagedServiceIdentity'
              }
            }
          }
        }
      }
    }
  }
}

// EventGrid Data Sender on the topic only.
resource publishAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, playbook.id, 'd5a91429-5739-47e2-a06b-3470a27159e7')
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'd5a91429-5739-47e2-a06b-3470a27159e7')
    principalId: playbook.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = playbook.name
output id string = playbook.id
