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
});
