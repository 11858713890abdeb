/**
 * The library versions whose internals the devhost mirrors, and which devhost file mirrors which
 * internal file. The engine drives the REAL durable-functions replay code, but it must speak that
 * code's private wire formats (history events, actions, task ids, error text) and stand in for the
 * worker that `@azure/functions` expects. None of that is a public contract, so a new version of
 * either package may change it silently: test/unit/devhost/mirroredPackages.test.ts fails when the
 * installed version differs from `version` below, and names the areas to re-check.
 *
 * After re-checking every area against the new version (and running the devhost and e2e tests),
 * update `version` here.
 */

/** One thing the devhost reproduces, the devhost files that reproduce it, and where the library defines it. */
export interface MirroredArea {
  /** What to re-check, in words. */
  readonly area: string;
  /** Repository-relative paths of the devhost files (or config) that copy it. */
  readonly devhostFiles: readonly string[];
  /** Paths inside the installed package that define it. */
  readonly upstreamFiles: readonly string[];
}

/** A package whose internals the devhost mirrors, at the version it was checked against. */
export interface MirroredPackage {
  readonly name: string;
  readonly version: string;
  readonly areas: readonly MirroredArea[];
}

/** See the module comment. */
export const MIRRORED_PACKAGES: readonly MirroredPackage[] = [
  {
    name: "durable-functions",
    version: "3.5.0",
    areas: [
      {
        area:
          "history and action schema: event and action type numbers, event fields, the OrchestratorState shape, " +
          "replay schema V3 (nested compoundActions), the binding fields the orchestrator reads",
        devhostFiles: ["devhost/history.ts", "devhost/actions.ts", "devhost/episode.ts"],
        upstreamFiles: [
          "lib/src/history/HistoryEventType.js",
          "lib/src/history/HistoryEvent.js",
          "lib/src/actions/ActionType.js",
          "lib/src/orchestrations/OrchestratorState.js",
          "lib/src/orchestrations/ReplaySchema.js",
          "lib/src/orchestrations/DurableOrchestrationBindingInfo.js",
          "lib/src/orchestrations/Orchestrator.js",
        ],
      },
      {
        area:
          "task-id assignment: one counter per execution in yield order, plus the ids the library takes by itself " +
          "for retry timers, retry attempts and long-timer parts",
        devhostFiles: ["devhost/episode.ts", "devhost/instanceState.ts"],
        upstreamFiles: [
          "lib/src/orchestrations/TaskOrchestrationExecutor.js",
          "lib/src/orchestrations/DurableOrchestrationContext.js",
          "lib/src/task/RetryableTask.js",
          "lib/src/task/LongTimerTask.js",
          "lib/src/task/CompoundTask.js",
        ],
      },
      {
        area: "OrchestrationFailureError format: `<message>\\n\\n$OutOfProcData$:<state JSON>`",
        devhostFiles: ["devhost/actions.ts", "devhost/episode.ts"],
        upstreamFiles: ["lib/src/error/OrchestrationFailureError.js", "lib/src/orchestrations/Orchestrator.js"],
      },
      {
        area: "activity inputs: string inputs JSON-stringified by the library, parsed again by the worker",
        devhostFiles: ["devhost/activityInvoker.ts", "devhost/history.ts"],
        upstreamFiles: ["lib/src/actions/CallActivityAction.js", "lib/src/util/Utils.js"],
      },
      {
        area:
          "durable client binding data and HTTP API shape: creationUrls/managementUrls/rpcBaseUrl, the origin rewrite " +
          "in getClient, the RPC routes and status payloads the client calls",
        devhostFiles: ["devhost/httpApiWire.ts", "devhost/durableHttpApi.ts", "devhost/invokeHttp.ts", "devhost/triggerInvoker.ts"],
        upstreamFiles: [
          "lib/src/durableClient/getClient.js",
          "lib/src/durableClient/DurableClient.js",
          "lib/src/durableClient/OrchestrationClientInputData.js",
          "lib/src/http/HttpCreationPayload.js",
          "lib/src/http/HttpManagementPayload.js",
          "lib/src/orchestrations/DurableOrchestrationStatus.js",
        ],
      },
    ],
  },
  {
    name: "@azure/functions",
    version: "4.16.5",
    areas: [
      {
        area:
          "the @azure/functions-core surface the library calls (registerFunction, setProgrammingModel, registerHook, log), " +
          "how it finds that module, and the registration metadata it passes",
        devhostFiles: ["devhost/functionsCoreStub.ts", "devhost/loadApp.ts", "devhost/registry.ts", "jest.config.js"],
        upstreamFiles: [
          "src/app.ts",
          "src/utils/tryGetCoreApiLazy.ts",
          "src/converters/toCoreFunctionMetadata.ts",
          "src/hooks/registerHook.ts",
          "src/utils/workerSystemLog.ts",
        ],
      },
      {
        area:
          "invocation: the InvocationContext and context.options the worker builds from the bindings, " +
          "which binding is the trigger, and the HttpRequest handlers receive",
        devhostFiles: ["devhost/invocation.ts", "devhost/registry.ts", "devhost/invokeHttp.ts", "devhost/triggerInvoker.ts"],
        upstreamFiles: [
          "src/InvocationContext.ts",
          "src/converters/fromRpcBindings.ts",
          "src/utils/isTrigger.ts",
          "src/http/HttpRequest.ts",
        ],
      },
    ],
  },
];
