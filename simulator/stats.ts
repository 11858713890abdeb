/** The MDE endpoints the simulator serves, as named in `stats()`. */
export const SIMULATOR_ENDPOINTS = [
  "runLiveResponse",
  "getMachineAction",
  "listMachineActions",
  "getDownloadLink",
  "cancelMachineAction",
  "listMachines",
  "getAlert",
  "listLibraryFiles",
  "uploadLibraryFile",
  "listAlertsV2",
] as const;
export type SimulatorEndpoint = (typeof SIMULATOR_ENDPOINTS)[number];

/** What the simulator answered, for tests asserting how a client behaved (polling rate, retries). */
export interface SimulatorStats {
  /** Requests per endpoint, whatever the answer (401s included). */
  calls: Record<SimulatorEndpoint, number>;
  /** 429 answers per endpoint. */
  throttled: Record<SimulatorEndpoint, number>;
  /** All 429 answers. */
  tooManyRequests: number;
  /** All 4xx answers, 429 and 401 included. */
  clientErrors: number;
  /** Answers by HTTP status, e.g. `{ "200": 12, "201": 1, "429": 2 }`, admin endpoints excluded. */
  byStatus: Record<string, number>;
  /**
   * Faults injected on purpose (faults.ts, downloadProxy.ts), by kind, then by endpoint (`download`
   * for the download proxy). Injected 429s and 500s also count in `throttled`, `byStatus`, ...;
   * a dropped connection counts in `calls` only (it has no answer).
   */
  faultsInjected: Record<InjectedFaultKind, Partial<Record<SimulatorEndpoint | "download", number>>>;
}

/** Kinds of injected faults, as counted in `stats().faultsInjected`. */
export const INJECTED_FAULT_KINDS = [
  "tooManyRequests",
  "serverError",
  "drop",
  "serverErrorAfterCommit",
  "dropAfterCommit",
  "brokenDownload",
] as const;
export type InjectedFaultKind = (typeof INJECTED_FAULT_KINDS)[number];

const perEndpoint = (): Record<SimulatorEndpoint, number> =>
  Object.fromEntries(SIMULATOR_ENDPOINTS.map((e) => [e, 0])) as Record<SimulatorEndpoint, number>;

/** Mutable counters behind `stats()`. */
export class StatsRecorder {
  private readonly data: SimulatorStats = {
    calls: perEndpoint(),
    throttled: perEndpoint(),
    tooManyRequests: 0,
    clientErrors: 0,
    byStatus: {},
    faultsInjected: Object.fromEntries(INJECTED_FAULT_KINDS.map((k) => [k, {}])) as SimulatorStats["faultsInjected"],
  };

  record(endpoint: SimulatorEndpoint | null, status: number): void {
    if (endpoint) this.data.calls[endpoint]++;
    if (status === 429) {
      this.data.tooManyRequests++;
      if (endpoint) this.data.throttled[endpoint]++;
    }
    if (status >= 400 && status < 500) this.data.clientErrors++;
    this.data.byStatus[String(status)] = (this.data.byStatus[String(status)] ?? 0) + 1;
  }

  /** Counts an injected fault; a dropped connection on an MDE endpoint also counts as a call (with no answer to `record`). */
  recordFault(kind: InjectedFaultKind, where: SimulatorEndpoint | "download"): void {
    const perWhere = this.data.faultsInjected[kind];
    perWhere[where] = (perWhere[where] ?? 0) + 1;
    if ((kind === "drop" || kind === "dropAfterCommit") && where !== "download") this.data.calls[where]++;
  }

  snapshot(): SimulatorStats {
    return structuredClone(this.data);
  }
}
