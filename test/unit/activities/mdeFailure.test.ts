import { expectedMdeFailure } from "../../../activities/mdeFailure";
import { CollectorError, MdeApiError } from "../../../shared/errors";

const apiError = (statusCode: number | undefined, retryAfterInMs?: number) =>
  new MdeApiError({ statusCode, code: `E${statusCode}`, message: "m", target: "t-1", retryAfterInMs });

describe("expectedMdeFailure", () => {
  it.each([
    ["with MDE's Retry-After", 4000],
    ["without a Retry-After", undefined],
  ])("turns a 429 into throttled, %s", (_what, retryAfterInMs) => {
    expect(expectedMdeFailure(apiError(429, retryAfterInMs))).toStrictEqual({ kind: "throttled", retryAfterInMs });
  });

  it.each([400, 401, 403, 404, 409])(
    "turns a %i, which retrying cannot fix, into rejected with MDE's code and correlation id",
    (statusCode) => {
      expect(expectedMdeFailure(apiError(statusCode))).toEqual({
        kind: "rejected",
        statusCode,
        code: `E${statusCode}`,
        message: "m",
        target: "t-1",
      });
    },
  );

  it.each([
    ["a 500", apiError(500)],
    ["a 503 with Retry-After", apiError(503, 1000)],
    ["a 408", apiError(408)],
    ["an MDE error without a status (network)", apiError(undefined)],
    ["a CollectorError that is not MDE's", new CollectorError("DownloadFailed", "m")],
    ["a plain Error", new Error("m")],
    ["a thrown string", "m"],
  ])("leaves %s to the caller to rethrow (undefined)", (_what, error) => {
    expect(expectedMdeFailure(error)).toBeUndefined();
  });

  it("hands on MDE's message as one line of at most 500 characters, and bounds code and correlation id", () => {
    const e = new MdeApiError({
      statusCode: 403,
      code: "Forbidden\nX",
      message: `line one\r\nline two\u2028${"y".repeat(1000)}`,
      target: `t-1\n${"z".repeat(300)}`,
    });
    const r = expectedMdeFailure(e);
    if (r?.kind !== "rejected") throw new Error("expected rejected");
    expect(r.code).toBe("Forbidden X");
    expect(r.message).toMatch(/^line one line two y+…$/);
    expect(r.message).toHaveLength(500);
    expect(r.target).toHaveLength(100);
    expect(r.target?.startsWith("t-1 z")).toBe(true);
  });
});
