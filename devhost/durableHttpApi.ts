/**
 * The Durable extension's HTTP API over a {@link DurableEngine}, on loopback:
 * - the RPC base (`/durabletask/`) the REAL `DurableClient` calls when the binding data carries
 *   `rpcBaseUrl` (every client method: start, status, query, raiseEvent, terminate, suspend,
 *   resume, purge; the query in pages of `top` with `x-ms-continuation-token`, and `showInput`);
 * - the public webhooks (`/runtime/webhooks/durabletask/`) that `createCheckStatusResponse` links to.
 * Both bases share one handler, as in the extension (HttpApiHandler), with its status codes.
 *
 * Origins: `df.getClient` rewrites the origin of creationUrls/managementUrls to
 * http://localhost:7071 unless WEBSITE_HOSTNAME is set, and `createCheckStatusResponse` then
 * swaps in the origin of the incoming request. So the links in a 202 point at this server when
 * the starter's request URL has this server's origin ({@link invokeHttp} does that by default
 * when given this API). `rpcBaseUrl` is never rewritten.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { InstanceExistsError, type DurableEngine } from "./durableEngine";
import { isTerminal } from "./instanceState";
import { parseQuery, readBody, send, toPayload, type Answer, type DurableClientBindingData } from "./httpApiWire";

export type { DurableClientBindingData } from "./httpApiWire";

/** Options of {@link DurableHttpApi}. */
export interface DurableHttpApiOptions {
  /** @default 0 (a free port) */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** @default "TestHubName" */
  taskHubName?: string;
  /** @default "Storage" */
  connectionName?: string;
}

/** Placeholder instance id in managementUrls templates (the extension's BindingHelper). */
export const INSTANCE_ID_PLACEHOLDER = "INSTANCEID";
/** Path of the RPC base, relative to the origin. */
export const RPC_BASE_PATH = "/durabletask/";
/** Path of the public webhooks base. */
export const WEBHOOK_BASE_PATH = "/runtime/webhooks/durabletask/";

/** See the module comment. */
export class DurableHttpApi {
  readonly engine: DurableEngine;
  readonly taskHubName: string;
  readonly connectionName: string;
  readonly #options: DurableHttpApiOptions;
  #server: Server | undefined;
  #origin: string | undefined;

  constructor(engine: DurableEngine, options: DurableHttpApiOptions = {}) {
    this.engine = engine;
    this.#options = options;
    this.taskHubName = options.taskHubName ?? "TestHubName";
    this.connectionName = options.connectionName ?? "Storage";
  }

