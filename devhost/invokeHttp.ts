/**
 * Invokes a registered httpTrigger handler the way the host does: an `HttpRequest` from
 * `@azure/functions`, route params matched from the registered route, an InvocationContext whose
 * extraInputs hold the durable client binding data under the registered input's name.
 */
import { HttpRequest } from "@azure/functions";
import type { DurableClientBindingData } from "./durableHttpApi";
import { DurableHttpApi } from "./durableHttpApi";
import { createInvocationContext, silentDevhostLogger, type DevhostLogger } from "./invocation";
import { defaultRegistry, type FunctionRegistry, type RegisteredFunction } from "./registry";

/** Options of {@link invokeHttp}. */
export interface InvokeHttpOptions {
  /** @default the first registered method, else GET */
  method?: string;
  /** Full request URL; overrides origin/path/query. */
  url?: string;
  /** @default the durable API's origin when `durable` is a started DurableHttpApi, else http://localhost:7071 */
  origin?: string;
  /** Path with its route values filled in, e.g. `/api/collect/abc`. @default `/api/<route>` */
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** A string or bytes are sent as is; anything else as JSON (with a JSON content type). */
  body?: unknown;
  /** Route params; @default matched from the registered route template */
  params?: Record<string, string>;
  /** Binding data for durableClient inputs (or the API that produces it). */
  durable?: DurableClientBindingData | DurableHttpApi;
  /** Values of other extra inputs, by binding name. */
  extraInputs?: Record<string, unknown>;
  registry?: FunctionRegistry;
  logger?: DevhostLogger;
}

/** A handler's answer, normalized from HttpResponse or HttpResponseInit. */
export interface NormalizedHttpResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string | undefined;
  /** The body parsed as JSON when it is JSON, else undefined. */
  jsonBody: unknown;
}

const ROUTE_PREFIX = "api";

/**
 * Matches a Functions route template (`items/{id}`, `{name?}`, `{id:int}`, `{*rest}`) against a
 * path relative to the route prefix. @returns the params, or undefined when it does not match
 */
export function matchRoute(template: string, path: string): Record<string, string> | undefined {
  const names: string[] = [];
  const pattern = template
    .replace(/^\/+|\/+$/g, "")
    .split("/")
    .map((segment) => {
      const m = /^\{(\*?)([A-Za-z0-9_]+)(?::[^?}]+)?(\?)?\}$/.exec(segment);
      if (!m) return `/${segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`;
      names.push(m[2]!);
      const capture = m[1] ? "(.*)" : "([^/]+)";
      return m[3] || m[1] ? `(?:/${capture})?` : `/${capture}`;
    })
    .join("");
  const match = new RegExp(`^${pattern}/?$`, "i").exec(`/${path.replace(/^\/+/, "")}`);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  names.forEach((name, i) => {
    const v = match[i + 1];
    if (v !== undefined) params[name] = decodeURIComponent(v);
  });
  return params;
}

function routeOf(fn: RegisteredFunction): string {
  return typeof fn.trigger.route === "string" ? fn.trigger.route : fn.name;
}

function requestBody(body: unknown, headers: Record<string, string>): { string?: string; bytes?: Uint8Array } | undefined {
  if (body === undefined) return undefined;
  if (typeof body === "string") return { string: body };
  if (body instanceof Uint8Array) return { bytes: body };
  if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
  return { string: JSON.stringify(body) };
}

function isHeadersLike(value: unknown): value is { forEach(cb: (v: string, k: string) => void): void } {
  return typeof value === "object" && value !== null && typeof (value as { forEach?: unknown }).forEach === "function";
}

async function normalize(result: unknown): Promise<NormalizedHttpResponse> {
  const headers: Record<string, string> = {};
  let status = 200;
  let body: string | undefined;
  if (result && typeof result === "object") {
    const r = result as { status?: unknown; headers?: unknown; body?: unknown; jsonBody?: unknown; text?: unknown };
    if (typeof r.status === "number") status = r.status;
    if (isHeadersLike(r.headers)) r.headers.forEach((v, k) => (headers[k.toLowerCase()] = v));
    else if (r.headers && typeof r.headers === "object") {
      for (const [k, v] of Object.entries(r.headers as Record<string, unknown>)) headers[k.toLowerCase()] = String(v);
    }
    if (typeof r.text === "function") {
      // An HttpResponse: its body is a stream that the class serializes for us.
      body = await (r.text as () => Promise<string>).call(result);
    } else if (r.jsonBody !== undefined) {
      body = JSON.stringify(r.jsonBody);
      headers["content-type"] ??= "application/json";
    } else if (typeof r.body === "string") {
      body = r.body;
    } else if (r.body instanceof Uint8Array) {
      body = Buffer.from(r.body).toString("utf8");
    } else if (r.body !== undefined && r.body !== null) {
      body = JSON.stringify(r.body);
    }
  }
  let jsonBody: unknown;
  if (body !== undefined && body !== "") {
    try {
      jsonBody = JSON.parse(body) as unknown;
    } catch {
      jsonBody = undefined;
    }
  }
  return { status, headers, body: body === "" ? undefined : body, jsonBody };
}

/**
 * Calls the registered HTTP function `functionName` and returns its normalized answer.
 * @throws Error when no httpTrigger function of that name is registered
 */
export async function invokeHttp(functionName: string, options: InvokeHttpOptions = {}): Promise<NormalizedHttpResponse> {
  const registry = options.registry ?? defaultRegistry;
  const fn = registry.findFunction(functionName, "httpTrigger");
  if (!fn) throw new Error(`No httpTrigger function named '${functionName}' is registered`);
  const methods = Array.isArray(fn.trigger.methods) ? (fn.trigger.methods as unknown[]).map(String) : [];
  const method = (options.method ?? methods[0] ?? "GET").toUpperCase();

  const durable = options.durable instanceof DurableHttpApi ? options.durable : undefined;
  const origin = options.origin ?? (durable ? durable.origin : "http://localhost:7071");
  const url = new URL(options.url ?? `${origin}${options.path ?? `/${ROUTE_PREFIX}/${routeOf(fn)}`}`);
  for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
  const relative = url.pathname.replace(new RegExp(`^/${ROUTE_PREFIX}/?`), "");
  const params = options.params ?? matchRoute(routeOf(fn), relative) ?? {};

  const headers: Record<string, string> = { ...options.headers };
  const request = new HttpRequest({ method, url: url.href, headers, body: requestBody(options.body, headers), params });

  const context = createInvocationContext(fn, options.logger ?? silentDevhostLogger);
  const bindingData = durable ? durable.bindingData() : (options.durable as DurableClientBindingData | undefined);
  for (const input of context.options.extraInputs) {
    if (input.type === "durableClient" || input.type === "orchestrationClient") {
      // The worker hands binding data over as a JSON string and parses it: give a fresh copy.
      context.extraInputs.set(input.name, bindingData === undefined ? undefined : structuredClone(bindingData));
    } else if (options.extraInputs && input.name in options.extraInputs) {
      context.extraInputs.set(input.name, options.extraInputs[input.name]);
    }
  }
  return normalize(await fn.handler(request, context));
}
