/**
 * Stand-in for `@azure/functions-core`, the module the Functions Node worker injects at run time.
 * Without it `@azure/functions` switches to "test mode" and drops every registration; with it,
 * `app.http(...)`, `df.app.orchestration(...)` etc. land in {@link ./registry}.
 *
 * jest maps `@azure/functions-core` here (moduleNameMapper); plain Node gets it through
 * {@link ./loadApp}'s `Module._load` hook. Only what `@azure/functions` 4.x calls is implemented.
 */
import { recordHook, recordRegistration, type FunctionHandler, type FunctionMetadata } from "./registry";

/** Mirrors the worker's Disposable: what registerFunction/registerHook return. */
export interface Disposable {
  dispose(): void;
}

/** Log levels the library passes to `log` (RpcLogLevel). */
export type CoreLogLevel = "information" | "debug" | "error" | "trace" | "warning" | "critical" | "none";

let programmingModel: unknown;
let logSink: (level: CoreLogLevel, category: string, message: string) => void = (level, _category, message) => {
  // The library's system logs are mostly debug chatter; surface only problems.
  if (level === "error" || level === "critical" || level === "warning") console.warn(`[functions-core] ${message}`);
};

/** Called by `app.generic` for every registration; records the metadata and the exact handler. */
export function registerFunction(metadata: FunctionMetadata, handler: FunctionHandler): Disposable {
  recordRegistration(metadata, handler);
  return { dispose() {} };
}

/** Called once by `@azure/functions` with its ProgrammingModel; kept so a host could use it. */
export function setProgrammingModel(model: unknown): void {
  programmingModel = model;
}

/** The ProgrammingModel `@azure/functions` installed, if any. */
export function getProgrammingModel(): unknown {
  return programmingModel;
}

/** Called by `app.hook.*`; the hooks are recorded but the devhost does not run them. */
export function registerHook(hookName: string, callback: (context: unknown) => unknown): Disposable {
  recordHook({ hookName, callback });
  return { dispose() {} };
}

/** System log entry point (`workerSystemLog`). */
export function log(level: CoreLogLevel, category: string, message: string): void {
  logSink(level, category, message);
}

/** Replaces where system logs go (default: warnings and errors to console.warn). */
export function setCoreLogSink(sink: (level: CoreLogLevel, category: string, message: string) => void): void {
  logSink = sink;
}
