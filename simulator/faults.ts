import { setTimeout as sleep } from "node:timers/promises";
import { createHash } from "node:crypto";
import { SimulatorHttpError } from "./errors";
import { SIMULATOR_ENDPOINTS, type SimulatorEndpoint } from "./stats";

/**
 * Request faults: random 429s, 500s and dropped connections on the MDE endpoints, plus latency.
 * Every draw comes from a seeded generator, so a test making the same calls in the same order sees
 * exactly the same faults (issue 3, "Survive the real world").
 */

/** A latency in milliseconds: fixed, or uniform in `[min, max]`. */
export type LatencySetting = number | { min: number; max: number };

/**
 * Request faults, as the simulator option `faults` and the scenario field `faults`. Rates are
 * probabilities per request (their sum at most 1); one draw per request picks at most one fault.
 */
export interface FaultOptions {
  /** Probability of a 429 `TooManyRequests` with `Retry-After`. @default 0 */
  throttleRate?: number;
  /** Probability of a 500 `InternalServerError`. @default 0 */
  serverErrorRate?: number;
  /** Probability that the connection is destroyed without an answer. @default 0 */
  dropRate?: number;
  /** Seed of the random stream. @default 1 (per machine: the global seed mixed with the machine id) */
  seed?: number;
  /** `Retry-After` of injected 429s, in seconds. @default 1 */
  retryAfterSeconds?: number;
  /**
   * On POST endpoints (runliveresponse, cancel), the share of injected 500s and drops that happen
   * AFTER the request was handled: the action exists (or is cancelled) but the caller sees a failure.
   * That ambiguous failure is what the product must not turn into a duplicate action. @default 0.5
   */
  failAfterCommitRate?: number;
  /** Real time added before answering (also before a drop). Drawn from its own stream, so it never shifts which calls fail. @default 0 */
  latencyMs?: LatencySetting;
  /** Only these endpoints get faults and latency. @default every MDE endpoint */
  endpoints?: SimulatorEndpoint[];
}

/** {@link FaultOptions} with defaults applied (`endpoints: null` = all). */
export interface ResolvedFaults {
  throttleRate: number;
  serverErrorRate: number;
  dropRate: number;
  seed: number;
  retryAfterSeconds: number;
  failAfterCommitRate: number;
  latencyMs: { min: number; max: number };
  endpoints: SimulatorEndpoint[] | null;
}

/** The request faults that can be injected. */
export type RequestFaultKind = "tooManyRequests" | "serverError" | "drop";

/** What happens to one request. `fault: null` = answered normally (after `latencyMs`). */
export interface FaultPlan {
  fault: { kind: RequestFaultKind; afterCommit: boolean; retryAfterSeconds: number } | null;
  latencyMs: number;
}

/** No fault, no latency. */
export const NO_FAULT: FaultPlan = Object.freeze({ fault: null, latencyMs: 0 });

export const DEFAULT_FAULT_SEED = 1;
const DEFAULTS: Omit<ResolvedFaults, "seed"> = {
  throttleRate: 0,
  serverErrorRate: 0,
  dropRate: 0,
  retryAfterSeconds: 1,
  failAfterCommitRate: 0.5,
  latencyMs: { min: 0, max: 0 },
  endpoints: null,
};

/**
 * Validates fault options (from code, a scenario, or `POST /simulator/machines`) and returns only the
 * fields given, normalized; problems are appended to `problems`, prefixed with `path`.
 */
