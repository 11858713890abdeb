/**
 * Runs one activity the way the worker and the Durable extension would: the input crosses the
 * host as JSON (string inputs are un-stringified by the worker's try-JSON-parse), the result is
 * stored as JSON text, and a thrown error becomes a TaskFailed Reason/Details pair. A durable
 * client input (`extraInputs: [df.input.durableClient()]`) gets the engine's binding data, as the
 * extension binds it for any function kind, triggers and activities alike.
 */
import { bindDurableClientInputs } from "./durableClientInputs";
import { tryJsonParse, jsonRoundTrip, toJsonText } from "./history";
import type { DurableClientBindingData } from "./httpApiWire";
import { createInvocationContext, type DevhostLogger } from "./invocation";
import type { FunctionRegistry } from "./registry";

/** What an activity run produced, ready to become TaskCompleted or TaskFailed. */
export type ActivityOutcome = { ok: true; resultJson: string } | { ok: false; reason: string; details: string };

/**
 * The value the activity handler receives for an action's `input`.
 * durable-functions JSON-stringifies string inputs; the worker try-JSON-parses string data.
 */
export function activityInputFromAction(input: unknown): unknown {
  if (typeof input === "string") return tryJsonParse(input);
  return jsonRoundTrip(input);
}

function failure(name: string, error: unknown): ActivityOutcome {
  const message = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error ? error.stack : undefined;
  // Shape of the extension's TaskFailed: Reason names the activity, Details carries the exception.
  return {
    ok: false,
    reason: `Activity function '${name}' failed: ${message}`,
    details: JSON.stringify({ Message: message, StackTrace: stack ?? null }),
  };
}

/**
 * Invokes the registered activity `name` with an action's raw input.
 * Never throws: a missing function or a thrown error is a failed outcome.
 * @param durable - binding data for the activity's durable client inputs; without it they are undefined
 */
export async function runActivity(
  registry: FunctionRegistry,
  name: string,
  actionInput: unknown,
  logger: DevhostLogger,
  instanceId: string,
  durable?: DurableClientBindingData,
): Promise<ActivityOutcome> {
  const fn = registry.findFunction(name, "activityTrigger");
  if (!fn) {
    return failure(name, new Error(`The function '${name}' doesn't exist, is disabled, or is not an activity function.`));
  }
  try {
    const context = createInvocationContext(fn, logger, { instanceId });
    bindDurableClientInputs(context, durable);
    const result = await fn.handler(activityInputFromAction(actionInput), context);
    return { ok: true, resultJson: toJsonText(result) };
  } catch (error) {
    return failure(name, error);
  }
}
