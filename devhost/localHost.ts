/**
 * The local development host: what `func start` serves, on one loopback port, for the functions
 * an app registered (captured by the functions-core stub), without Core Tools:
 * - HTTP triggers at `/api/<route>` with their methods and route params (404 / 405 otherwise);
 * - the Durable HTTP API (`/runtime/webhooks/durabletask/...` and the RPC base the real
 *   DurableClient calls) over the same {@link DurableEngine} the tests use, on a wall clock;
 * - Event Grid deliveries at `/runtime/webhooks/EventGrid?functionName=` (eventGridEndpoint.ts);
 * - timer triggers on their NCRONTAB schedules (timerScheduler.ts);
 * - the admin API: `POST /admin/functions/{name}` runs a timer, Event Grid, Event Hubs (one event,
 *   delivered as a batch of one) or other non-durable, non-HTTP function (202), `GET /admin/functions`
 *   lists them, `GET /admin/host/status` answers
 *   once the host runs. Activities, orchestrators and entities are refused: the Functions host's
 *   admin API is for triggers, not for running an activity with an input of the caller's choosing.
 * Durable state lives in memory: a restart loses in-flight orchestrations.
 *
 * It listens on loopback, and while `npm start` points at a real tenant a web page in the
 * developer's browser must not be able to drive it, so every request passes a gate first:
 * - the Host header must name this host (its origin, or a loopback alias on the same port):
 *   421 otherwise, which defeats DNS rebinding; links are built from the configured origin only;
 * - a request carrying `Origin` must come from this host's own origin: 403 otherwise (curl and
 *   scripts send none; browsers send one on every cross-origin POST, so no CSRF);
 * - a POST, PUT or PATCH to the API, the admin API or the Durable HTTP API that declares a content
 *   type must declare JSON (`application/json` or `<type>/<subtype>+json`), and a request that
 *   declares none must have no body: 415 otherwise, so a web page's "simple" form or text/plain
 *   POST is never read as a request (Event Grid deliveries follow Event Grid's own rules);
 * - a path whose %-escapes do not decode is refused (400) rather than failing deeper;
 * - bodies are read chunk by chunk up to a limit (413 past it, chunked bodies included):
 *   {@link EVENT_GRID_MAX_BODY_BYTES} for Event Grid, {@link LocalHostOptions.maxBodyBytes} elsewhere.
 * One JSON line per request (method, path without query, status, duration): query strings can
 * hold SAS signatures or keys, so they are never logged.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { WallClock } from "./clock";
import { DurableEngine } from "./durableEngine";
import { DurableHttpApi } from "./durableHttpApi";
import { EVENT_GRID_MAX_BODY_BYTES, EVENT_GRID_WEBHOOK_PATH, parseEventGridDelivery } from "./eventGridEndpoint";
import { routeHttpRequest, methodsOf, routeTemplateOf } from "./httpTriggerRoutes";
import { consoleDevhostLogger, type DevhostLogger } from "./invocation";
import { invokeHttp } from "./invokeHttp";
import { loadApp } from "./loadApp";
import { flattenHeaders, isJsonContentType, readBody, tooLarge, writeAnswer, type HostAnswer } from "./localHostWire";
import { defaultRegistry, type FunctionRegistry, type RegisteredFunction } from "./registry";
import { TimerScheduler } from "./timerScheduler";
import { adminInvocation, invokeTrigger } from "./triggerInvoker";
import type { ScheduleTimeZone } from "../shared/ncrontab";

/** One request, as the request log prints it. */
export interface RequestLogEntry {
  method: string;
  /** Path only: never the query string. */
  path: string;
  status: number;
  durationMs: number;
  /** The function that served it, when one did. */
  function?: string;
}

/** Options of {@link LocalHost.start}. */
export interface LocalHostOptions {
  /** 0 = a free port. @default 7071 */
  port?: number;
  /** Address to listen on; loopback because nothing here checks function keys. @default "127.0.0.1" */
  hostname?: string;
  /** @default the registry filled by the functions-core stub */
  registry?: FunctionRegistry;
  /** App settings, for `%NAME%` in timer schedules. @default process.env */
  settings?: Record<string, string | undefined>;
  /** Fire timer triggers on their schedules. @default true */
  runTimers?: boolean;
  /** Time zone timer schedules are read in. @default "utc", as in Azure */
  timerTimeZone?: ScheduleTimeZone;
  /** @default "TestHubName" */
  taskHubName?: string;
  /** Where function logs go. @default consoleDevhostLogger */
  functionLogger?: DevhostLogger;
  /** Where request lines go. @default one JSON line on stdout */
  requestLogger?: (entry: RequestLogEntry) => void;
  /**
   * Largest request body read on every route but the Event Grid webhook; 413 past it. The app
   * refuses much less itself (64 KB for a collection request): this only bounds the host's memory.
   * @default DEFAULT_MAX_BODY_BYTES (1 MiB)
   */
  maxBodyBytes?: number;
}

