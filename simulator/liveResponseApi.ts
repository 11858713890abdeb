import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { AlertStore } from "./alerts";
import { listAlertsV2 } from "./alertsV2";
import { badRequest, notFound, tooManyRequests } from "./errors";
import { HOUR_IN_MS, MINUTE_IN_MS, type SimulatorLimits } from "./limits";
import {
  finalAtMs,
  isFinal,
  toWireEntity,
  viewAt,
  type ActionRecord,
  type ActionView,
  type MachineState,
  type TimelineSettings,
} from "./machineActions";
import { LibraryStore, parseUploadForm, type LibrarySeed } from "./libraryFiles";
import { listMachinesBody, toWireMachine } from "./machineInventory";
import { parseActionFilter } from "./odataFilter";
import { RateLimiter } from "./rateLimits";
import { paramValue, validateLiveResponseBody } from "./requestValidation";
import { defaultScriptOutput, getFileContentStream, runScriptTranscript } from "./resultContent";
import type { ResultFigures, ResultSource, ResultStore } from "./resultStore";
import { resolveScenario, type ResolvedMachineScenario } from "./scenarios";
import type { SimulatorEndpoint } from "./stats";

/** A JSON answer: status and body. */
export interface ApiAnswer {
  status: number;
  body: unknown;
}

/** Per-request context: the OData service root (`<baseUrl>/api`) the `@odata.context` values are built on. */
export interface RequestContext {
  serviceRoot: string;
}

export interface LiveResponseApiSettings extends TimelineSettings {
  clock: () => Date;
  resultStore: ResultStore;
  linkTtlInMs: number;
  requestor: string;
  /** The live response library at start. @default empty */
  library?: LibrarySeed[];
  /** Mints a download link (server.ts routes faulty machines through the download proxy). @default a SAS link to Azurite */
  linkFor?: (blobName: string, machine: ResolvedMachineScenario, ttlInMs: number, alreadyExpired: boolean) => string | Promise<string>;
}

/** `$top` accepts up to 10,000 (https://learn.microsoft.com/defender-endpoint/api/get-machineactions-collection). */
const MAX_TOP = 10_000;

/**
 * The MDE live response endpoints as plain methods: state, validation, limits and answers,
 * with no HTTP in sight (server.ts does that). Methods throw `SimulatorHttpError` for error answers.
 */
export class LiveResponseApi {
  private readonly machinesById = new Map<string, MachineState>();
  private readonly expiredLinksLeft = new Map<string, number>();
  private readonly actionsById = new Map<string, ActionRecord>();
  private readonly limiters: Record<SimulatorEndpoint, RateLimiter>;
  private readonly alerts = new AlertStore();
  private readonly library: LibraryStore;

  constructor(private readonly settings: LiveResponseApiSettings) {
    this.library = new LibraryStore(() => this.nowMs(), settings.requestor);
    for (const seed of settings.library ?? []) this.library.put(seed);
    const l: SimulatorLimits = settings.limits;
    // The same window sizes everywhere: calls per minute, and per hour where MDE states one (limits.ts cites each).
    const readWindows = [
      { maxCalls: l.readPerMinute, windowInMs: MINUTE_IN_MS },
      { maxCalls: l.readPerHour, windowInMs: HOUR_IN_MS },
    ];
    this.limiters = {
      runLiveResponse: new RateLimiter([{ maxCalls: l.runLiveResponsePerMinute, windowInMs: MINUTE_IN_MS }]),
      getMachineAction: new RateLimiter(readWindows),
      listMachineActions: new RateLimiter(readWindows),
      cancelMachineAction: new RateLimiter(readWindows),
      listMachines: new RateLimiter(readWindows),
      getAlert: new RateLimiter(readWindows),
      // 100 calls per minute and 1,500 per hour each (list-library-files and upload-library, "Limitations").
      listLibraryFiles: new RateLimiter(readWindows),
      uploadLibraryFile: new RateLimiter(readWindows),
      // Graph's limits are not MDE's; the simulator's Graph 429s come from fault injection (alertsV2.ts).
      listAlertsV2: new RateLimiter([]),
      getDownloadLink: new RateLimiter([
        { maxCalls: l.downloadLinkPerMinute, windowInMs: MINUTE_IN_MS },
        { maxCalls: l.downloadLinkPerHour, windowInMs: HOUR_IN_MS },
      ]),
    };
  }

