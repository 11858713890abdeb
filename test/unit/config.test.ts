import { readFileSync } from "node:fs";
import path from "node:path";
import { loadConfig } from "../../shared/config";
import { ConfigError } from "../../shared/errors";

const minimal = { EVIDENCE_STORAGE_ACCOUNT_URL: "https://contosoevidence.blob.core.windows.net" };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.map((p) => p.setting);
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    const c = loadConfig(minimal);
    expect(c.mde.baseUrl).toBe("https://api.security.microsoft.com");
    expect(c.mde.tokenScope).toBe("https://api.securitycenter.microsoft.com/.default");
    expect(c.mde.useDevelopmentToken).toBe(false);
    expect(c.evidence).toMatchObject({ container: "evidence", prefix: "liveresponse", allowLoopbackHttp: false });
    expect(c.collection.queueWindowInMs).toBe(3 * 24 * 3600_000);
    expect(c.collection.pollInitialDelayInMs).toBe(15_000);
    expect(c.collection.pollMaxDelayInMs).toBe(900_000);
  });

  it("derives the US Government token scope from the base URL", () => {
    const c = loadConfig({ ...minimal, MDE_API_BASE_URL: "https://api-gov.securitycenter.microsoft.us" });
    expect(c.mde.tokenScope).toBe("https://api-gov.securitycenter.microsoft.us/.default");
  });

  it("names every bad setting in one error", () => {
    expect(
      problemsOf({
        MDE_API_BASE_URL: "not a url",
        EVIDENCE_CONTAINER: "Bad_Name",
        EVIDENCE_PREFIX: "/leading",
        COLLECTION_POLL_INITIAL_SECONDS: "-1",
        LOCAL_DEVELOPMENT: "maybe",
        AZURE_CLIENT_ID: "not-a-guid",
      }).sort(),
    ).toEqual(["AZURE_CLIENT_ID", "COLLECTION_POLL_INITIAL_SECONDS", "EVIDENCE_CONTAINER", "EVIDENCE_PREFIX", "EVIDENCE_STORAGE_ACCOUNT_URL", "LOCAL_DEVELOPMENT", "MDE_API_BASE_URL"]);
  });

  it("requires exactly one evidence destination", () => {
    expect(problemsOf({})).toEqual(["EVIDENCE_STORAGE_ACCOUNT_URL"]);
    expect(problemsOf({ ...minimal, EVIDENCE_STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true" })).toEqual(["EVIDENCE_STORAGE_CONNECTION_STRING"]);
  });

  it("refuses an http MDE URL unless it is a loopback simulator in local development", () => {
    expect(problemsOf({ ...minimal, MDE_API_BASE_URL: "http://api.security.microsoft.com" })).toEqual(["MDE_API_BASE_URL"]);
    expect(problemsOf({ ...minimal, MDE_API_BASE_URL: "http://127.0.0.1:7072" })).toEqual(["MDE_API_BASE_URL"]);
    const c = loadConfig({ ...minimal, MDE_API_BASE_URL: "http://127.0.0.1:7072/", LOCAL_DEVELOPMENT: "true" });
    expect(c.mde).toMatchObject({ baseUrl: "http://127.0.0.1:7072", useDevelopmentToken: true });
    expect(c.evidence.allowLoopbackHttp).toBe(true);
  });

  it("never uses the development token against a real MDE host, even in local development", () => {
    const c = loadConfig({ ...minimal, LOCAL_DEVELOPMENT: "true" });
    expect(c.mde.useDevelopmentToken).toBe(false);
  });

  it("accepts local.settings.sample.json as it is, and the sample lists every setting the loader reads", () => {
    const sample = JSON.parse(readFileSync(path.join(__dirname, "../../local.settings.sample.json"), "utf8")) as { Values: Record<string, string> };
    expect(() => loadConfig(sample.Values)).not.toThrow();
    const loaderSource = readFileSync(path.join(__dirname, "../../shared/config.ts"), "utf8");
    const read = new Set([...loaderSource.matchAll(/"((?:MDE|EVIDENCE|COLLECTION|LOCAL)_[A-Z_]+)"/g)].map((m) => m[1]));
    expect([...read].filter((name) => !(name in sample.Values))).toEqual([]);
  });
});
