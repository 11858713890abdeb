/**
 * Local stand-ins for the services the app talks to, for development without a tenant and as the
 * tests' doubles: the MDE live response simulator, and the Azurite launcher (Azure Storage).
 */
export { connectionString, startAzurite, type AzuriteInstance } from "./azurite";
export { createMdeSimulator, type MdeSimulator, type MdeSimulatorOptions } from "./server";
export { defaultMachines, type MachineScenario, type ResolvedMachineScenario, type RunScriptOutcome } from "./scenarios";
export { DEFAULT_LIMITS, DEFAULT_LINK_TTL_IN_MS, DEFAULT_QUEUE_WINDOW_IN_MS, type SimulatorLimits } from "./limits";
export { DEFAULT_RESULT_CONTAINER, type ResultFigures } from "./resultStore";
export { getFileContent, getFileContentKey, getFileContentStream } from "./resultContent";
export type { SimulatorEndpoint, SimulatorStats } from "./stats";
export { INJECTED_FAULT_KINDS, type InjectedFaultKind } from "./stats";
export type { FaultOptions, LatencySetting } from "./faults";
export { defaultLibrary, repositoryLibrary, STAND_IN_LIBRARY_FILES } from "./defaultLibrary";
export { LIBRARY_MAX_FILE_BYTES, type LibrarySeed } from "./libraryFiles";
export type { MachineFaultFields } from "./scenarioFaults";