  private nowMs(): number {
    return this.settings.clock().getTime();
  }

  private admit(endpoint: SimulatorEndpoint, what: string): void {
    const a = this.limiters[endpoint].tryAdmit(this.nowMs());
    if (!a.admitted) throw tooManyRequests(`Rate limit exceeded for ${what}. Try again later.`, a.retryAfterInMs);
  }

  /** Adds a device; its `onlineAfterMs` counts from now (the simulator's clock). */
  addMachine(input: unknown): ResolvedMachineScenario {
    const scenario = resolveScenario(input);
    if (this.machinesById.has(scenario.machineId)) throw new Error(`Machine ${scenario.machineId} already exists`);
    this.machinesById.set(scenario.machineId, { scenario, addedAtMs: this.nowMs() });
    this.expiredLinksLeft.set(scenario.machineId, scenario.expiredLinks);
    return scenario;
  }

  /** The device a request is about, by machine id or by the id of one of its actions (fault injection picks its faults). */
  scenarioOf(id: string): ResolvedMachineScenario | undefined {
    const key = id.toLowerCase();
    const action = this.actionsById.get(key);
    return (action ? this.machineOf(action) : this.machinesById.get(key))?.scenario;
  }

  machines(): ResolvedMachineScenario[] {
    return [...this.machinesById.values()].map((m) => structuredClone(m.scenario));
  }

  /** Every action as wire JSON (without `@odata.context`), in creation order, at the current clock. */
  actions(): Record<string, unknown>[] {
    const now = this.nowMs();
    return [...this.actionsById.values()].map((a) => toWireEntity(a, viewAt(a, this.machineOf(a), now, this.settings)));
  }

  private machineOf(action: ActionRecord): MachineState {
    return this.machinesById.get(action.machineId)!;
  }

  private actionOr404(actionId: string): ActionRecord {
    const action = this.actionsById.get(actionId.toLowerCase());
    if (!action) throw notFound(`Machine action ${actionId} was not found`);
    return action;
  }

  /** POST /api/machines/{id}/runliveresponse (https://learn.microsoft.com/defender-endpoint/api/run-live-response). */
  runLiveResponse(machineId: string, body: unknown, ctx: RequestContext): ApiAnswer {
    // 10 calls per minute (run-live-response, "Limitations").
    this.admit("runLiveResponse", "runliveresponse (10 calls per minute)");
    const request = validateLiveResponseBody(body);
    const machine = this.machinesById.get(machineId.toLowerCase());
    if (!machine) throw notFound(`Machine ${machineId} was not found`);
    const now = this.nowMs();
    const active = [...this.actionsById.values()]
      .map((a) => ({ a, status: viewAt(a, this.machineOf(a), now, this.settings).status }))
      .filter((x) => !isFinal(x.status));
    // One session per device: 400 ActiveRequestAlreadyExists (run-live-response, "Limitations").
    if (active.some((x) => x.a.machineId === machine.scenario.machineId))
      throw badRequest("ActiveRequestAlreadyExists", `Action is already in progress on machine ${machine.scenario.machineId}`);
    // 25 concurrently running sessions tenant-wide (run-live-response, "Limitations"); a queued session counts.
    if (active.length >= this.settings.limits.concurrentSessions) {
      const freeAtMs = Math.min(...active.map((x) => finalAtMs(x.a, this.machineOf(x.a), this.settings)));
      throw tooManyRequests(
        `Too many concurrent live response sessions (limit ${this.settings.limits.concurrentSessions})`,
        freeAtMs - now,
      );
    }
    const missingLibraryFile = this.missingLibraryFile(request.commands);
    const action: ActionRecord = {
      ...(missingLibraryFile ? { missingLibraryFile } : {}),
      id: randomUUID(),
      machineId: machine.scenario.machineId,
      computerDnsName: machine.scenario.computerDnsName,
      requestor: this.settings.requestor,
      requestorComment: request.comment,
      createdAtMs: now,
      commands: request.commands,
      cancellation: null,
    };
    this.actionsById.set(action.id, action);
    // 201 (run-live-response, "Response"; its example's header says 200) with the action as just created:
    // Pending, every command Created (that page's response example), even if the device picks it up at once.
    const asCreated: ActionView = {
      status: "Pending",
      lastUpdateMs: now,
      commands: action.commands.map((_, index) => ({ index, commandStatus: "Created", startMs: null, endMs: null, errors: [] })),
    };
    return { status: 201, body: this.entity(action, ctx, asCreated) };
  }

