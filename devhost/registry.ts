/**
 * The functions an app registered through `@azure/functions` (and `durable-functions`), as
 * captured by the `@azure/functions-core` stand-in ({@link ./functionsCoreStub}). The engine and
 * the HTTP helpers look handlers up here instead of going through a Functions host.
 */

/** Trigger types the devhost knows; any other string is kept as registered. */
export type TriggerType =
  | "orchestrationTrigger"
  | "activityTrigger"
  | "entityTrigger"
  | "httpTrigger"
  | "timerTrigger"
  | "eventGridTrigger"
  | "eventHubTrigger"
  | (string & {});

/** One binding as `@azure/functions` describes it to the worker (RpcBindingInfo plus the options it spreads in). */
export interface BindingMetadata {
  type: string;
  direction?: string;
  name?: string;
  [option: string]: unknown;
}

/** What `@azure/functions` passes to `registerFunction` (its `toCoreFunctionMetadata`). */
export interface FunctionMetadata {
  name: string;
  bindings: Record<string, BindingMetadata>;
  retryOptions?: unknown;
}

/** The handler exactly as registered: for durable functions, the library's wrapper around user code. */
export type FunctionHandler = (...args: unknown[]) => unknown;

/** One captured registration. */
export interface RegisteredFunction {
  name: string;
  triggerType: TriggerType;
  /** Name of the trigger binding (the key in `bindings`). */
  triggerBindingName: string;
  /** The trigger binding with its options (e.g. `route`, `methods`, `schedule`). */
  trigger: BindingMetadata;
  bindings: Record<string, BindingMetadata>;
  metadata: FunctionMetadata;
  handler: FunctionHandler;
}

/** A lifecycle hook registered through `app.hook.*` (appStart, preInvocation, ...). */
export interface RegisteredHook {
  hookName: string;
  callback: (context: unknown) => unknown;
}

const functions = new Map<string, RegisteredFunction>();
const hooks: RegisteredHook[] = [];

// The worker treats every type ending in "Trigger" as the trigger (see @azure/functions isTrigger).
function isTriggerType(type: string): boolean {
  return type.toLowerCase().endsWith("trigger");
}

/**
 * Records a registration. Throws on a duplicate name, as the real worker does.
 * @throws Error when a function of that name was already registered
 */
export function recordRegistration(metadata: FunctionMetadata, handler: FunctionHandler): RegisteredFunction {
  if (functions.has(metadata.name)) {
    throw new Error(`A function with name "${metadata.name}" has already been registered.`);
  }
  const entry = Object.entries(metadata.bindings).find(([, b]) => isTriggerType(b.type));
  if (!entry) throw new Error(`Function "${metadata.name}" has no trigger binding.`);
  const [triggerBindingName, trigger] = entry;
  const registered: RegisteredFunction = {
    name: metadata.name,
    triggerType: trigger.type,
    triggerBindingName,
    trigger,
    bindings: metadata.bindings,
    metadata,
    handler,
  };
  functions.set(metadata.name, registered);
  return registered;
}

/** Records a hook registration. */
export function recordHook(hook: RegisteredHook): void {
  hooks.push(hook);
}

/** Every function registered so far, in registration order. */
export function getRegisteredFunctions(): RegisteredFunction[] {
  return [...functions.values()];
}

/** The registered function of that name, optionally only if it has the given trigger type. */
export function findFunction(name: string, triggerType?: TriggerType): RegisteredFunction | undefined {
  const fn = functions.get(name);
  if (fn && triggerType && fn.triggerType !== triggerType) return undefined;
  return fn;
}

/** Hooks registered so far (optionally of one kind). */
export function getRegisteredHooks(hookName?: string): RegisteredHook[] {
  return hooks.filter((h) => hookName === undefined || h.hookName === hookName);
}

/** Forgets every registration (for tests that load several apps in one module registry). */
export function clearRegistrations(): void {
  functions.clear();
  hooks.length = 0;
}

/** The read-only view handed to the engine and helpers. */
export interface FunctionRegistry {
  getRegisteredFunctions(): RegisteredFunction[];
  findFunction(name: string, triggerType?: TriggerType): RegisteredFunction | undefined;
}

/** The process-wide (per jest module registry) registry filled by the stub. */
export const defaultRegistry: FunctionRegistry = { getRegisteredFunctions, findFunction };
