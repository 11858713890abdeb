/**
 * Invokes a registered non-HTTP function (timer, Event Grid, ...) the way the worker does: the
 * trigger value first, a fresh InvocationContext second, durable client inputs bound to the
 * binding data of a {@link DurableHttpApi} so `df.getClient(context)` works in any trigger.
 */
import type { Timer } from "@azure/functions";
import { DurableHttpApi, type DurableClientBindingData } from "./durableHttpApi";
import { createInvocationContext, silentDevhostLogger, type DevhostLogger } from "./invocation";
import { defaultRegistry, type FunctionRegistry, type TriggerType } from "./registry";

export interface InvokeFunctionOptions {
  /** Binding data for durableClient inputs, or the API that produces it. */
  durable?: DurableClientBindingData | DurableHttpApi;
  /** Refuse a function registered with another trigger type. */
  triggerType?: TriggerType;
  registry?: FunctionRegistry;
  logger?: DevhostLogger;
}

/**
 * Calls the registered function `name` with `triggerValue`.
 * @returns whatever the handler returns
 * @throws Error when no such function is registered; whatever the handler throws
 */
export async function invokeFunction(name: string, triggerValue: unknown, options: InvokeFunctionOptions = {}): Promise<unknown> {
  const fn = (options.registry ?? defaultRegistry).findFunction(name, options.triggerType);
  if (!fn) throw new Error(`No ${options.triggerType ?? ""} function named '${name}' is registered`);
  const context = createInvocationContext(fn, options.logger ?? silentDevhostLogger);
  const bindingData = options.durable instanceof DurableHttpApi ? options.durable.bindingData() : options.durable;
  for (const input of context.options.extraInputs) {
    if (input.type === "durableClient" || input.type === "orchestrationClient") {
      // The worker parses the binding data from JSON for every invocation: a fresh copy each time.
      context.extraInputs.set(input.name, bindingData === undefined ? undefined : structuredClone(bindingData));
    }
  }
  return fn.handler(triggerValue, context);
}

/** A timer trigger value as the host passes it (not past due). */
export function timerTriggerValue(now: Date): Timer {
  return { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: now.toISOString(), next: now.toISOString(), lastUpdated: now.toISOString() } };
}