  private entity(action: ActionRecord, ctx: RequestContext, view: ActionView | number): Record<string, unknown> {
    return {
      "@odata.context": `${ctx.serviceRoot}/$metadata#MachineActions/$entity`,
      ...toWireEntity(action, typeof view === "number" ? viewAt(action, this.machineOf(action), view, this.settings) : view),
    };
  }

  /** Puts a file in the library as the portal would (no API checks): tests change a file out of band with it. */
  putLibraryFile(seed: LibrarySeed): Record<string, unknown> {
    return this.library.put(seed);
  }

  /** GET /api/libraryfiles (https://learn.microsoft.com/defender-endpoint/api/list-library-files). */
  listLibraryFiles(ctx: RequestContext): ApiAnswer {
    this.admit("listLibraryFiles", "libraryfiles (100 calls per minute, 1500 per hour)");
    return { status: 200, body: this.library.list(ctx.serviceRoot) };
  }

  /** POST /api/libraryfiles, multipart (https://learn.microsoft.com/defender-endpoint/api/upload-library): 200 with the entity. */
  async uploadLibraryFile(body: { contentType: string | undefined; bytes: Buffer }): Promise<ApiAnswer> {
    this.admit("uploadLibraryFile", "libraryfiles (100 calls per minute, 1500 per hour)");
    return { status: 200, body: this.library.upload(await parseUploadForm(body.contentType, body.bytes)) };
  }

  /**
   * The first RunScript or PutFile naming a file the library does not hold. MDE documents no answer for
   * it; the simulator accepts the action and fails that command on the device, like any failed command
   * ("when a live response command fails all the subsequent actions won't be executed": run-live-response,
   * "Limitations"), so the action ends Failed and nothing after it runs.
   */
  private missingLibraryFile(commands: ActionRecord["commands"]): ActionRecord["missingLibraryFile"] {
    for (const [index, command] of commands.entries()) {
      const fileName =
        command.type === "RunScript"
          ? paramValue(command, "ScriptName")
          : command.type === "PutFile"
            ? paramValue(command, "FileName")
            : undefined;
      if (fileName !== undefined && !this.library.has(fileName)) return { index, fileName };
    }
    return undefined;
  }

  /** GET /api/machineactions/{id} */
  getMachineAction(actionId: string, ctx: RequestContext): ApiAnswer {
    this.admit("getMachineAction", "machineactions (100 calls per minute, 1500 per hour)");
    return { status: 200, body: this.entity(this.actionOr404(actionId), ctx, this.nowMs()) };
  }

