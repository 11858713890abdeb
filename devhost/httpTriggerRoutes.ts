/**
 * Which registered httpTrigger function serves a request, as the host's router decides: the
 * route template (default: the function name) under the `api` prefix, and the declared methods
 * (none declared = every method).
 */
import { matchRoute } from "./invokeHttp";
import type { FunctionRegistry, RegisteredFunction } from "./registry";

/** The outcome of routing one request. */
export type HttpRouteMatch =
  | { kind: "function"; fn: RegisteredFunction; params: Record<string, string> }
  | { kind: "notFound" }
  | { kind: "methodNotAllowed"; allow: string[] };

/** The route template a function is served at, relative to the prefix. */
export function routeTemplateOf(fn: RegisteredFunction): string {
  return typeof fn.trigger.route === "string" ? fn.trigger.route : fn.name;
}

/** Declared methods, upper-case; empty when any method is accepted. */
export function methodsOf(fn: RegisteredFunction): string[] {
  return Array.isArray(fn.trigger.methods) ? (fn.trigger.methods as unknown[]).map((m) => String(m).toUpperCase()) : [];
}

// ASP.NET routing prefers the more specific template: more literal segments first.
function literalSegments(template: string): number {
  return template.split("/").filter((s) => s !== "" && !s.startsWith("{")).length;
}

/**
 * Finds the function for `method` and `relativePath` (the path after `/api/`).
 */
export function routeHttpRequest(registry: FunctionRegistry, method: string, relativePath: string): HttpRouteMatch {
  const candidates = registry
    .getRegisteredFunctions()
    .filter((fn) => fn.triggerType === "httpTrigger")
    .map((fn) => ({ fn, params: matchRoute(routeTemplateOf(fn), relativePath) }))
    .filter((c): c is { fn: RegisteredFunction; params: Record<string, string> } => c.params !== undefined)
    .sort((a, b) => literalSegments(routeTemplateOf(b.fn)) - literalSegments(routeTemplateOf(a.fn)));
  if (candidates.length === 0) return { kind: "notFound" };
  const upper = method.toUpperCase();
  const match = candidates.find((c) => {
    const methods = methodsOf(c.fn);
    return methods.length === 0 || methods.includes(upper);
  });
  if (match) return { kind: "function", fn: match.fn, params: match.params };
  return { kind: "methodNotAllowed", allow: [...new Set(candidates.flatMap((c) => methodsOf(c.fn)))] };
}
