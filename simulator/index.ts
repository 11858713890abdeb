/** The MDE live response simulator: local development without a tenant, and the test double. */
export { createMdeSimulator, type MdeSimulator, type MdeSimulatorOptions } from "./server";
export { defaultMachines, type MachineScenario, type ResolvedMachineScenario, type RunScriptOutcome } from "./scenarios";
export { DEFAULT_LIMITS, DEFAULT_LINK_TTL_IN_MS, DEFAULT_QUEUE_WINDOW_IN_MS, type SimulatorLimits } from "./limits";
export { DEFAULT_RESULT_CONTAINER, type ResultFigures } from "./resultStore";
export { getFileContent, getFileContentKey, getFileContentStream } from "./resultContent";
export type { SimulatorEndpoint, SimulatorStats } from "./stats";
export { INJECTED_FAULT_KINDS, type InjectedFaultKind } from "./stats";
export type { FaultOptions, LatencySetting } from "./faults";
export type { MachineFaultFields } from "./scenarioFaults";