export function validateFaultOptions(input: unknown, problems: string[], path = "faults"): FaultOptions | null {
  if (input === undefined || input === null) return null;
  if (typeof input !== "object" || Array.isArray(input)) {
    problems.push(`${path} must be an object`);
    return null;
  }
  const f = input as Record<string, unknown>;
  const out: FaultOptions = {};
  const probability = (v: unknown) => typeof v === "number" && v >= 0 && v <= 1;
  const nonNegative = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;
  for (const key of ["throttleRate", "serverErrorRate", "dropRate", "failAfterCommitRate"] as const) {
    if (f[key] === undefined) continue;
    if (probability(f[key])) out[key] = f[key] as number;
    else problems.push(`${path}.${key} must be a number between 0 and 1`);
  }
  if ((out.throttleRate ?? 0) + (out.serverErrorRate ?? 0) + (out.dropRate ?? 0) > 1)
    problems.push(`${path}: throttleRate + serverErrorRate + dropRate must be at most 1`);
  if (f.seed !== undefined) {
    if (Number.isSafeInteger(f.seed)) out.seed = f.seed as number;
    else problems.push(`${path}.seed must be an integer`);
  }
  if (f.retryAfterSeconds !== undefined) {
    if (Number.isInteger(f.retryAfterSeconds) && (f.retryAfterSeconds as number) >= 0)
      out.retryAfterSeconds = f.retryAfterSeconds as number;
    else problems.push(`${path}.retryAfterSeconds must be an integer >= 0`);
  }
  const latency = f.latencyMs;
  if (latency !== undefined) {
    const range = typeof latency === "object" && latency !== null ? (latency as Record<string, unknown>) : undefined;
    if (nonNegative(latency)) out.latencyMs = latency;
    else if (range && nonNegative(range.min) && nonNegative(range.max) && range.min <= range.max)
      out.latencyMs = { min: range.min, max: range.max };
    else problems.push(`${path}.latencyMs must be a number >= 0 or { min, max } with 0 <= min <= max`);
  }
  if (f.endpoints !== undefined) {
    const known = SIMULATOR_ENDPOINTS as readonly string[];
    if (Array.isArray(f.endpoints) && f.endpoints.every((e) => known.includes(e as string)))
      out.endpoints = [...(f.endpoints as SimulatorEndpoint[])];
    else problems.push(`${path}.endpoints must be a list of ${known.join(", ")}`);
  }
  return out;
}

/** Applies defaults: each field of `options`, else of `base` (a machine's faults fall back to the simulator's), else the default. */
export function resolveFaults(options: FaultOptions | null | undefined, base?: ResolvedFaults): ResolvedFaults {
  const o = options ?? {};
  const b: ResolvedFaults = base ?? { ...DEFAULTS, seed: DEFAULT_FAULT_SEED };
  const latency =
    o.latencyMs === undefined ? b.latencyMs : typeof o.latencyMs === "number" ? { min: o.latencyMs, max: o.latencyMs } : { ...o.latencyMs };
  return {
    throttleRate: o.throttleRate ?? b.throttleRate,
    serverErrorRate: o.serverErrorRate ?? b.serverErrorRate,
    dropRate: o.dropRate ?? b.dropRate,
    seed: o.seed ?? b.seed,
    retryAfterSeconds: o.retryAfterSeconds ?? b.retryAfterSeconds,
    failAfterCommitRate: o.failAfterCommitRate ?? b.failAfterCommitRate,
    latencyMs: latency,
    endpoints: o.endpoints ? [...o.endpoints] : b.endpoints,
  };
}

/** mulberry32: tiny, fast, and identical on every platform, which is all reproducibility needs. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed from several parts (the global seed and a machine id give each machine its own stream). */
function mixSeed(...parts: Array<string | number>): number {
  return createHash("sha256").update(parts.join("\n"), "utf8").digest().readUInt32BE(0);
}

/** One configuration's random streams: faults and latency draw separately so adding latency never changes which calls fail. */
class FaultStream {
  private readonly faultRandom: () => number;
  private readonly latencyRandom: () => number;
  constructor(
    readonly config: ResolvedFaults,
    seed: number,
  ) {
    this.faultRandom = seededRandom(seed);
    this.latencyRandom = seededRandom(mixSeed(seed, "latency"));
  }

