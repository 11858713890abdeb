import { MdeApiError, CollectorError } from "../../../../shared/errors";
import { isTransientError, nextRetryDelay } from "../../../../shared/mde/retry";
import { networkError } from "../../../support/mde/scriptedFetch";

const http = (statusCode: number, retryAfterInMs?: number) =>
  new MdeApiError({ statusCode, code: `HttpError${statusCode}`, message: "x", retryAfterInMs });

describe("nextRetryDelay", () => {
  it("backs off exponentially from 800 ms, jittered within the upper half", () => {
    const delays = (random: number) =>
      [1, 2, 3].map((attempt) => nextRetryDelay({ attempt, error: http(500), idempotent: true, random: () => random }));
    expect(delays(0)).toEqual([400, 800, 1600].map((delayInMs) => ({ retry: true, delayInMs })));
    expect(delays(0.5)).toEqual([600, 1200, 2400].map((delayInMs) => ({ retry: true, delayInMs })));
    expect(delays(0.999999)).toEqual([800, 1600, 3200].map((delayInMs) => ({ retry: true, delayInMs })));
  });

  it("caps one delay at maxRetryDelayInMs", () => {
    const decision = nextRetryDelay({ attempt: 9, error: http(503), idempotent: true, options: { maxRetries: 10 }, random: () => 1 });
    expect(decision).toEqual({ retry: true, delayInMs: 10_000 });
  });

  it("stops after maxRetries (3 by default)", () => {
    expect(nextRetryDelay({ attempt: 3, error: http(500), idempotent: true, random: () => 0 }).retry).toBe(true);
    expect(nextRetryDelay({ attempt: 4, error: http(500), idempotent: true })).toEqual({ retry: false });
    expect(nextRetryDelay({ attempt: 1, error: http(500), idempotent: true, options: { maxRetries: 0 } })).toEqual({ retry: false });
  });

  it("takes overrides and ignores undefined ones", () => {
    const decision = nextRetryDelay({
      attempt: 2,
      error: http(502),
      idempotent: true,
      options: { retryDelayInMs: 100, maxRetryDelayInMs: undefined },
      random: () => 0,
    });
    expect(decision).toEqual({ retry: true, delayInMs: 100 });
  });

  it.each([408, 500, 502, 503, 504])("retries %i on an idempotent request", (status) => {
    expect(nextRetryDelay({ attempt: 1, error: http(status), idempotent: true }).retry).toBe(true);
  });

  it("never retries 429 in-process, however short its Retry-After: the orchestrator's timers wait", () => {
    expect(nextRetryDelay({ attempt: 1, error: http(429, 1000), idempotent: true })).toEqual({ retry: false });
    expect(nextRetryDelay({ attempt: 1, error: http(429), idempotent: true })).toEqual({ retry: false });
  });

  it.each([400, 401, 403, 404, 409])("never retries %i", (status) => {
    expect(nextRetryDelay({ attempt: 1, error: http(status), idempotent: true })).toEqual({ retry: false });
  });

  it("never retries a non-idempotent request, even on 500 or a network error", () => {
    for (const error of [http(500), http(503), networkError(), new MdeApiError({ code: "NetworkError", message: "x" })]) {
      expect(nextRetryDelay({ attempt: 1, error, idempotent: false })).toEqual({ retry: false });
    }
  });

  it("waits a 503's Retry-After when it fits under the cap, and surfaces a longer one", () => {
    expect(nextRetryDelay({ attempt: 1, error: http(503, 2000), idempotent: true })).toEqual({ retry: true, delayInMs: 2000 });
    expect(nextRetryDelay({ attempt: 1, error: http(503, 60_000), idempotent: true })).toEqual({ retry: false });
  });
});

describe("isTransientError", () => {
  it("counts network failures and the client's own timeout as transient", () => {
    expect(isTransientError(networkError("ECONNRESET"))).toBe(true);
    expect(isTransientError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))).toBe(true);
    expect(isTransientError(new DOMException("The operation timed out.", "TimeoutError"))).toBe(true);
    expect(isTransientError(new MdeApiError({ code: "NetworkError", message: "x" }))).toBe(true);
    expect(isTransientError(new MdeApiError({ code: "RequestTimeout", message: "x" }))).toBe(true);
  });

  it("does not count the caller's abort, unexpected answers or non-errors", () => {
    expect(isTransientError(new DOMException("This operation was aborted", "AbortError"))).toBe(false);
    expect(isTransientError(new CollectorError("UnexpectedResponse", "x"))).toBe(false);
    expect(isTransientError(new MdeApiError({ code: "TokenUnavailable", message: "x" }))).toBe(false);
    expect(isTransientError(new Error("boom"))).toBe(false);
    expect(isTransientError("ECONNRESET")).toBe(false);
  });
});
