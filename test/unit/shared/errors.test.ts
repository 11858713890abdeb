import { ConfigError, MdeApiError, redactText, redactUrl } from "../../../shared/errors";

describe("redaction", () => {
  it("drops the SAS query of a download link", () => {
    const link = "https://x.blob.core.windows.net/investigation-actions-data/a/b?se=2021&sp=r&sig=SECRET%3D";
    expect(redactUrl(link)).toBe("https://x.blob.core.windows.net/investigation-actions-data/a/b");
    expect(redactText(`GET ${link} failed`)).not.toContain("SECRET");
  });

  it("drops bearer tokens from text", () => {
    expect(redactText("Authorization: Bearer eyJhbGciOi.abc-def_ghi")).toBe("Authorization: Bearer <redacted>");
  });
});

describe("errors", () => {
  it("names every bad setting in a ConfigError", () => {
    const e = new ConfigError([
      { setting: "EVIDENCE_CONTAINER", problem: "required" },
      { setting: "MDE_API_BASE_URL", problem: "must be https" },
    ]);
    expect(e.message).toContain("EVIDENCE_CONTAINER");
    expect(e.message).toContain("MDE_API_BASE_URL");
    expect(e.code).toBe("InvalidConfiguration");
  });

  it("keeps status, code, target and retry-after on MdeApiError", () => {
    const e = new MdeApiError({ statusCode: 429, code: "TooManyRequests", message: "slow down", target: "abc", retryAfterInMs: 5000 });
    expect([e.statusCode, e.code, e.target, e.retryAfterInMs]).toEqual([429, "TooManyRequests", "abc", 5000]);
  });
});
