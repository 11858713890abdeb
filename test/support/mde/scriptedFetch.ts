/**
 * A scripted fake `fetch` for client tests: answers from a queue, records every request.
 * No sockets: unit tests never touch the network.
 */
import type { LogProperties, Logger } from "../../../shared/log";

export type Step =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { throws: unknown }
  /** Never answers; rejects with the signal's reason when the request is aborted. */
  | { hang: true };

export interface RecordedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface ScriptedFetch {
  fetch: typeof fetch;
  requests: RecordedRequest[];
  /** Steps not consumed yet. */
  remaining(): number;
}

export function scriptedFetch(...steps: Step[]): ScriptedFetch {
  const queue = [...steps];
  const requests: RecordedRequest[] = [];
  const fake = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const text = typeof init?.body === "string" ? init.body : undefined;
    requests.push({ url: String(input), method: init?.method ?? "GET", headers, body: text === undefined ? undefined : JSON.parse(text) });
    const step = queue.shift();
    if (!step) throw new Error(`scriptedFetch: no response scripted for request ${requests.length}`);
    if ("throws" in step) throw step.throws;
    if ("hang" in step) {
      return new Promise<Response>((_, reject) => {
        const signal = init?.signal;
        if (!signal) return;
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    }
    const body = step.body === undefined ? null : typeof step.body === "string" ? step.body : JSON.stringify(step.body);
    return new Response(body, { status: step.status, headers: { "content-type": "application/json", ...step.headers } });
  };
  return { fetch: fake as typeof fetch, requests, remaining: () => queue.length };
}

export interface LogEntry {
  level: "info" | "warn" | "error";
  message: string;
  properties: LogProperties;
}

/** A Logger that keeps every entry, to assert what is (and is not) logged. */
export function capturingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const write =
    (level: LogEntry["level"]) =>
    (message: string, properties: LogProperties = {}) => {
      entries.push({ level, message, properties });
    };
  return { entries, info: write("info"), warn: write("warn"), error: write("error") };
}

/** A fetch-style network failure: undici rejects with TypeError("fetch failed") and the socket error as cause. */
export function networkError(code = "ECONNRESET"): TypeError {
  return new TypeError("fetch failed", { cause: Object.assign(new Error(`read ${code}`), { code }) });
}