  plan(endpoint: SimulatorEndpoint, method: string): FaultPlan {
    const c = this.config;
    if (c.endpoints && !c.endpoints.includes(endpoint)) return NO_FAULT;
    const { min, max } = c.latencyMs;
    const latencyMs = max === 0 ? 0 : Math.round(min + (max - min) * this.latencyRandom());
    if (c.throttleRate + c.serverErrorRate + c.dropRate === 0) return { fault: null, latencyMs };
    const u = this.faultRandom();
    const kind: RequestFaultKind | null =
      u < c.throttleRate
        ? "tooManyRequests"
        : u < c.throttleRate + c.serverErrorRate
          ? "serverError"
          : u < c.throttleRate + c.serverErrorRate + c.dropRate
            ? "drop"
            : null;
    if (!kind) return { fault: null, latencyMs };
    // A gateway throttles before anything happens; a 500 or a lost connection can come after the work was done.
    const afterCommit = kind !== "tooManyRequests" && method === "POST" && this.faultRandom() < c.failAfterCommitRate;
    return { fault: { kind, afterCommit, retryAfterSeconds: c.retryAfterSeconds }, latencyMs };
  }
}

/** The device-specific part of a scenario that request faults need. */
export interface FaultSubject {
  machineId: string;
  faults: FaultOptions | null;
}

/**
 * Decides the fault of each MDE request. A request about a machine whose scenario has `faults`
 * (runliveresponse on it, or GET/cancel/download link of one of its actions) uses that machine's
 * faults (each field falling back to the simulator's) and the machine's own random stream; every
 * other request uses the simulator's `faults`. Draws happen in request arrival order, so
 * sequential calls are exactly reproducible.
 */
export class FaultInjector {
  private readonly global: FaultStream;
  private readonly perMachine = new Map<string, FaultStream>();

  /** @throws Error naming every invalid option */
  constructor(options: FaultOptions | undefined) {
    const problems: string[] = [];
    const valid = validateFaultOptions(options, problems);
    if (problems.length > 0) throw new Error(`Invalid simulator option: ${problems.join("; ")}`);
    const config = resolveFaults(valid);
    this.global = new FaultStream(config, config.seed);
  }

  plan(endpoint: SimulatorEndpoint, method: string, subject: FaultSubject | undefined): FaultPlan {
    return this.streamFor(subject).plan(endpoint, method);
  }

  private streamFor(subject: FaultSubject | undefined): FaultStream {
    if (!subject?.faults) return this.global;
    let stream = this.perMachine.get(subject.machineId);
    if (!stream) {
      // An explicit machine seed wins; else one derived from the global seed and the machine id, so machines never share draws.
      const seed = subject.faults.seed ?? mixSeed(this.global.config.seed, subject.machineId);
      stream = new FaultStream(resolveFaults(subject.faults, this.global.config), seed);
      this.perMachine.set(subject.machineId, stream);
    }
    return stream;
  }
}

/** The error answer of an injected 429 or 500 (the MDE envelope; server.ts renders it). */
export function injectedError(fault: NonNullable<FaultPlan["fault"]>): SimulatorHttpError {
  return fault.kind === "tooManyRequests"
    ? new SimulatorHttpError(429, "TooManyRequests", "Rate limit exceeded. Try again later. (injected fault)", fault.retryAfterSeconds)
    : new SimulatorHttpError(500, "InternalServerError", "An unexpected error occurred (injected fault)");
}

/** Waits `ms` of real time (latency is real: clients' timeouts and the soak measure it). */
export async function applyLatency(ms: number): Promise<void> {
  if (ms > 0) await sleep(ms);
}

/** The stats key of an applied fault: `serverErrorAfterCommit` and `dropAfterCommit` are counted apart. */
export function faultStatKind(
  fault: NonNullable<FaultPlan["fault"]>,
): "tooManyRequests" | "serverError" | "drop" | "serverErrorAfterCommit" | "dropAfterCommit" {
  return fault.afterCommit ? (fault.kind === "drop" ? "dropAfterCommit" : "serverErrorAfterCommit") : fault.kind;
}
