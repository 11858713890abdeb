/** The MDE endpoints the simulator serves, as named in `stats()`. */
export const SIMULATOR_ENDPOINTS = ["runLiveResponse", "getMachineAction", "listMachineActions", "getDownloadLink", "cancelMachineAction"] as const;
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
}

const perEndpoint = (): Record<SimulatorEndpoint, number> =>
  Object.fromEntries(SIMULATOR_ENDPOINTS.map((e) => [e, 0])) as Record<SimulatorEndpoint, number>;

/** Mutable counters behind `stats()`. */
export class StatsRecorder {
  private readonly data: SimulatorStats = { calls: perEndpoint(), throttled: perEndpoint(), tooManyRequests: 0, clientErrors: 0, byStatus: {} };

  record(endpoint: SimulatorEndpoint | null, status: number): void {
    if (endpoint) this.data.calls[endpoint]++;
    if (status === 429) {
      this.data.tooManyRequests++;
      if (endpoint) this.data.throttled[endpoint]++;
    }
    if (status >= 400 && status < 500) this.data.clientErrors++;
    this.data.byStatus[String(status)] = (this.data.byStatus[String(status)] ?? 0) + 1;
  }

  snapshot(): SimulatorStats {
    return structuredClone(this.data);
  }
}
