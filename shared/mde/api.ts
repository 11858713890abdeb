import type { LibraryFile, LibraryUpload, LiveResponseRequest, Machine, MachineAction } from "./models";

/** Per-call options, following the Azure SDK convention of an options bag with an abort signal. */
export interface OperationOptions {
  abortSignal?: AbortSignal;
}

/**
 * The MDE live response operations the collector uses. `MdeClient` implements it; activities
 * depend on this interface so they can be tested with a fake.
 * Every method throws `MdeApiError` for an error answer (statusCode, MDE code, target, retryAfterInMs).
 */
export interface MdeApi {
  /** POST /api/machines/{id}/runliveresponse (201, or 200 as in one documented example). */
  runLiveResponse(machineId: string, request: LiveResponseRequest, options?: OperationOptions): Promise<MachineAction>;
  /** GET /api/machineactions/{id} */
  getMachineAction(actionId: string, options?: OperationOptions): Promise<MachineAction>;
  /**
   * GET /api/machineactions/{id}, the body as MDE sent it (every field, unmapped), for the manifest.
   * Optional so that wrappers written before it still fit; the manifest records `unavailable` without it.
   */
  getMachineActionAsReturned?(actionId: string, options?: OperationOptions): Promise<Record<string, unknown>>;
  /** GET /api/machineactions?$filter=...&$top=... */
  listMachineActions(query: { filter?: string; top?: number }, options?: OperationOptions): Promise<MachineAction[]>;
  /** GET /api/machineactions/{id}/GetLiveResponseResultDownloadLink(index=N): the SAS URL, valid 30 minutes. */
  getLiveResponseResultDownloadLink(actionId: string, commandIndex: number, options?: OperationOptions): Promise<string>;
  /** POST /api/machineactions/{id}/cancel with `{ Comment }`. */
  cancelMachineAction(actionId: string, comment: string, options?: OperationOptions): Promise<MachineAction>;
  /** GET /api/machines?$filter=...&$top=... (collection plans select devices with it). */
  listMachines(query: { filter?: string; top?: number }, options?: OperationOptions): Promise<Machine[]>;
  /**
   * GET /api/alerts/{id}?$expand=evidence: the alert entity as MDE sends it (parse it with
   * shared/alerts/mde.ts). Needs Alert.Read.All.
   */
  getAlert(alertId: string, options?: OperationOptions): Promise<Record<string, unknown>>;
  /**
   * GET /api/libraryfiles: every file of the tenant's live response library, with its SHA-256
   * (https://learn.microsoft.com/defender-endpoint/api/list-library-files). Needs Library.Manage, the only
   * permission that page names. Optional so that wrappers written before it still fit; without it the
   * library check refuses RunScript and PutFile (it cannot see what would run).
   */
  listLibraryFiles?(options?: OperationOptions): Promise<LibraryFile[]>;
  /**
   * POST /api/libraryfiles, multipart form (https://learn.microsoft.com/defender-endpoint/api/upload-library):
   * 20 MB per file, Library.Manage. Used by `npm run library:sync`, never by the collector itself.
   */
  uploadLibraryFile?(upload: LibraryUpload, options?: OperationOptions): Promise<LibraryFile>;
}
