/**
 * Builds the `InvocationContext` the Node worker would build for a registered function, so
 * library code that reads `context.options` (e.g. `df.getClient`) behaves as under the host.
 */
import { randomUUID } from "node:crypto";
import { format } from "node:util";
import { InvocationContext, type EffectiveFunctionOptions, type FunctionInput, type FunctionOutput, type LogLevel } from "@azure/functions";
import type { BindingMetadata, RegisteredFunction } from "./registry";

/** One log line written through an InvocationContext (or by the engine itself). */
export interface DevhostLogEntry {
  level: LogLevel;
  functionName: string;
  invocationId?: string;
  instanceId?: string;
  message: string;
}

/** Where devhost log lines go. */
export type DevhostLogger = (entry: DevhostLogEntry) => void;

/** Discards everything (the default, so tests stay quiet). */
export const silentDevhostLogger: DevhostLogger = () => {};

/** Prints `[level] functionName: message` to the console (for the local dev host). */
export const consoleDevhostLogger: DevhostLogger = (e) => {
  const line = `[${e.level}] ${e.functionName}${e.instanceId ? ` (${e.instanceId})` : ""}: ${e.message}`;
  if (e.level === "error" || e.level === "critical") console.error(line);
  else if (e.level === "warning") console.warn(line);
  else console.log(line);
};

// The worker's `returnBindingKey` ($return) marks the return binding.
const RETURN_BINDING = "$return";

function toNamed(name: string, binding: BindingMetadata): FunctionInput {
  return { ...binding, type: binding.type, name };
}

/** The `context.options` the worker derives from the registered bindings (its `fromRpcBindings`). */
export function effectiveOptions(fn: RegisteredFunction): EffectiveFunctionOptions {
  const extraInputs: FunctionInput[] = [];
  const extraOutputs: FunctionOutput[] = [];
  let ret: FunctionOutput | undefined;
  for (const [name, binding] of Object.entries(fn.bindings)) {
    if (name === fn.triggerBindingName) continue;
    if (name === RETURN_BINDING) ret = toNamed(name, binding);
    else if (binding.direction === "in") extraInputs.push(toNamed(name, binding));
    else if (binding.direction === "out") extraOutputs.push(toNamed(name, binding));
  }
  return { trigger: toNamed(fn.triggerBindingName, fn.trigger), return: ret, extraInputs, extraOutputs };
}

/** A fresh InvocationContext for one invocation of `fn`, logging to `logger`. */
export function createInvocationContext(
  fn: RegisteredFunction,
  logger: DevhostLogger,
  extra: { instanceId?: string; invocationId?: string } = {},
): InvocationContext {
  const invocationId = extra.invocationId ?? randomUUID();
  return new InvocationContext({
    functionName: fn.name,
    invocationId,
    options: effectiveOptions(fn),
    logHandler: (level, ...args) =>
      logger({ level, functionName: fn.name, invocationId, instanceId: extra.instanceId, message: format(...args) }),
  });
}
