import { SimulatorHttpError } from "./errors";
import type { ApiAnswer, LiveResponseApi, RequestContext } from "./liveResponseApi";
import type { SimulatorEndpoint } from "./stats";

/** What serves one request: an MDE endpoint (authenticated, counted in stats) or a simulator admin endpoint. */
export type Route =
  | {
      kind: "api";
      endpoint: SimulatorEndpoint;
      run: (body: unknown, ctx: RequestContext, query: URLSearchParams) => ApiAnswer | Promise<ApiAnswer>;
      needsBody: boolean;
      /** The body is multipart, passed raw as `{ contentType, bytes }` (POST /api/libraryfiles). */
      multipart?: boolean;
    }
  | { kind: "admin"; run: (body: unknown) => Promise<ApiAnswer> | ApiAnswer; needsBody: boolean };

/** `GetLiveResponseResultDownloadLink(index=N)` as one path segment (https://learn.microsoft.com/defender-endpoint/api/get-live-response-result). */
const DOWNLOAD_LINK = /^getliveresponseresultdownloadlink\(index=([^)]*)\)$/i;

/**
 * Maps a request to its handler. Segments are matched case-insensitively (run-live-response writes both
 * `/API/` and `/api/`: https://learn.microsoft.com/defender-endpoint/api/run-live-response); ids keep their case
 * for the handlers.
 */
export function routeRequest(api: LiveResponseApi, method: string, segments: string[]): Route | null {
  const s = segments.map((x) => x.toLowerCase());
  if (s[0] === "api") {
    if (method === "POST" && s.length === 4 && s[1] === "machines" && s[3] === "runliveresponse")
      return {
        kind: "api",
        endpoint: "runLiveResponse",
        needsBody: true,
        run: (body, ctx) => api.runLiveResponse(segments[2]!, body, ctx),
      };
    if (method === "GET" && s.length === 2 && s[1] === "machines")
      return { kind: "api", endpoint: "listMachines", needsBody: false, run: (_b, ctx, query) => api.listMachines(query, ctx) };
    if (method === "GET" && s.length === 3 && s[1] === "alerts")
      return { kind: "api", endpoint: "getAlert", needsBody: false, run: (_b, ctx, query) => api.getAlert(segments[2]!, query, ctx) };
    if (s.length === 2 && s[1] === "libraryfiles") {
      if (method === "GET")
        return { kind: "api", endpoint: "listLibraryFiles", needsBody: false, run: (_b, ctx) => api.listLibraryFiles(ctx) };
      if (method === "POST")
        return {
          kind: "api",
          endpoint: "uploadLibraryFile",
          needsBody: false,
          multipart: true,
          run: (body) => api.uploadLibraryFile(body as { contentType: string | undefined; bytes: Buffer }),
        };
    }
    if (s[1] !== "machineactions") return null;
    if (method === "GET" && s.length === 2)
      return { kind: "api", endpoint: "listMachineActions", needsBody: false, run: (_b, ctx, query) => api.listMachineActions(query, ctx) };
    if (method === "GET" && s.length === 3)
      return { kind: "api", endpoint: "getMachineAction", needsBody: false, run: (_b, ctx) => api.getMachineAction(segments[2]!, ctx) };
    const link = s.length === 4 ? DOWNLOAD_LINK.exec(segments[3]!) : null;
    if (method === "GET" && link)
      return {
        kind: "api",
        endpoint: "getDownloadLink",
        needsBody: false,
        run: (_b, ctx) => {
          if (!/^\d+$/.test(link[1]!))
            throw new SimulatorHttpError(400, "InvalidInput", `index must be a non-negative integer, got '${link[1]}'`);
          return api.getDownloadLink(segments[2]!, Number(link[1]), ctx);
        },
      };
    if (method === "POST" && s.length === 4 && s[3] === "cancel")
      return {
        kind: "api",
        endpoint: "cancelMachineAction",
        needsBody: true,
        run: (body, ctx) => api.cancelMachineAction(segments[2]!, body, ctx),
      };
    return null;
  }
  if (method === "GET" && s.join("/") === "v1.0/security/alerts_v2")
    return { kind: "api", endpoint: "listAlertsV2", needsBody: false, run: (_b, ctx, query) => api.listAlertsV2(query, ctx) };
  if (s[0] === "simulator") {
    if (s.length === 2 && s[1] === "machines" && method === "GET")
      return { kind: "admin", needsBody: false, run: () => ({ status: 200, body: api.machines() }) };
    if (s.length === 2 && s[1] === "machines" && method === "POST")
      return {
        kind: "admin",
        needsBody: true,
        run: (body) => {
          try {
            return { status: 201, body: api.addMachine(body) };
          } catch (e) {
            throw new SimulatorHttpError(400, "InvalidInput", (e as Error).message);
          }
        },
      };
    if (s.length === 2 && s[1] === "alerts" && method === "GET")
      return { kind: "admin", needsBody: false, run: () => ({ status: 200, body: api.alertList() }) };
    if (s.length === 2 && s[1] === "alerts" && method === "POST")
      return {
        kind: "admin",
        needsBody: true,
        run: (body) => {
          try {
            return { status: 201, body: api.addAlert(body) };
          } catch (e) {
            throw new SimulatorHttpError(400, "InvalidInput", (e as Error).message);
          }
        },
      };
    if (s.length === 5 && s[1] === "actions" && s[3] === "results" && method === "GET")
      return {
        kind: "admin",
        needsBody: false,
        run: async () => {
          try {
            return { status: 200, body: await api.expectedResult(segments[2]!, Number(segments[4])) };
          } catch (e) {
            if (e instanceof SimulatorHttpError) throw e;
            throw new SimulatorHttpError(404, "ResourceNotFound", (e as Error).message);
          }
        },
      };
  }
  return null;
}
