/**
 * The MDE live response API over fetch. Every method goes through one private `send()`, which names
 * the route and whether it may be sent twice; token, timeout, JSON, error mapping, logging and the
 * retry loop are shared/http/entraJsonClient.ts's.
 */
import type { TokenCredential } from "@azure/identity";
import { CollectorError, MdeApiError } from "../errors";
import { hostRefusal, isLoopbackHost, isLoopbackUrl, MDE_API_HOSTS, type HostAllowList } from "../hostPolicy";
import { EntraJsonClient, type EntraJsonService, type EntraJsonTransportOptions } from "../http/entraJsonClient";
import type { MdeApi, OperationOptions } from "./api";
import { parseUrl, StaticTokenCredential, tokenScopeFor } from "./auth";
import { MAX_LIST_TOP } from "./limits";
import {
  LIBRARY_FILE_NAME_PATTERN,
  LIBRARY_UPLOAD_MAX_BYTES,
  type LibraryFile,
  type LibraryUpload,
  type LiveResponseRequest,
  type Machine,
  type MachineAction,
} from "./models";
import { toLibraryFile, toMachine, toMachineAction, toMdeApiError } from "./transformations";

export { DEFAULT_REQUEST_TIMEOUT_IN_MS } from "../http/entraJsonClient";

/** The User-Agent sent when none is configured. */
export const DEFAULT_USER_AGENT = `mde-live-response-collector/0.1.0 Node.js/${process.version}`;

/** The MDE API hosts a client talks to when none are given: Microsoft's documented hosts, no loopback. */
export const DEFAULT_MDE_HOSTS: HostAllowList = { hosts: MDE_API_HOSTS, allowLoopback: false };

/** Fetch, logger, retry (retry.ts says what is never retried), sleep, jitter and timeout: {@link EntraJsonTransportOptions}. */
export interface MdeClientOptions extends EntraJsonTransportOptions {
  /**
   * Hosts the base URL may name: it receives an MDE token, so a mistyped or forged host is refused
   * before any token is requested. Loopback (the simulator) only in local development.
   * @default DEFAULT_MDE_HOSTS
   */
  allowedHosts?: HostAllowList;
  /** OAuth scope of the token. @default tokenScopeFor(baseUrl) */
  scope?: string;
  /** The User-Agent header. @default DEFAULT_USER_AGENT */
  userAgent?: string;
}

interface SendRequest {
  method: "GET" | "POST";
  /** Already-encoded path below the base URL; logged as is, so it never holds a secret. */
  path: string;
  /** Already-encoded query string without "?"; never logged. */
  query?: string;
  body?: unknown;
  /** A multipart form body instead of JSON; fetch sets its Content-Type with the boundary. */
  form?: FormData;
  /** Whether a transient failure may be retried by sending the same request again. */
  idempotent: boolean;
}

/** The MDE live response operations over HTTPS, authenticated with an Entra ID token. */
export class MdeClient implements MdeApi {
  private readonly baseUrl: string;
  private readonly http: EntraJsonClient;

