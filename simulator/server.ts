import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { silentLogger, type Logger } from "../shared/log";
import { errorEnvelope, SimulatorHttpError } from "./errors";
import { DEFAULT_LIMITS, DEFAULT_LINK_TTL_IN_MS, DEFAULT_QUEUE_WINDOW_IN_MS, type SimulatorLimits } from "./limits";
import { authorize, parseJson, readBody } from "./httpIo";
import { LiveResponseApi, type ApiAnswer, type RequestContext } from "./liveResponseApi";
import { routeRequest } from "./routes";
import { ResultStore, type ResultFigures } from "./resultStore";
import type { MachineScenario, ResolvedMachineScenario } from "./scenarios";
import { StatsRecorder, type SimulatorStats } from "./stats";
import { applyLatency, FaultInjector, faultStatKind, injectedError, NO_FAULT, type FaultOptions, type FaultPlan } from "./faults";
import { DownloadProxy } from "./downloadProxy";
import { LIBRARY_MAX_FILE_BYTES, readRawBody, type LibrarySeed } from "./libraryFiles";
import { defaultLibrary } from "./defaultLibrary";

/** Room for a multipart body's boundaries and form fields beside a 20 MB file. */
const MULTIPART_OVERHEAD_BYTES = 256 * 1024;
import { needsDownloadProxy } from "./scenarioFaults";

/** Options of {@link createMdeSimulator}. */
export interface MdeSimulatorOptions {
  /** The simulated MDE result store: a connection string to Azurite's `mdesource` account (./azurite.ts). */
  resultStore: { connectionString: string; containerName?: string };
  /** Every state transition and rate-limit window is computed from this clock at request time. @default () => new Date() */
  clock?: () => Date;
  /** Loopback port; 0 picks a free one. @default 0 */
  port?: number;
  /** Lifetime of a download link, measured on the real wall clock (Azurite checks SAS expiry against it). @default 30 minutes */
  linkTtlInMs?: number;
  /** Overrides of the MDE limits (limits.ts lists defaults and sources). */
  limits?: Partial<SimulatorLimits>;
  /** How long a session for an offline device stays queued before `TimeOut`. @default 3 days */
  queueWindowInMs?: number;
  /** Devices present from the start (their `onlineAfterMs` counts from creation). */
  machines?: MachineScenario[];
  /** Alerts `GET /api/alerts/{id}` answers from the start (MDE alert entities, each with an `id`). */
  alerts?: Record<string, unknown>[];
  /** The only bearer token accepted; by default any non-empty one. */
  acceptedToken?: string;
  /** `requestor` and `cancellationRequestor` of actions (with an application token MDE shows the app). @default "mde-simulator-app" */
  requestor?: string;
  /** Request log (method, endpoint, status only: never tokens or links). @default silent */
  logger?: Logger;
  /**
   * Request faults and latency on the MDE endpoints, seeded (faults.ts); a machine's `faults` override
   * them field by field. @default none
   */
  faults?: FaultOptions;
  /**
   * The live response library at start (`GET`/`POST /api/libraryfiles`).
   * @default the repository's library/ files plus stand-ins for the script names tests use (defaultLibrary.ts)
   */
  library?: LibrarySeed[];
  /** Serve every download link through the simulator's download proxy (downloadProxy.ts), not straight from Azurite. @default false */
  proxyDownloads?: boolean;
}

/** A running (or startable) MDE live response simulator. */
export interface MdeSimulator {
  /** Listens on 127.0.0.1; `baseUrl` has no `/api` (like `https://api.security.microsoft.com`). */
  start(): Promise<{ baseUrl: string }>;
  stop(): Promise<void>;
  /** The base URL once started. @throws Error before `start()` */
  readonly baseUrl: string;
  /** @throws Error for an invalid scenario or a duplicate machine id */
  addMachine(scenario: MachineScenario): ResolvedMachineScenario;
  machines(): ResolvedMachineScenario[];
  /** Adds an alert `GET /api/alerts/{id}` answers (an MDE alert entity). @throws Error for one without an id, or a duplicate id */
  addAlert(alert: Record<string, unknown>): Record<string, unknown>;
  /** Every action as MDE would answer it now (wire JSON), oldest first. */
  actions(): Record<string, unknown>[];
  /** Puts a file in the live response library as the portal would, e.g. a script changed out of band; returns its entity. */
  putLibraryFile(seed: LibrarySeed): Record<string, unknown>;
  /** SHA-256 (hex) and size of the exact bytes served for that command's result; for GetFile also of the uncompressed content. */
  expectedResult(actionId: string, index: number): Promise<ResultFigures>;
  stats(): SimulatorStats;
}

/**
 * Creates the MDE live response simulator: an HTTP server on loopback implementing the documented
 * API (https://learn.microsoft.com/defender-endpoint/api/exposed-apis-list; each behaviour cites its page), with
 * results served from Azurite as real SAS links.
 */
