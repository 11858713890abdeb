/**
 * Durable client inputs (`df.input.durableClient()`) as the worker fills them: the extension's
 * binding data, parsed from JSON for every invocation, under the input's name. Shared by triggers
 * (triggerInvoker.ts) and activities (activityInvoker.ts): the extension binds a durable client
 * input on any function kind.
 */
import type { InvocationContext } from "@azure/functions";
import type { DurableClientBindingData } from "./httpApiWire";

/** Sets every durable client input of `context` to a fresh copy of `bindingData` (undefined without it). */
export function bindDurableClientInputs(context: InvocationContext, bindingData: DurableClientBindingData | undefined): void {
  for (const input of context.options.extraInputs) {
    if (input.type === "durableClient" || input.type === "orchestrationClient") {
      context.extraInputs.set(input.name, bindingData === undefined ? undefined : structuredClone(bindingData));
    }
  }
}
