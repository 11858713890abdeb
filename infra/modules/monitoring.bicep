// Log Analytics + workspace-based Application Insights, the collector's saved KQL queries, and an
// alert rule on failed collections. The app writes one JSON object per log line (shared/log.ts);
// the queries under infra/queries parse those lines from AppTraces, so they match what the code logs.

@description('Log Analytics workspace name.')
param workspaceName string

@description('Application Insights component name.')
param applicationInsightsName string

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Days Log Analytics keeps data. 30 is included in the ingestion price; longer retention is billed per GB per month.')
@minValue(30)
@maxValue(730)
param retentionInDays int

@description('Create the alert rule on failed, timed-out and rejected collections.')
param failedCollectionAlertEnabled bool

@description('E-mail address the failed-collection alert notifies (an action group is created only when set).')
param alertEmail string

@description('Resource name prefix for the action group and the alert rule.')
param alertNamePrefix string

resource workspace 'Microsoft.OperationalInsights/workspaces@2026-03-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    // Pay-as-you-go: the collector logs a few lines per MDE call, far below any commitment tier.
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    // Workspace-based: traces land in AppTraces, where the saved queries and the alert rule read them.
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    // No instrumentation-key ingestion: the Function App sends telemetry with its managed identity
    // (APPLICATIONINSIGHTS_AUTHENTICATION_STRING) and the Monitoring Metrics Publisher role.
    DisableLocalAuth: true
  }
}

// Saved queries. CollectorEvents is a workspace function the others build on: one row per JSON log line.
var collectorEventsQuery = loadTextContent('../queries/collectorEvents.kql')
var savedQueries = [
  {
    id: 'collector-events'
    displayName: 'Collector events (parsed JSON log lines)'
    functionAlias: 'CollectorEvents'
    query: collectorEventsQuery
  }
  {
    id: 'collections-by-outcome'
    displayName: 'Collections by outcome'
    functionAlias: ''
    query: loadTextContent('../queries/collectionsByOutcome.kql')
  }
  {
    id: 'failed-collections'
    displayName: 'Failed, timed-out and rejected collections'
    functionAlias: ''
    query: loadTextContent('../queries/failedCollections.kql')
  }
  {
    id: 'throttled-mde-requests'
    displayName: 'MDE 429 responses by endpoint'
    functionAlias: ''
    query: loadTextContent('../queries/throttledByEndpoint.kql')
  }
  {
    id: 'evidence-per-day'
    displayName: 'Evidence landed per day'
    functionAlias: ''
    query: loadTextContent('../queries/evidencePerDay.kql')
  }
]

resource savedSearches 'Microsoft.OperationalInsights/workspaces/savedSearches@2026-03-01' = [
  for q in savedQueries: {
    parent: workspace
    name: q.id
    properties: union(
      {
        category: 'MDE live response collector'
        displayName: q.displayName
        query: q.query
        version: 2
      },
      empty(q.functionAlias) ? {} : { functionAlias: q.functionAlias }
    )
  }
]

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (failedCollectionAlertEnabled && !empty(alertEmail)) {
  name: '${alertNamePrefix}-collector'
  // Action groups are global resources.
  location: 'global'
  tags: tags
  properties: {
    enabled: true
    groupShortName: 'mdecollect'
    emailReceivers: [
      {
        name: 'collector-owner'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// The alert inlines CollectorEvents with `let` so it keeps working if someone edits the saved function.
resource failedCollectionAlert 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = if (failedCollectionAlertEnabled) {
  name: '${alertNamePrefix}-failed-collections'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'MDE collector: failed collections'
    description: 'A collection ended Failed, TimedOut or Rejected in the last 15 minutes. Run the saved query "Failed, timed-out and rejected collections" for the reasons.'
    severity: 2
    enabled: true
    scopes: [
      workspace.id
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    // AppTraces has no rows until the app first logs: validating the query at deployment time would fail on a new workspace.
    skipQueryValidation: true
    criteria: {
      allOf: [
        {
          query: 'let CollectorEvents = () {\n${collectorEventsQuery}\n};\n${loadTextContent('../queries/failedCollections.kql')}'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: false
    actions: {
      actionGroups: failedCollectionAlertEnabled && !empty(alertEmail) ? [actionGroup.id] : []
    }
  }
}

output workspaceId string = workspace.id
output applicationInsightsName string = applicationInsights.name
output applicationInsightsId string = applicationInsights.id
// Not a secret: with local authentication disabled, the connection string only says where to send telemetry.
output applicationInsightsConnectionString string = applicationInsights.properties.ConnectionString