export function createMdeSimulator(options: MdeSimulatorOptions): MdeSimulator {
  const clock = options.clock ?? (() => new Date());
  const logger = options.logger ?? silentLogger;
  const resultStore = new ResultStore(options.resultStore.connectionString, options.resultStore.containerName);
  const api = new LiveResponseApi({
    clock,
    resultStore,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    queueWindowInMs: options.queueWindowInMs ?? DEFAULT_QUEUE_WINDOW_IN_MS,
    linkTtlInMs: options.linkTtlInMs ?? DEFAULT_LINK_TTL_IN_MS,
    requestor: options.requestor ?? "mde-simulator-app",
    library: options.library ?? defaultLibrary(),
    // Machines with download faults (or every machine, with `proxyDownloads`) get links to the simulator's own proxy.
    linkFor: (blobName, machine, ttlInMs, alreadyExpired) =>
      options.proxyDownloads || needsDownloadProxy(machine)
        ? downloads.linkFor(blobName, machine, ttlInMs, alreadyExpired)
        : resultStore.linkFor(blobName, ttlInMs, alreadyExpired),
  });
  for (const m of options.machines ?? []) api.addMachine(m);
  for (const a of options.alerts ?? []) api.addAlert(a);
  const stats = new StatsRecorder();
  const faults = new FaultInjector(options.faults);
  let server: Server | undefined;
  let baseUrl: string | undefined;
  const downloads = new DownloadProxy({ resultStore, stats, baseUrl: () => baseUrl ?? "http://127.0.0.1" });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "GET";
    let segments: string[];
    try {
      segments = url.pathname
        .split("/")
        .filter((x) => x.length > 0)
        .map(decodeURIComponent);
    } catch {
      segments = [];
    }
    // Proxied download links carry their own SAS-like signature, not a bearer token (downloadProxy.ts).
    if (segments.length === 2 && segments[0] === "download") return downloads.serve(req, res, segments[1]!, url.searchParams);
    const r = routeRequest(api, method, segments);
    const endpoint = r?.kind === "api" ? r.endpoint : null;
    // Graph's alerts_v2 (alertsV2.ts) is an API call too: bearer token, faults and stats.
    const isApi = segments[0]?.toLowerCase() === "api" || segments[0]?.toLowerCase() === "v1.0";
    let answer: ApiAnswer;
    let retryAfterSeconds: number | undefined;
    let plan: FaultPlan = NO_FAULT;
    try {
      // Every /api call needs a bearer token (each API page's request headers: "Authorization: Bearer {token}. Required.").
      if (isApi) authorize(req.headers.authorization, options.acceptedToken);
      if (!r) throw new SimulatorHttpError(404, "NotFound", `No resource for ${method} ${url.pathname}`);
      // Injected faults (faults.ts) hit authenticated MDE calls; a fault before commit means MDE never handled the call.
      if (endpoint) plan = faults.plan(endpoint, method, api.scenarioOf(segments[2] ?? ""));
      if (plan.fault && !plan.fault.afterCommit) throw injectedError(plan.fault);
      const body =
        r.kind === "api" && r.multipart
          ? { contentType: req.headers["content-type"], bytes: await readRawBody(req, LIBRARY_MAX_FILE_BYTES + MULTIPART_OVERHEAD_BYTES) }
          : r.needsBody
            ? parseJson(await readBody(req))
            : undefined;
      const ctx: RequestContext = { serviceRoot: `http://${req.headers.host ?? "127.0.0.1"}/api` };
      answer = r.kind === "api" ? await r.run(body, ctx, url.searchParams) : await r.run(body);
    } catch (e) {
      if (e instanceof SimulatorHttpError) {
        answer = { status: e.statusCode, body: errorEnvelope(e.code, e.message) };
        retryAfterSeconds = e.retryAfterSeconds;
      } else {
        logger.error("mde simulator request failed", { method, endpoint: endpoint ?? segments[0] ?? "", error: (e as Error).message });
        answer = { status: 500, body: errorEnvelope("InternalServerError", "An unexpected error occurred") };
      }
    }
    if (plan.fault && endpoint) {
      stats.recordFault(faultStatKind(plan.fault), endpoint);
      // After commit: the call was handled (the action exists), yet the caller sees only a failure.
      if (plan.fault.afterCommit && plan.fault.kind === "serverError") {
        const e = injectedError(plan.fault);
        answer = { status: e.statusCode, body: errorEnvelope(e.code, e.message) };
        retryAfterSeconds = undefined;
      }
    }
    await applyLatency(plan.latencyMs);
    if (plan.fault?.kind === "drop") {
      logger.info("mde simulator request", { method, endpoint, status: "dropped" });
      req.socket.destroy();
      return;
    }
    if (isApi) stats.record(endpoint, answer.status);
    logger.info("mde simulator request", { method, endpoint: endpoint ?? (isApi ? "unknown" : "admin"), status: answer.status });
    const payload = Buffer.from(JSON.stringify(answer.body), "utf8");
    res.statusCode = answer.status;
    res.setHeader("Content-Type", "application/json; odata.metadata=minimal; charset=utf-8");
    res.setHeader("Content-Length", payload.length);
    if (retryAfterSeconds !== undefined) res.setHeader("Retry-After", String(retryAfterSeconds));
    res.end(payload);
  };

  return {
    async start() {
      if (server) throw new Error("The simulator is already started");
      await resultStore.ensureContainer();
      const s = createServer((req, res) => {
        handle(req, res).catch(() => {
          if (!res.headersSent) res.statusCode = 500;
          res.end();
        });
      });
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(options.port ?? 0, "127.0.0.1", () => resolve());
      });
      server = s;
      baseUrl = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
      return { baseUrl };
    },
    async stop() {
      const s = server;
      server = undefined;
      baseUrl = undefined;
      if (!s) return;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    },
    get baseUrl() {
      if (!baseUrl) throw new Error("The simulator is not started");
      return baseUrl;
    },
    addMachine: (scenario) => api.addMachine(scenario),
    machines: () => api.machines(),
    addAlert: (alert) => api.addAlert(alert),
    actions: () => api.actions(),
    putLibraryFile: (file) => api.putLibraryFile(file),
    expectedResult: (actionId, index) => api.expectedResult(actionId, index),
    stats: () => stats.snapshot(),
  };
}
