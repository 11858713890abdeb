/**
 * Invokes a registered non-HTTP function (timer, Event Grid, activity...) the way the worker does:
 * the trigger value first, a fresh InvocationContext second, with durable client inputs bound to
 * the binding data of a {@link DurableHttpApi} (the local host's, or a test's) so
 * `df.getClient(context)` works in any trigger. Also what the admin API and the timer scheduler
 * pass as trigger values.
 */
import type { Timer } from "@azure/functions";
import { DurableHttpApi, type DurableClientBindingData } from "./durableHttpApi";
import { bindDurableClientInputs } from "./durableClientInputs";
import { tryJsonParse } from "./history";
import { createInvocationContext, silentDevhostLogger, type DevhostLogger } from "./invocation";
import { defaultRegistry, type FunctionRegistry, type RegisteredFunction, type TriggerType } from "./registry";

/**
 * Trigger types the admin API refuses: HTTP functions have their route, and the durable ones are
 * the runtime's to call (an activity run with an input of the caller's choosing would reach MDE
 * with no request validation at all).
 */
const NOT_INVOCABLE = new Set(["httpTrigger", "orchestrationTrigger", "entityTrigger", "activityTrigger"]);

/** Options of {@link invokeTrigger}. */
export interface InvokeTriggerOptions {
  /** Binding data for durableClient inputs, or the API that produces it (for its own origin). Without it those inputs are undefined. */
  durable?: DurableClientBindingData | DurableHttpApi;
  /** Where the function's logs go. @default silentDevhostLogger */
  logger?: DevhostLogger;
}

/** Options of {@link invokeFunction}. */
export interface InvokeFunctionOptions extends InvokeTriggerOptions {
  /** Refuse a function registered with another trigger type. */
  triggerType?: TriggerType;
  /** @default the registry filled by the functions-core stub */
  registry?: FunctionRegistry;
}

/**
 * Calls `fn` with `triggerValue`.
 * @returns whatever the handler returns
 * @throws whatever the handler throws
 */
export async function invokeTrigger(fn: RegisteredFunction, triggerValue: unknown, options: InvokeTriggerOptions = {}): Promise<unknown> {
  const context = createInvocationContext(fn, options.logger ?? silentDevhostLogger);
  bindDurableClientInputs(context, options.durable instanceof DurableHttpApi ? options.durable.bindingData() : options.durable);
  return fn.handler(triggerValue, context);
}

/**
 * Calls the registered function `name` with `triggerValue` (see {@link invokeTrigger}).
 * @returns whatever the handler returns
 * @throws Error when no such function (of `options.triggerType`) is registered; whatever the handler throws
 */
export async function invokeFunction(name: string, triggerValue: unknown, options: InvokeFunctionOptions = {}): Promise<unknown> {
  const fn = (options.registry ?? defaultRegistry).findFunction(name, options.triggerType);
  if (!fn) throw new Error(`No ${options.triggerType ?? ""} function named '${name}' is registered`);
  return invokeTrigger(fn, triggerValue, options);
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
 * a timer gets a timer object (the input is ignored), an Event Grid trigger the parsed event, an
 * Event Hubs trigger one event whose body is the input (the extension's string conversion makes a
 * batch of one), delivered as the worker does: with cardinality `many` an array of one message,
 * try-parsed as JSON like every string of a collection; anything else the input try-parsed as JSON.
 * @param timer - the timer object to pass when `fn` is a timer trigger
 */
export function adminInvocation(fn: RegisteredFunction, input: string | undefined, timer: () => Timer): AdminInvocation {
  if (NOT_INVOCABLE.has(fn.triggerType)) {
    const how =
      fn.triggerType === "httpTrigger"
        ? "call it at its /api route"
        : fn.triggerType === "activityTrigger"
          ? "activities run only when an orchestration calls them"
          : "start it through a durable client";
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
  if (fn.triggerType === "eventHubTrigger") {
    if (input === undefined) return { ok: false, status: 400, message: "The input of an Event Hubs function is the body of one event" };
    const message = tryJsonParse(input);
    return { ok: true, triggerValue: isCardinalityMany(fn) ? [message] : message };
  }
  return { ok: true, triggerValue: input === undefined ? undefined : tryJsonParse(input) };
}

/** `cardinality` defaults to many for Event Hubs triggers (the binding's documented default). */
function isCardinalityMany(fn: RegisteredFunction): boolean {
  return String(fn.trigger.cardinality ?? "many").toLowerCase() === "many";
}