  /**
   * GET /api/machines?$filter=...&$top=... (100 calls per minute, 1,500 per hour:
   * https://learn.microsoft.com/defender-endpoint/api/get-machines).
   */
  listMachines(query: URLSearchParams, ctx: RequestContext): ApiAnswer {
    this.admit("listMachines", "machines (100 calls per minute, 1500 per hour)");
    const wire = [...this.machinesById.values()].map((m) => toWireMachine(m.scenario, new Date(Math.max(m.addedAtMs, this.nowMs()))));
    return { status: 200, body: listMachinesBody(wire, query, ctx.serviceRoot) };
  }

  /** Adds an alert for `GET /api/alerts/{id}` (an MDE alert entity with an `id`). @throws Error for a malformed or duplicate alert */
  addAlert(input: unknown): Record<string, unknown> {
    return this.alerts.add(input);
  }

  /** Graph `GET /v1.0/security/alerts_v2` over the same alerts (alertsV2.ts). */
  listAlertsV2(query: URLSearchParams, ctx: RequestContext): ApiAnswer {
    return listAlertsV2(this, this.alerts.list(), query, ctx, this.nowMs());
  }

  alertList(): Record<string, unknown>[] {
    return this.alerts.list();
  }

  /** GET /api/alerts/{id}?$expand=evidence (100 calls per minute, 1,500 per hour: https://learn.microsoft.com/defender-endpoint/api/get-alert-info-by-id). */
  getAlert(alertId: string, query: URLSearchParams, ctx: RequestContext): ApiAnswer {
    this.admit("getAlert", "alerts (100 calls per minute, 1500 per hour)");
    return this.alerts.get(alertId, query, ctx);
  }

  /** GET /api/machineactions?$filter=...&$top=...&$skip=... */
  listMachineActions(query: URLSearchParams, ctx: RequestContext): ApiAnswer {
    this.admit("listMachineActions", "machineactions (100 calls per minute, 1500 per hour)");
    for (const key of query.keys()) {
      if (!["$filter", "$top", "$skip"].includes(key)) throw badRequest("InvalidInput", `Query option '${key}' is not supported`);
    }
    const filter = query.get("$filter");
    const predicate = filter === null ? () => true : parseActionFilter(filter);
    const top = integerOption(query, "$top", MAX_TOP) ?? MAX_TOP;
    const skip = integerOption(query, "$skip", Number.MAX_SAFE_INTEGER) ?? 0;
    const value = this.actions()
      .filter(predicate)
      .slice(skip, skip + top);
    return { status: 200, body: { "@odata.context": `${ctx.serviceRoot}/$metadata#MachineActions`, value } };
  }

  /**
   * GET /api/machineactions/{id}/GetLiveResponseResultDownloadLink(index=N)
   * (https://learn.microsoft.com/defender-endpoint/api/get-live-response-result).
   */
  async getDownloadLink(actionId: string, index: number, ctx: RequestContext): Promise<ApiAnswer> {
    // 100 calls per minute and 1,500 per hour (get-live-response-result, "Limitations").
    this.admit("getDownloadLink", "GetLiveResponseResultDownloadLink (100 calls per minute, 1500 per hour)");
    const action = this.actionOr404(actionId);
    this.resultCommand(action, index);
    const view = viewAt(action, this.machineOf(action), this.nowMs(), this.settings);
    const status = view.commands[index]!.commandStatus;
    if (status !== "Completed")
      throw badRequest("BadRequest", `Command ${index} of action ${action.id} is ${status}: a result exists only for a completed command`);
    const stored = await this.settings.resultStore.materialize(`${action.id}/${index}`, action.id, this.resultSource(action, index));
    // Fault injection: the first N links for this machine are already expired, so clients must ask again.
    const left = this.expiredLinksLeft.get(action.machineId) ?? 0;
    if (left > 0) this.expiredLinksLeft.set(action.machineId, left - 1);
    const machine = this.machineOf(action).scenario;
    const ttl = machine.linkTtlInMs ?? this.settings.linkTtlInMs;
    const link = this.settings.linkFor
      ? await this.settings.linkFor(stored.blobName, machine, ttl, left > 0)
      : await this.settings.resultStore.linkFor(stored.blobName, ttl, left > 0);
    return { status: 200, body: { "@odata.context": `${ctx.serviceRoot}/$metadata#Edm.String`, value: link } };
  }