/** Default of {@link LocalHostOptions.maxBodyBytes}. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const ADMIN_FUNCTIONS = /^\/admin\/functions(?:\/([^/]+))?\/?$/i;
const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"];
const WITH_BODY = new Set(["POST", "PUT", "PATCH"]);

/** See the module comment. Create with {@link LocalHost.start}. */
export class LocalHost {
  readonly engine: DurableEngine;
  readonly durable: DurableHttpApi;
  readonly timers: TimerScheduler;
  readonly registry: FunctionRegistry;
  readonly #server: Server;
  readonly #log: DevhostLogger;
  readonly #requestLog: (entry: RequestLogEntry) => void;
  readonly #background = new Set<Promise<void>>();
  readonly #origin: string;
  /** Host header values this host answers for, lower-case: its own and its loopback aliases. */
  readonly #ownHosts: Set<string>;
  readonly #maxBodyBytes: number;

  private constructor(
    server: Server,
    origin: string,
    engine: DurableEngine,
    durable: DurableHttpApi,
    timers: TimerScheduler,
    registry: FunctionRegistry,
    options: LocalHostOptions,
  ) {
    this.#server = server;
    this.#origin = origin;
    this.#ownHosts = ownHostsOf(origin);
    this.#maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.engine = engine;
    this.durable = durable;
    this.timers = timers;
    this.registry = registry;
    this.#log = options.functionLogger ?? consoleDevhostLogger;
    this.#requestLog = options.requestLogger ?? ((entry) => console.log(JSON.stringify(entry)));
  }