  /**
   * @param baseUrl - the MDE API root, e.g. `https://api.security.microsoft.com`: https to an allowed host,
   *   or http(s) to loopback when the allow-list allows it.
   * @param credential - a managed identity or other Entra ID credential; {@link StaticTokenCredential} only for loopback.
   * @param options - see {@link MdeClientOptions}.
   * @throws CollectorError `InvalidBaseUrl` for a non-URL, `UntrustedMdeHost` for a URL the allow-list
   *   refuses (plain http to a real host included), `InvalidCredential` for a static development token aimed at a real host.
   */
  constructor(baseUrl: string, credential: TokenCredential, options: MdeClientOptions = {}) {
    const url = parseUrl(baseUrl);
    // The token goes wherever the base URL points, and never in clear text: https to a listed host only.
    const refusal = hostRefusal(url, options.allowedHosts ?? DEFAULT_MDE_HOSTS);
    if (refusal) throw new CollectorError("UntrustedMdeHost", `The MDE API base URL is refused: ${refusal}`);
    if (credential instanceof StaticTokenCredential && !isLoopbackHost(url.hostname)) {
      throw new CollectorError("InvalidCredential", "A static development token may only be used with a loopback simulator");
    }
    this.baseUrl = `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
    const service: EntraJsonService = {
      name: "MDE",
      credential,
      scope: options.scope ?? tokenScopeFor(baseUrl),
      headers: { "User-Agent": options.userAgent ?? DEFAULT_USER_AGENT },
      errorClass: MdeApiError,
      toAnswerError: (status, headers, text) => toMdeApiError(status, headers, text),
    };
    // Retries follow retry.ts as is: transient failures of idempotent requests only, 429 left to the orchestrator.
    this.http = new EntraJsonClient(service, options);
  }

  /**
   * POST /api/machines/{id}/runliveresponse with `{ Commands, Comment }`; 201 or 200 with the action.
   * Never retried on 5xx or network errors (see retry.ts): the caller checks what MDE accepted.
   * @throws MdeApiError for an error answer, e.g. 400 `ActiveRequestAlreadyExists` for a busy device.
   */
  async runLiveResponse(machineId: string, request: LiveResponseRequest, options?: OperationOptions): Promise<MachineAction> {
    // Rebuilt field by field: MDE's parameter names are case-sensitive and extra fields are not ours to send.
    const body = {
      Commands: request.commands.map((c) => ({ type: c.type, params: c.params.map((p) => ({ key: p.key, value: p.value })) })),
      Comment: request.comment,
    };
    const path = `/api/machines/${segment(machineId, "machineId")}/runliveresponse`;
    // Not idempotent: a second POST after a lost answer could start a second session.
    const action = toMachineAction(await this.send({ method: "POST", path, body, idempotent: false }, options));
    // A short answer may come without machineId (test/support/mde/fixtures.ts, SEED_000_SHORT_RESPONSE); we know which device we asked.
    return action.machineId ? action : { ...action, machineId };
  }

  /**
   * GET /api/machineactions/{id}.
   * @throws MdeApiError for an error answer; CollectorError `UnexpectedResponse` for a body without id/status.
   */
  async getMachineAction(actionId: string, options?: OperationOptions): Promise<MachineAction> {
    const path = `/api/machineactions/${segment(actionId, "actionId")}`;
    return toMachineAction(await this.send({ method: "GET", path, idempotent: true }, options));
  }

  /**
   * GET /api/machineactions/{id}, unmapped: the manifest keeps the action as MDE returned it.
   * @returns the JSON object as sent
   * @throws MdeApiError for an error answer; CollectorError `UnexpectedResponse` for a body that is not an object with an id.
   */
  async getMachineActionAsReturned(actionId: string, options?: OperationOptions): Promise<Record<string, unknown>> {
    const path = `/api/machineactions/${segment(actionId, "actionId")}`;
    const body = await this.send({ method: "GET", path, idempotent: true }, options);
    if (typeof body !== "object" || body === null || Array.isArray(body) || typeof (body as { id?: unknown }).id !== "string")
      throw new CollectorError("UnexpectedResponse", "MDE answered a machine action that is not a JSON object with an id");
    return body as Record<string, unknown>;
  }

  /**
   * GET /api/machineactions?$filter=...&$top=..., mapped from `value[]`.
   * @param query - `filter`: an OData `$filter` (e.g. `status eq 'Pending'`); `top`: 1 to 10,000.
   * @throws CollectorError `InvalidArgument` for a `top` out of range.
   */
  async listMachineActions(query: { filter?: string; top?: number }, options?: OperationOptions): Promise<MachineAction[]> {
    return (await this.list("/api/machineactions", "machine action", query, options)).map(toMachineAction);
  }

  /**
   * GET /api/machines?$filter=...&$top=..., mapped from `value[]` (100 calls per minute, 1,500 per hour).
   * @param query - `filter`: an OData `$filter` (e.g. `healthStatus eq 'Active' and machineTags/any(tag: tag eq 'tier0')`);
   *   `top`: 1 to 10,000.
   * @throws CollectorError `InvalidArgument` for a `top` out of range.
   */
  async listMachines(query: { filter?: string; top?: number }, options?: OperationOptions): Promise<Machine[]> {
    return (await this.list("/api/machines", "machine", query, options)).map(toMachine);
  }

  /**
   * GET /api/alerts/{id}?$expand=evidence.
   * @returns the alert entity as sent (parse it with shared/alerts/mde.ts)
   * @throws MdeApiError for an error answer (404 for an unknown id); CollectorError `UnexpectedResponse` for a body that is not an object.
   */
  async getAlert(alertId: string, options?: OperationOptions): Promise<Record<string, unknown>> {
    const path = `/api/alerts/${segment(alertId, "alertId")}`;
    const body = await this.send({ method: "GET", path, query: "$expand=evidence", idempotent: true }, options);
    if (typeof body !== "object" || body === null || Array.isArray(body))
      throw new CollectorError("UnexpectedResponse", "MDE answered an alert that is not a JSON object");
    return body as Record<string, unknown>;
  }

  /**
   * GET /api/libraryfiles (100 calls per minute, 1,500 per hour; Library.Manage:
   * https://learn.microsoft.com/defender-endpoint/api/list-library-files), mapped from `value[]`.
   * @throws MdeApiError for an error answer (403 when the identity lacks Library.Manage);
   *   CollectorError `UnexpectedResponse` for a body without a value array or an entry without name and SHA-256.
   */
  async listLibraryFiles(options?: OperationOptions): Promise<LibraryFile[]> {
    return (await this.list("/api/libraryfiles", "library file", {}, options)).map(toLibraryFile);
  }

  /**
   * POST /api/libraryfiles as multipart/form-data with the fields of upload-library's example
   * (`file`, `Description`, `ParametersDescription`, `HasParameters`, `OverrideIfExists`:
   * https://learn.microsoft.com/defender-endpoint/api/upload-library). Not retried on 5xx or network
   * errors: whether MDE stored the file is read back with {@link listLibraryFiles}, as `npm run library:sync` does.
   * @throws CollectorError `InvalidArgument` for a name MDE refuses (letters, digits, '-', '_', '.') or a file
   *   over 20 MB, before any request; MdeApiError for an error answer (400 for a name already taken without override).
   */
  async uploadLibraryFile(upload: LibraryUpload, options?: OperationOptions): Promise<LibraryFile> {
    if (!LIBRARY_FILE_NAME_PATTERN.test(upload.fileName) || /^\.+$/.test(upload.fileName))
      throw new CollectorError("InvalidArgument", "a library file name may hold only letters, digits, '-', '_' and '.'");
    if (upload.content.byteLength > LIBRARY_UPLOAD_MAX_BYTES)
      throw new CollectorError("InvalidArgument", `${upload.fileName} is larger than the 20 MB MDE accepts through the API`);
    const form = new FormData();
    form.append("file", new Blob([upload.content]), upload.fileName);
    if (upload.description !== undefined) form.append("Description", upload.description);
    if (upload.parametersDescription !== undefined) form.append("ParametersDescription", upload.parametersDescription);
    if (upload.hasParameters !== undefined) form.append("HasParameters", String(upload.hasParameters));
    form.append("OverrideIfExists", String(upload.overrideIfExists === true));
    const body = await this.send({ method: "POST", path: "/api/libraryfiles", form, idempotent: false }, options);
    return toLibraryFile(body);
  }

  /** A GET on an OData collection with `$filter`/`$top`; returns `value[]` unmapped. */
  private async list(path: string, what: string, query: { filter?: string; top?: number }, options?: OperationOptions): Promise<unknown[]> {
    const parts: string[] = [];
    if (query.filter !== undefined) parts.push(`$filter=${encodeURIComponent(query.filter)}`);
    if (query.top !== undefined) {
      if (!Number.isInteger(query.top) || query.top < 1 || query.top > MAX_LIST_TOP) {
        throw new CollectorError("InvalidArgument", `top must be an integer from 1 to ${MAX_LIST_TOP}`);
      }
      parts.push(`$top=${query.top}`);
    }
    const body = await this.send({ method: "GET", path, query: parts.join("&"), idempotent: true }, options);
    const value = typeof body === "object" && body !== null ? (body as { value?: unknown }).value : undefined;
    if (!Array.isArray(value)) throw new CollectorError("UnexpectedResponse", `MDE answered the ${what} list without a value array`);
    return value;
  }

  /**
   * GET /api/machineactions/{id}/GetLiveResponseResultDownloadLink(index=N); the link is valid 30 minutes.
   * @returns the SAS URL: never log or store it with its query string.
   * @throws CollectorError `InvalidArgument` for a negative or fractional index,
   *   `UnexpectedResponse` when `value` is not an https URL (http only from a loopback simulator).
   */
  async getLiveResponseResultDownloadLink(actionId: string, commandIndex: number, options?: OperationOptions): Promise<string> {
    if (!Number.isInteger(commandIndex) || commandIndex < 0) {
      throw new CollectorError("InvalidArgument", "commandIndex must be a non-negative integer");
    }
    const path = `/api/machineactions/${segment(actionId, "actionId")}/GetLiveResponseResultDownloadLink(index=${commandIndex})`;
    const body = await this.send({ method: "GET", path, idempotent: true }, options);
    const link = typeof body === "object" && body !== null ? (body as { value?: unknown }).value : undefined;
    if (typeof link !== "string" || !isDownloadUrl(link)) {
      // The value itself stays out of the message: if it is a URL at all, it may carry a signature.
      throw new CollectorError("UnexpectedResponse", `MDE answered ${path} without a usable download URL`);
    }
    return link;
  }

  /**
   * POST /api/machineactions/{id}/cancel with `{ Comment }`. Re-read the action afterwards: a cancel
   * can race with completion.
   * @throws MdeApiError for an error answer (400 when the action is already final).
   */
  async cancelMachineAction(actionId: string, comment: string, options?: OperationOptions): Promise<MachineAction> {
    const path = `/api/machineactions/${segment(actionId, "actionId")}/cancel`;
    // Retried like a read: a repeated cancel changes nothing, at worst answers 400 for a final action.
    return toMachineAction(await this.send({ method: "POST", path, body: { Comment: comment }, idempotent: true }, options));
  }

  /** Sends a request below the base URL, retrying transient failures per retry.ts; returns the parsed JSON body. */
  private send(request: SendRequest, options: OperationOptions = {}): Promise<unknown> {
    const { method, path, idempotent } = request;
    const url = `${this.baseUrl}${path}${request.query ? `?${request.query}` : ""}`;
    const body = request.form ?? (request.body === undefined ? undefined : JSON.stringify(request.body));
    const headers = request.body === undefined ? undefined : { "Content-Type": "application/json" };
    return this.http.send({ method, url, path, headers, body, idempotent }, options.abortSignal);
  }
}

/** Encodes one path segment; ids are validated upstream, but an empty one would change the route. */
function segment(value: string, name: string): string {
  if (typeof value !== "string" || value.trim() === "") throw new CollectorError("InvalidArgument", `${name} is required`);
  return encodeURIComponent(value);
}

function isDownloadUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || (url.protocol === "http:" && isLoopbackUrl(value));
  } catch {
    return false;
  }
}