  /** Throws unless command `index` exists and can have a result. */
  private resultCommand(action: ActionRecord, index: number): void {
    const command = action.commands[index];
    if (!command) throw notFound(`Command index ${index} does not exist in action ${action.id} (it has ${action.commands.length})`);
    // PutFile has no result (run-live-response, "Commands": "Doesn't have a response result").
    if (command.type === "PutFile") throw badRequest("BadRequest", `Command ${index} is PutFile, which has no result`);
  }

  private resultSource(action: ActionRecord, index: number): ResultSource {
    const scenario = this.machineOf(action).scenario;
    const command = action.commands[index]!;
    if (command.type === "GetFile") {
      const path = paramValue(command, "Path")!;
      // GetFile results arrive gzip-compressed: observed in production integrations, not documented by Microsoft (see resultStore.ts).
      // `getFileCompress` false or "stored" lets big tests skip gzip's cost.
      return {
        gzip: scenario.getFileCompress !== false,
        gzipLevel: scenario.getFileCompress === "stored" ? 0 : undefined,
        content: () => getFileContentStream(scenario.machineId, path, scenario.getFileSizeBytes),
      };
    }
    const scriptName = paramValue(command, "ScriptName")!;
    const outcome = scenario.runScript ?? {
      exitCode: 0,
      output: defaultScriptOutput(action.id, scriptName, paramValue(command, "Args")),
      errors: "",
    };
    return { gzip: false, content: () => Readable.from([runScriptTranscript(scriptName, outcome)]) };
  }

  /** The figures of the exact bytes a download link serves for this command (uploads the result if needed). */
  async expectedResult(actionId: string, index: number): Promise<ResultFigures> {
    const action = this.actionsById.get(actionId.toLowerCase());
    if (!action) throw new Error(`Unknown action ${actionId}`);
    this.resultCommand(action, index);
    const { blobName: _blobName, ...figures } = await this.settings.resultStore.materialize(
      `${action.id}/${index}`,
      action.id,
      this.resultSource(action, index),
    );
    // A raw GetFile result is its own content: report the content figures all the same.
    if (action.commands[index]!.type === "GetFile" && figures.contentSha256 === undefined)
      return { ...figures, contentSha256: figures.sha256, contentSize: figures.size };
    return figures;
  }

  /**
   * POST /api/machineactions/{id}/cancel with `{"Comment": "..."}`
   * (https://learn.microsoft.com/defender-endpoint/api/cancel-machine-action).
   */
  cancelMachineAction(actionId: string, body: unknown, ctx: RequestContext): ApiAnswer {
    this.admit("cancelMachineAction", "machineactions cancel (100 calls per minute, 1500 per hour)");
    const action = this.actionOr404(actionId);
    if (typeof body !== "object" || body === null || Array.isArray(body))
      throw badRequest("InvalidRequestBody", "Request body must be a JSON object");
    const comment = (body as Record<string, unknown>).Comment;
    if (comment === undefined || comment === null || comment === "") throw badRequest("MissingRequiredParameter", "Comment is required");
    if (typeof comment !== "string") throw badRequest("InvalidRequestBody", "Comment must be a string");
    const now = this.nowMs();
    const status = viewAt(action, this.machineOf(action), now, this.settings).status;
    if (isFinal(status)) throw badRequest("BadRequest", `Action ${action.id} is already ${status} and cannot be cancelled`);
    action.cancellation = { atMs: now, requestor: this.settings.requestor, comment };
    return { status: 200, body: this.entity(action, ctx, now) };
  }
}

function integerOption(query: URLSearchParams, name: string, max: number): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) > max) throw badRequest("InvalidInput", `${name} must be an integer between 0 and ${max}`);
  return Number(raw);
}
