import { loadConfig } from "../../../shared/config";
import { ConfigError } from "../../../shared/errors";
import { ENTRA_TEST_SETTINGS } from "../../support/settings";

const production = { ...ENTRA_TEST_SETTINGS, EVIDENCE_STORAGE_ACCOUNT_URL: "https://contosoevidence.blob.core.windows.net" };

function problemsOf(env: Record<string, string>): { setting: string; problem: string }[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig: MANIFEST_TIMESTAMP_URL", () => {
  it("is off when absent or empty", () => {
    expect(loadConfig(production)).not.toHaveProperty("manifestTimestamp");
    expect(loadConfig({ ...production, MANIFEST_TIMESTAMP_URL: "  " })).not.toHaveProperty("manifestTimestamp");
  });

  it("takes an http or https TSA URL (a token protects itself by its signature)", () => {
    expect(loadConfig({ ...production, MANIFEST_TIMESTAMP_URL: "http://timestamp.example.com" }).manifestTimestamp).toEqual({
      url: "http://timestamp.example.com/",
    });
    expect(loadConfig({ ...production, MANIFEST_TIMESTAMP_URL: "https://tsa.example.com/rfc3161" }).manifestTimestamp).toEqual({
      url: "https://tsa.example.com/rfc3161",
    });
  });

  it("refuses another scheme, credentials and query strings, naming the setting and never echoing the value", () => {
    for (const bad of [
      "tsa.example.com",
      "ftp://tsa.example.com/",
      "https://user:secret@tsa.example.com/",
      "https://tsa.example.com/?key=secret",
      "https://tsa.example.com/#secret",
    ]) {
      const problems = problemsOf({ ...production, MANIFEST_TIMESTAMP_URL: bad });
      expect(problems).toEqual([{ setting: "MANIFEST_TIMESTAMP_URL", problem: expect.any(String) }]);
      expect(JSON.stringify(problems)).not.toContain("secret");
    }
  });
});