  /** Starts listening. @returns the origin, e.g. http://127.0.0.1:53127 */
  async start(): Promise<string> {
    if (this.#origin) return this.#origin;
    const server = createServer((req, res) => {
      void this.handle(req, res).then((handled) => {
        if (!handled) send(res, { status: 404, body: { Message: "Not found" } });
      });
    });
    const host = this.#options.host ?? "127.0.0.1";
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#options.port ?? 0, host, () => resolve());
    });
    this.#server = server;
    this.#origin = `http://${host}:${(server.address() as AddressInfo).port}`;
    this.#bindActivities();
    return this.#origin;
  }

  /**
   * Serves through another server's {@link handle} instead of {@link start} (the local dev host):
   * `origin` is that server's, used for `rpcBaseUrl` and as the default binding data origin.
   * @throws Error when this API already listens on its own server
   */
  mount(origin: string): void {
    if (this.#server) throw new Error("DurableHttpApi already listens on its own server");
    this.#origin = origin.replace(/\/+$/, "");
    this.#bindActivities();
  }

  /** Activities with a durable client input call this API, as triggers do (the extension binds it for any function). */
  #bindActivities(): void {
    this.engine.bindDurableClient(() => (this.#origin ? this.bindingData() : undefined));
  }

  /** Stops listening and drops open (keep-alive) connections. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#origin = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Origin of the running server. @throws Error before {@link start} */
  get origin(): string {
    if (!this.#origin) throw new Error("DurableHttpApi is not started");
    return this.#origin;
  }

  /** The `rpcBaseUrl` the binding data carries. */
  get rpcBaseUrl(): string {
    return `${this.origin}${RPC_BASE_PATH}`;
  }

  /**
   * The durable client binding data a starter receives in `context.extraInputs`.
   * @param origin - origin for creationUrls/managementUrls (default: this server's; see the module comment)
   */
  bindingData(origin: string = this.origin): DurableClientBindingData {
    const baseUrl = `${origin}${WEBHOOK_BASE_PATH.replace(/\/$/, "")}`;
    return {
      taskHubName: this.taskHubName,
      creationUrls: {
        createNewInstancePostUri: `${baseUrl}/orchestrators/{functionName}[/{instanceId}]?`,
        createAndWaitOnNewInstancePostUri: `${baseUrl}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&`,
      },
      managementUrls: this.#managementUrls(origin, INSTANCE_ID_PLACEHOLDER),
      baseUrl,
      requiredQueryStringParameters: "",
      rpcBaseUrl: this.rpcBaseUrl,
    };
  }

  /**
   * Serves one request if its path is under the RPC or webhook base (so a dev host can mount
   * this next to its own routes). @returns false when the path is not ours (nothing was sent)
   */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
    const base = [RPC_BASE_PATH, WEBHOOK_BASE_PATH].find((b) => url.pathname.startsWith(b));
    if (!base) return false;
    const segments = url.pathname.slice(base.length).split("/").filter(Boolean).map(decodeURIComponent);
    let answer: Answer;
    try {
      answer = await this.#route(req.method ?? "GET", segments, url, req);
    } catch (error) {
      answer = {
        status: 500,
        body: { Message: "Something went wrong while processing your request", ExceptionMessage: (error as Error).message },
      };
    }
    send(res, answer);
    return true;
  }

  #managementUrls(origin: string, instanceId: string): DurableClientBindingData["managementUrls"] {
    const prefix = `${origin}${WEBHOOK_BASE_PATH}instances/${encodeURIComponent(instanceId)}`;
    const query = `taskHub=${encodeURIComponent(this.taskHubName)}&connection=${encodeURIComponent(this.connectionName)}`;
    return {
      id: instanceId,
      statusQueryGetUri: `${prefix}?${query}`,
      sendEventPostUri: `${prefix}/raiseEvent/{eventName}?${query}`,
      terminatePostUri: `${prefix}/terminate?reason={text}&${query}`,
      rewindPostUri: `${prefix}/rewind?reason={text}&${query}`,
      purgeHistoryDeleteUri: `${prefix}?${query}`,
      restartPostUri: `${prefix}/restart?${query}`,
      suspendPostUri: `${prefix}/suspend?reason={text}&${query}`,
      resumePostUri: `${prefix}/resume?reason={text}&${query}`,
    };
  }

  async #route(method: string, segments: string[], url: URL, req: IncomingMessage): Promise<Answer> {
    const [controller, first, operation, extra] = segments;
    if (controller === "orchestrators" && first) {
      if (method !== "POST") return { status: 404 };
      return this.#start(first, operation, await readBody(req), `${url.protocol}//${url.host}`);
    }
    if (controller === "entities") return { status: 501, body: { Message: "Durable entities are not supported by devhost" } };
    if (controller !== "instances") return { status: 404 };
    if (!first) {
      if (method === "GET") return this.#list(url, req);
      if (method === "DELETE") return this.#purgeBy(url);
      return { status: 404 };
    }
    const status = this.engine.getStatus(first);
    if (!operation) {
      if (method === "GET") return this.#status(first, url);
      if (method !== "DELETE") return { status: 404 };
      const purged = this.engine.purge(first);
      if (purged === "notFound") return { status: 404 };
      if (purged === "notTerminal") {
        return {
          status: 412,
          body: `Only orchestrations in a terminal state can be purged, but the orchestration with instance ID ${first} has status ${status?.runtimeStatus}`,
        };
      }
      return { status: 200, body: { instancesDeleted: 1 } };
    }
    if (method !== "POST") return { status: 404 };
    if (!status) return { status: 404 };
    const reason = url.searchParams.get("reason") ?? "";
    const terminal = isTerminal(status.runtimeStatus);
    switch (operation.toLowerCase()) {
      case "terminate":
        return terminal ? { status: 410 } : (this.engine.terminate(first, reason), { status: 202 });
      case "suspend":
        return terminal ? { status: 410 } : (this.engine.suspend(first), { status: 202 });
      case "resume":
        return terminal ? { status: 410 } : (this.engine.resume(first), { status: 202 });
      case "raiseevent": {
        if (!extra) return { status: 404 };
        if (terminal) return { status: 410 };
        const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
        if (type !== "application/json") return { status: 400, body: { Message: "Only application/json request content is supported" } };
        const text = await readBody(req);
        let data: unknown;
        try {
          data = text === "" ? undefined : (JSON.parse(text) as unknown);
        } catch {
          return { status: 400, body: { Message: "Invalid JSON content" } };
        }
        this.engine.raiseEvent(first, extra, data);
        return { status: 202 };
      }
      case "rewind":
        return { status: 501, body: "The rewind operation is not supported by devhost." };
      default:
        return { status: 404 };
    }
  }

  async #start(name: string, instanceId: string | undefined, body: string, origin: string): Promise<Answer> {
    let input: unknown;
    try {
      input = body === "" ? undefined : (JSON.parse(body) as unknown);
    } catch {
      return { status: 400, body: { Message: "Invalid JSON content" } };
    }
    let id: string;
    try {
      id = await this.engine.startNew(name, { instanceId: instanceId || undefined, input });
    } catch (error) {
      const status = error instanceof InstanceExistsError ? 409 : 400;
      return { status, body: { Message: (error as Error).message } };
    }
    const links = this.#managementUrls(origin, id);
    const { rewindPostUri: _rewind, ...payload } = links;
    return { status: 202, body: payload, headers: { Location: links.statusQueryGetUri, "Retry-After": "10" } };
  }

  #status(instanceId: string, url: URL): Answer {
    const status = this.engine.getStatus(instanceId, { showHistory: url.searchParams.get("showHistory") === "true" });
    if (!status) return { status: 404 };
    const body = toPayload(status);
    if (url.searchParams.get("showInput") === "false") body.input = null;
    switch (status.runtimeStatus) {
      case "Pending":
      case "Running":
      case "Suspended":
        return { status: 202, body, headers: { Location: url.href, "Retry-After": "5" } };
      case "Failed":
        return { status: url.searchParams.get("returnInternalServerErrorOnFailure") === "true" ? 500 : 200, body };
      default:
        return { status: 200, body };
    }
  }

  /**
   * The instance query (HandleGetStatusRequestAsync without an id): the filters, `showInput`
   * (default true), and pages of `top` instances continued with the `x-ms-continuation-token`
   * header, which every answer carries (empty on the last page).
   */
  #list(url: URL, req: IncomingMessage): Answer {
    const query = parseQuery(url);
    // Statuses named but never reported by devhost (ContinuedAsNew, Canceled) match no instance.
    const named = (url.searchParams.get("runtimeStatus") ?? "").trim() !== "";
    const all = named && !query.runtimeStatus ? [] : this.engine.listInstances(query);
    const top = Number(url.searchParams.get("top"));
    const pageSize = Number.isInteger(top) && top > 0 ? top : all.length;
    const token = req.headers["x-ms-continuation-token"];
    const offset = typeof token === "string" && token !== "" ? Number(Buffer.from(token, "base64url").toString("utf8")) : 0;
    if (!Number.isInteger(offset) || offset < 0) return { status: 400, body: { Message: "Invalid continuation token" } };
    const end = offset + pageSize;
    const page = all.slice(offset, end).map(toPayload);
    if (url.searchParams.get("showInput") === "false") for (const item of page) item.input = null;
    const next = end < all.length ? Buffer.from(String(end), "utf8").toString("base64url") : "";
    return { status: 200, body: page, headers: { "x-ms-continuation-token": next } };
  }

  #purgeBy(url: URL): Answer {
    const query = parseQuery(url);
    if (!query.createdTimeFrom) return { status: 400, body: "Please provide value for 'createdTimeFrom' parameter." };
    const terminal = this.engine.listInstances(query).filter((s) => isTerminal(s.runtimeStatus));
    const deleted = terminal.filter((s) => this.engine.purge(s.instanceId) === "purged").length;
    return deleted === 0 ? { status: 404 } : { status: 200, body: { instancesDeleted: deleted } };
  }
}
