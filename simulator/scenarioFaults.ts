import { validateFaultOptions, type FaultOptions } from "./faults";

/**
 * The fault fields of a machine scenario (issue 3, "Survive the real world"), kept apart from
 * scenarios.ts so the device's behaviour and the injected faults read separately.
 */
export interface MachineFaultFields {
  /**
   * Request faults and latency for calls about this machine; each field falls back to the simulator's
   * `faults` (faults.ts). @default none
   */
  faults?: FaultOptions;
  /** Lifetime of this machine's download links, on the real clock. @default the simulator's `linkTtlInMs` */
  linkTtlInMs?: number;
  /** Serve this machine's results through the simulator's download proxy (downloadProxy.ts) even without download faults. @default false */
  proxyDownloads?: boolean;
  /** Download fault: a proxied download is cut (socket destroyed) after this many body bytes. Implies the proxy. @default none */
  breakDownloadsAfterBytes?: number;
  /**
   * How many downloads are cut (only responses longer than `breakDownloadsAfterBytes` count).
   * @default 1 when `breakDownloadsAfterBytes` is set
   */
  brokenDownloads?: number;
  /**
   * Download fault: proxied downloads stream at this rate (so a short-lived link can expire mid-copy).
   * Implies the proxy. @default unthrottled
   */
  slowDownloadBytesPerSecond?: number;
  /**
   * How GetFile results are stored: `true` gzip (like MDE), `false` raw, `"stored"` gzip at level 0
   * (a valid gzip stream at copy speed: the simulated content is incompressible anyway). @default true
   */
  getFileCompress?: boolean | "stored";
}

/** {@link MachineFaultFields} with defaults applied. */
export interface ResolvedMachineFaultFields {
  faults: FaultOptions | null;
  linkTtlInMs: number | null;
  proxyDownloads: boolean;
  breakDownloadsAfterBytes: number | null;
  brokenDownloads: number;
  slowDownloadBytesPerSecond: number | null;
  getFileCompress: boolean | "stored";
}

/** Validates the fault fields of a raw scenario object, appending problems; returns them resolved. */
export function resolveMachineFaultFields(s: Record<string, unknown>, problems: string[]): ResolvedMachineFaultFields {
  const integerAtLeast = (key: string, min: number): number | null => {
    const v = s[key];
    if (v === undefined || v === null) return null;
    if (Number.isSafeInteger(v) && (v as number) >= min) return v as number;
    problems.push(`${key} must be an integer >= ${min}`);
    return null;
  };
  const boolean = (key: string, fallback: boolean, expected = "a boolean"): boolean => {
    const v = s[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v === "boolean") return v;
    problems.push(`${key} must be ${expected}`);
    return fallback;
  };
  const breakAfter = integerAtLeast("breakDownloadsAfterBytes", 0);
  return {
    faults: validateFaultOptions(s.faults, problems),
    linkTtlInMs: integerAtLeast("linkTtlInMs", 1),
    proxyDownloads: boolean("proxyDownloads", false),
    breakDownloadsAfterBytes: breakAfter,
    brokenDownloads: integerAtLeast("brokenDownloads", 0) ?? (breakAfter === null ? 0 : 1),
    slowDownloadBytesPerSecond: integerAtLeast("slowDownloadBytesPerSecond", 1),
    getFileCompress: s.getFileCompress === "stored" ? "stored" : boolean("getFileCompress", true, 'true, false or "stored"'),
  };
}

/** Whether this machine's links go through the download proxy rather than straight to Azurite. */
export function needsDownloadProxy(m: ResolvedMachineFaultFields): boolean {
  return m.proxyDownloads || (m.breakDownloadsAfterBytes !== null && m.brokenDownloads > 0) || m.slowDownloadBytesPerSecond !== null;
}