  /**
   * Starts the engine, the timers and the server.
   * @throws NcrontabError when a timer function's schedule is invalid (nothing is left running)
   * @throws Error when the port is taken
   */
  static async start(options: LocalHostOptions = {}): Promise<LocalHost> {
    const registry = options.registry ?? defaultRegistry;
    const logger = options.functionLogger ?? consoleDevhostLogger;
    const engine = new DurableEngine({ clock: new WallClock(), registry, logger });
    const durable = new DurableHttpApi(engine, { taskHubName: options.taskHubName });
    // Assigned once the server listens; the timer and request callbacks above need the binding first.
    // eslint-disable-next-line prefer-const
    let host: LocalHost | undefined;
    const timers = new TimerScheduler(registry.getRegisteredFunctions(), {
      settings: options.settings ?? process.env,
      timeZone: options.timerTimeZone,
      fire: (fn, timer) => host!.#invokeInBackground(fn, timer),
    });
    const server = createServer((req, res) => {
      if (host) void host.#serve(req, res);
      else res.writeHead(503).end();
    });
    const hostname = options.hostname ?? "127.0.0.1";
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 7071, hostname, () => resolve());
    });
    const origin = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${(server.address() as AddressInfo).port}`;
    durable.mount(origin);
    host = new LocalHost(server, origin, engine, durable, timers, registry, options);
    engine.start();
    if (options.runTimers !== false) timers.start();
    return host;
  }

  /** e.g. http://127.0.0.1:7071 */
  get origin(): string {
    return this.#origin;
  }

  /** Base of the HTTP triggers, e.g. http://127.0.0.1:7071/api */
  get apiBaseUrl(): string {
    return `${this.#origin}/api`;
  }

  /** Stops timers and the server, then waits for invocations and durable work in flight. */
  async stop(): Promise<void> {
    await this.timers.stop();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await Promise.allSettled([...this.#background]);
    await this.engine.stop();
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? "/", this.#origin);
    const method = (req.method ?? "GET").toUpperCase();
    let functionName: string | undefined;
    res.once("finish", () => {
      const entry: RequestLogEntry = {
        method,
        path: url.pathname,
        status: res.statusCode,
        durationMs: Math.round(performance.now() - started),
      };
      if (functionName) entry.function = functionName;
      this.#requestLog(entry);
    });
    try {
      const eventGrid = isEventGridPath(url.pathname);
      const refused = this.#gate(req, method, url.pathname, eventGrid);
      if (refused) return writeAnswer(res, { ...refused, abandonsBody: hasBody(req) });
      const maxBytes = eventGrid ? EVENT_GRID_MAX_BODY_BYTES : this.#maxBodyBytes;
      const read = await readBody(req, maxBytes);
      if (!read.ok) return writeAnswer(res, tooLarge(maxBytes));
      if (!eventGrid && read.body.length > 0 && req.headers["content-type"] === undefined) return writeAnswer(res, unsupportedMediaType());
      if (await this.durable.handle(this.#forDurableApi(req, read.body), res)) return;
      const answer = await this.#route(req, method, url, read.body);
      functionName = answer.functionName;
      writeAnswer(res, answer);
    } catch (error) {
      this.#log({ level: "error", functionName: "host", message: `request failed: ${(error as Error).message}` });
      if (!res.headersSent) writeAnswer(res, { status: 500, body: { error: "InternalServerError" } });
      else res.end();
    }
  }

  /** The checks every request passes before its body is read (see the module comment); undefined when it passes. */
  #gate(req: IncomingMessage, method: string, path: string, eventGrid: boolean): HostAnswer | undefined {
    const host = (req.headers.host ?? "").toLowerCase();
    if (!this.#ownHosts.has(host)) {
      const message = `This host answers for ${this.#origin} (or localhost on its port) only`;
      return { status: 421, body: { error: "MisdirectedRequest", message } };
    }
    const origin = req.headers.origin?.toLowerCase();
    if (origin !== undefined && !(origin.startsWith("http://") && this.#ownHosts.has(origin.slice("http://".length)))) {
      const message = "Requests from another origin (a web page) are refused: call the local host from curl or a script";
      return { status: 403, body: { error: "Forbidden", message } };
    }
    const type = req.headers["content-type"];
    if (!eventGrid && WITH_BODY.has(method) && type !== undefined && !isJsonContentType(type)) return unsupportedMediaType();
    if (!decodes(path)) return { status: 400, body: { error: "BadRequest", message: "The path has a malformed %-escape" } };
    return undefined;
  }

  /**
   * The request as the Durable HTTP API reads it: the body already read within the limit, and the
   * Host header set to this host's own, because that API builds its links from the Host header.
   */
  #forDurableApi(req: IncomingMessage, body: Buffer): IncomingMessage {
    const headers = { ...req.headers, host: new URL(this.#origin).host };
    const replay = Readable.from(body.length > 0 ? [body] : []);
    return Object.assign(replay, { method: req.method, url: req.url, headers }) as unknown as IncomingMessage;
  }

  async #route(req: IncomingMessage, method: string, url: URL, body: Buffer): Promise<HostAnswer> {
    const path = url.pathname;
    const lower = path.toLowerCase();
    if (lower === "/api" || lower.startsWith("/api/")) return this.#http(req, method, url, body);
    if (isEventGridPath(path)) return this.#eventGrid(req, method, url, body);
    const admin = ADMIN_FUNCTIONS.exec(path);
    if (admin) return this.#admin(method, admin[1] === undefined ? undefined : decodeURIComponent(admin[1]), body);
    if (lower === "/admin/host/status" && method === "GET") return { status: 200, body: { state: "Running", version: "devhost" } };
    return { status: 404, body: { error: "NotFound", message: `Nothing is served at ${method} ${path}` } };
  }

  async #http(req: IncomingMessage, method: string, url: URL, body: Buffer): Promise<HostAnswer> {
    const relative = url.pathname.replace(/^\/api\/?/i, "");
    const match = routeHttpRequest(this.registry, method, relative);
    if (match.kind === "notFound")
      return { status: 404, body: { error: "NotFound", message: `No HTTP function has the route /api/${relative}` } };
    if (match.kind === "methodNotAllowed") {
      return {
        status: 405,
        headers: { Allow: match.allow.join(", ") },
        body: { error: "MethodNotAllowed", message: `${method} is not allowed here; use ${match.allow.join(" or ")}` },
      };
    }
    try {
      // Links a starter returns name the configured origin, whatever Host the caller sent.
      const res = await invokeHttp(match.fn.name, {
        registry: this.registry,
        method,
        url: new URL(`${url.pathname}${url.search}`, this.#origin).href,
        headers: flattenHeaders(req),
        body: body.length > 0 ? new Uint8Array(body) : undefined,
        params: match.params,
        durable: this.durable.bindingData(this.#origin),
        logger: this.#log,
      });
      return { status: res.status, headers: res.headers, body: res.body, functionName: match.fn.name };
    } catch (error) {
      this.#log({
        level: "error",
        functionName: match.fn.name,
        message: `Executed with an error: ${(error as Error).stack ?? String(error)}`,
      });
      return { status: 500, functionName: match.fn.name };
    }
  }

  async #eventGrid(req: IncomingMessage, method: string, url: URL, body: Buffer): Promise<HostAnswer> {
    const name = url.searchParams.get("functionName") ?? "";
    const fn = this.registry.findFunction(name, "eventGridTrigger");
    if (!fn) return { status: 404, body: `cannot find function: '${name.slice(0, 100)}'` };
    const delivery = parseEventGridDelivery({ method, headers: flattenHeaders(req), body: body.toString("utf8") });
    if (delivery.kind === "answer") return { ...delivery, body: delivery.body as object | undefined, functionName: fn.name };
    const results = await Promise.allSettled(delivery.events.map((event) => this.#invoke(fn, event)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    // As the extension: 500 when any event failed, so Event Grid redelivers the batch.
    if (failed) return { status: 500, body: (failed.reason as Error)?.message ?? String(failed.reason), functionName: fn.name };
    return { status: 202, functionName: fn.name };
  }

  async #admin(method: string, name: string | undefined, body: Buffer): Promise<HostAnswer> {
    if (name === undefined) {
      if (method !== "GET") return { status: 405, headers: { Allow: "GET" } };
      return { status: 200, body: this.registry.getRegisteredFunctions().map(describe) };
    }
    const fn = this.registry.findFunction(name);
    if (!fn) return { status: 404, body: { error: "NotFound", message: `No function named '${name.slice(0, 100)}'` } };
    if (method !== "POST") return { status: 405, headers: { Allow: "POST" } };
    const text = body.toString("utf8");
    let input: string | undefined;
    if (text.trim() !== "") {
      try {
        const parsed = JSON.parse(text) as { input?: unknown };
        input = parsed.input === undefined || parsed.input === null ? undefined : String(parsed.input);
      } catch {
        return { status: 400, body: { error: "InvalidRequest", message: 'The body must be JSON: { "input": "..." }' } };
      }
    }
    const invocation = adminInvocation(fn, input, () => this.timers.timerFor(fn.name));
    if (!invocation.ok) return { status: invocation.status, body: { error: "InvalidRequest", message: invocation.message } };
    // Like the host: accepted now, run in the background, failures in the function's log.
    void this.#invokeInBackground(fn, invocation.triggerValue);
    return { status: 202, functionName: fn.name };
  }

  async #invoke(fn: RegisteredFunction, triggerValue: unknown): Promise<unknown> {
    try {
      return await invokeTrigger(fn, triggerValue, { durable: this.durable.bindingData(this.#origin), logger: this.#log });
    } catch (error) {
      this.#log({ level: "error", functionName: fn.name, message: `Executed with an error: ${(error as Error).stack ?? String(error)}` });
      throw error;
    }
  }

  #invokeInBackground(fn: RegisteredFunction, triggerValue: unknown): Promise<void> {
    const run = this.#invoke(fn, triggerValue).then(
      () => undefined,
      () => undefined,
    );
    this.#background.add(run);
    void run.finally(() => this.#background.delete(run));
    return run;
  }
}

/**
 * Puts `settings` into `process.env` (as the host does for app settings) and loads the app the
 * way the worker does: package.json `main`, with the functions-core stub.
 * @returns the registry now holding the app's functions
 * @throws whatever the app throws at load (e.g. a ConfigError naming bad settings)
 */
export function loadAppWithSettings(settings: Record<string, string>, entry?: string): FunctionRegistry {
  Object.assign(process.env, settings);
  return loadApp(entry);
}

/** Host header values a server at `origin` answers for: its own, and the loopback aliases when it listens on loopback. */
function ownHostsOf(origin: string): Set<string> {
  const { host, hostname, port } = new URL(origin);
  const hosts = new Set([host.toLowerCase()]);
  if (LOOPBACK_NAMES.includes(hostname.toLowerCase())) for (const name of LOOPBACK_NAMES) hosts.add(port ? `${name}:${port}` : name);
  return hosts;
}

function isEventGridPath(path: string): boolean {
  const lower = path.toLowerCase();
  const webhook = EVENT_GRID_WEBHOOK_PATH.toLowerCase();
  return lower === webhook || lower === `${webhook}/`;
}

function decodes(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** True when the request announces a body (a length above zero, or chunked). */
function hasBody(req: IncomingMessage): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

function unsupportedMediaType(): HostAnswer {
  return { status: 415, body: { error: "UnsupportedMediaType", message: "Send the body as JSON, with Content-Type: application/json" } };
}

function describe(fn: RegisteredFunction): Record<string, unknown> {
  const d: Record<string, unknown> = { name: fn.name, trigger: fn.triggerType };
  if (fn.triggerType === "httpTrigger") Object.assign(d, { route: `/api/${routeTemplateOf(fn)}`, methods: methodsOf(fn) });
  if (fn.triggerType === "timerTrigger") d.schedule = fn.trigger.schedule;
  if (fn.triggerType === "eventGridTrigger") d.webhook = `${EVENT_GRID_WEBHOOK_PATH}?functionName=${fn.name}`;
  // Nothing reads the hub locally: batches arrive through the admin API (`{"input": "<one event's body>"}`).
  if (fn.triggerType === "eventHubTrigger")
    Object.assign(d, {
      eventHubName: fn.trigger.eventHubName,
      cardinality: fn.trigger.cardinality ?? "many",
      admin: `/admin/functions/${fn.name}`,
    });
  return d;
}
