/**
 * Invokes a registered non-HTTP function (timer, Event Grid, activity...) the way the worker does:
 * the trigger value first, a fresh InvocationContext second, with durable client inputs bound to
 * the local host's Durable HTTP API so `df.getClient(context)` works in any trigger.
 */
import type { Timer } from "@azure/functions";
import type { DurableClientBindingData } from "./durableHttpApi";
import { tryJsonParse } from "./history";
import { createInvocationContext, type DevhostLogger } from "./invocation";
import type { RegisteredFunction } from "./registry";

/** Trigger types the admin API refuses: the host starts these itself (orchestrations through a client). */
const NOT_INVOCABLE = new Set(["httpTrigger", "orchestrationTrigger", "entityTrigger"]);

/**
 * Calls `fn` with `triggerValue`. @returns whatever the handler returns
 * @throws whatever the handler throws
 */
export async function invokeTrigger(fn: RegisteredFunction, triggerValue: unknown, options: { bindingData: DurableClientBindingData; logger: DevhostLogger }): Promise<unknown> {
  const context = createInvocationContext(fn, options.logger);
  for (const input of context.options.extraInputs) {
    if (input.type === "durableClient" || input.type === "orchestrationClient") {
      // The worker parses the binding data from JSON for every invocation: a fresh copy each time.
      context.extraInputs.set(input.name, structuredClone(options.bindingData));
    }
  }
  return fn.handler(triggerValue, context);
}

/** The timer object a timerTrigger handler receives (`@azure/functions` Timer). */
export function timerInfo(status: { last?: Date; next?: Date; now: Date }): Timer {
  const iso = (d: Date | undefined) => (d ?? new Date(0)).toISOString();
  return {
    // The local host keeps no schedule monitor across restarts, so an occurrence is never past due.
    isPastDue: false,
    schedule: { adjustForDST: true },
    scheduleStatus: { last: iso(status.last), next: iso(status.next), lastUpdated: status.now.toISOString() },
  };
}

/** The admin API's answer before invoking: the trigger value, or why not. */
export type AdminInvocation = { ok: true; triggerValue: unknown } | { ok: false; status: number; message: string };

/**
 * Turns the admin API's `{ "input": "..." }` into the trigger value for `fn`, as the host does:
 * a timer gets a timer object (the input is ignored), an Event Grid trigger the parsed event,
 * anything else the input try-parsed as JSON.
 * @param timer - the timer object to pass when `fn` is a timer trigger
 */
export function adminInvocation(fn: RegisteredFunction, input: string | undefined, timer: () => Timer): AdminInvocation {
  if (NOT_INVOCABLE.has(fn.triggerType)) {
    const how = fn.triggerType === "httpTrigger" ? "call it at its /api route" : "start it through a durable client";
    return { ok: false, status: 400, message: `'${fn.name}' is a ${fn.triggerType} function: ${how}` };
  }
  if (fn.triggerType === "timerTrigger") return { ok: true, triggerValue: timer() };
  if (fn.triggerType === "eventGridTrigger") {
    try {
      return { ok: true, triggerValue: JSON.parse(input ?? "") as unknown };
    } catch {
      return { ok: false, status: 400, message: `The input of an Event Grid function must be one event as JSON` };
    }
  }
  return { ok: true, triggerValue: input === undefined ? undefined : tryJsonParse(input) };
}
