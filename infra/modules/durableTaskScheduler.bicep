// Durable Task Scheduler: the managed Durable Functions backend Microsoft recommends for new apps
// (learn.microsoft.com/azure/azure-functions/durable/durable-task-scheduler/durable-task-scheduler).
// It keeps orchestration state out of the host storage account and works on Flex Consumption.

@description('Scheduler name.')
param name string

@description('Azure region (the scheduler is offered in fewer regions than Flex Consumption).')
param location string

@description('Tags applied to the scheduler.')
param tags object

@description('Task hub name; must equal extensions.durableTask.hubName in host.json.')
param taskHubName string

@description('Consumption: pay per action, up to about 500 actions/s. Dedicated: reserved capacity units (2,000 actions/s each).')
@allowed([
  'Consumption'
  'Dedicated'
])
param skuName string

resource scheduler 'Microsoft.DurableTask/schedulers@2026-02-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    sku: union(
      {
        name: skuName
      },
      skuName == 'Dedicated' ? { capacity: 1 } : {}
    )
    // The scheduler's own IP filter; an empty list denies every caller. Access is still gated by
    // Entra ID and the Durable Task Data Contributor role, and Flex Consumption has no fixed outbound IPs.
    ipAllowlist: [
      '0.0.0.0/0'
    ]
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2026-02-01' = {
  parent: scheduler
  name: taskHubName
}

output schedulerName string = scheduler.name
output taskHubName string = taskHub.name
output endpoint string = scheduler.properties.endpoint
