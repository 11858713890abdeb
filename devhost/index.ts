/**
 * The devhost's front door: the only module scripts/, simulator/ and test/ import from devhost/.
 * The devhost runs the app without the Functions host: a durable engine that drives the REAL
 * durable-functions replay code (virtual clock for tests, wall clock for `npm start` and the
 * demo), the Durable HTTP API the real DurableClient calls, helpers that invoke registered
 * functions as the worker does, and the local host behind `npm start`.
 *
 * The app never imports devhost (test/unit/devhost/buildLayout.test.ts checks the deployable build).
 * One path is not an import: jest maps `@azure/functions-core` to ./functionsCoreStub.ts.
 */

// The durable engine and its clocks.
export { DurableEngine } from "./durableEngine";
export { VirtualClock, WallClock } from "./clock";

// The Durable HTTP API over an engine, and invoking registered functions through it.
export { DurableHttpApi, INSTANCE_ID_PLACEHOLDER } from "./durableHttpApi";
export { invokeHttp, matchRoute, type NormalizedHttpResponse } from "./invokeHttp";
export { invokeFunction, timerInfo } from "./triggerInvoker";
export { createInvocationContext, silentDevhostLogger, type DevhostLogEntry } from "./invocation";

// The app's registrations, captured by the @azure/functions-core stand-in.
export { loadApp } from "./loadApp";
export { defaultRegistry, findFunction, getRegisteredFunctions, type FunctionRegistry, type RegisteredFunction } from "./registry";

// The local host behind `npm start`, and how it reads local.settings.json.
export { LocalHost, loadAppWithSettings, type RequestLogEntry } from "./localHost";
export { methodsOf, routeTemplateOf } from "./httpTriggerRoutes";
export {
  DEFAULT_PORTS,
  evidenceEndpointOf,
  isDevelopmentStorage,
  mergeWithEnvironment,
  planLocalServices,
  portFrom,
  readLocalSettings,
  readSettingsFile,
  resolveSettingReferences,
  wantsDevelopmentIdentity,
  withLocalServices,
} from "./localSettings";

// The wire formats the engine mirrors from durable-functions and @azure/functions (for tests that
// replay recorded histories), and the versions they were checked against (for the version guard).
export { MIRRORED_PACKAGES, type MirroredArea, type MirroredPackage } from "./mirroredPackages";
export {
  ActionType,
  leafActions,
  parseOrchestrationFailure,
  parseOrchestratorState,
  type WireAction,
  type WireOrchestratorState,
  type WireRetryOptions,
} from "./actions";
export { EventType, type HistoryEvent } from "./history";

// The local development identity: tokens for AUTH_MODE=development (npm start, demo, tests).
export {
  createDevelopmentIdentity,
  loadOrCreateDevelopmentIdentity,
  type DevelopmentIdentity,
  type TokenRequest,
} from "./developmentIdentity";
export { DEFAULT_ROLES } from "./developmentRoles";
