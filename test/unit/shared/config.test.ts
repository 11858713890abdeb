import { readFileSync } from "node:fs";
import path from "node:path";
import { loadConfig } from "../../../shared/config";
import { ConfigError } from "../../../shared/errors";

const TENANT = "11111111-2222-3333-4444-555555555555";
const minimal = {
  EVIDENCE_STORAGE_ACCOUNT_URL: "https://contosoevidence.blob.core.windows.net",
  AUTH_TENANT_ID: TENANT,
  AUTH_AUDIENCE: "api://mde-live-response-collector",
  MANIFEST_SIGNING_KEY_ID: "https://kv-collector-test.vault.azure.net/keys/manifest-signing",
  // The host storage account holds the collector's state (shared/stateStorageSettings.ts).
  AzureWebJobsStorage__blobServiceUri: "https://contosohost.blob.core.windows.net",
};
const DEV_JWKS = JSON.stringify({ keys: [{ kty: "RSA", n: "AQAB", e: "AQAB", kid: "k" }] });

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
    expect(c.evidence).toMatchObject({ container: "evidence", prefix: "liveresponse", sourceHosts: { allowLoopback: false } });
    expect(c.auth).toMatchObject({
      mode: "entra",
      tenantId: TENANT,
      audiences: ["api://mde-live-response-collector"],
      authorityHost: "https://login.microsoftonline.com",
    });
    expect(c.limits).toEqual({ maxInFlight: 500, maxInFlightPerCaller: 50, maxDevicesPerAlert: 5 });
    expect(c.allowUncPaths).toBe(false);
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
        AUTH_TENANT_ID: TENANT,
        AUTH_AUDIENCE: "api://collector",
        AzureWebJobsStorage: "not a connection string",
      }).sort(),
    ).toEqual([
      "AZURE_CLIENT_ID",
      "AzureWebJobsStorage",
      "COLLECTION_POLL_INITIAL_SECONDS",
      "EVIDENCE_CONTAINER",
      "EVIDENCE_PREFIX",
      "EVIDENCE_STORAGE_ACCOUNT_URL",
      "LOCAL_DEVELOPMENT",
      "MANIFEST_SIGNING_KEY_ID",
      "MDE_API_BASE_URL",
    ]);
  });

  it("requires exactly one evidence destination", () => {
    expect(
      problemsOf({
        AUTH_TENANT_ID: TENANT,
        AUTH_AUDIENCE: "api://collector",
        MANIFEST_SIGNING_KEY_ID: minimal.MANIFEST_SIGNING_KEY_ID,
        AzureWebJobsStorage__blobServiceUri: minimal.AzureWebJobsStorage__blobServiceUri,
      }),
    ).toEqual(["EVIDENCE_STORAGE_ACCOUNT_URL"]);
    expect(problemsOf({ ...minimal, EVIDENCE_STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true" })).toEqual([
      "EVIDENCE_STORAGE_CONNECTION_STRING",
    ]);
  });

  it("refuses an http MDE URL unless it is a loopback simulator in local development", () => {
    expect(problemsOf({ ...minimal, MDE_API_BASE_URL: "http://api.security.microsoft.com" })).toEqual(["MDE_API_BASE_URL"]);
    expect(problemsOf({ ...minimal, MDE_API_BASE_URL: "http://127.0.0.1:7072" })).toEqual(["MDE_API_BASE_URL"]);
    const c = loadConfig({ ...minimal, MDE_API_BASE_URL: "http://127.0.0.1:7072/", LOCAL_DEVELOPMENT: "true" });
    expect(c.mde).toMatchObject({ baseUrl: "http://127.0.0.1:7072", useDevelopmentToken: true });
    expect(c.evidence.sourceHosts.allowLoopback).toBe(true);
  });

  it("never uses the development token against a real MDE host, even in local development", () => {
    const c = loadConfig({ ...minimal, LOCAL_DEVELOPMENT: "true" });
    expect(c.mde.useDevelopmentToken).toBe(false);
  });

  it("accepts local.settings.sample.json as it is, and the sample lists every setting the loader reads", () => {
    const sample = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "..", "local.settings.sample.json"), "utf8")) as {
      Values: Record<string, string>;
    };
    // npm start fills AUTH_DEVELOPMENT_JWKS with the public key of the local development identity.
    expect(sample.Values.AUTH_DEVELOPMENT_JWKS).toBe("");
    expect(() => loadConfig({ ...sample.Values, AUTH_DEVELOPMENT_JWKS: DEV_JWKS })).not.toThrow();
    // The loader and the readers it delegates parts of the settings to.
    const loaderFiles = [
      "config.ts",
      "auth/authSettings.ts",
      "evidence/signing/signingSettings.ts",
      "governor/governorSettings.ts",
      "stateStorageSettings.ts",
      "alerts/graphSettings.ts",
      "library/librarySettings.ts",
    ];
    const loaderSource = loaderFiles.map((f) => readFileSync(path.join(__dirname, "..", "..", "..", "shared", f), "utf8")).join("\n");
    const read = new Set(
      [
        ...loaderSource.matchAll(
          /"((?:MDE|EVIDENCE|COLLECTIONS?|COLLECTOR|LOCAL|AUTH|ALERTS?|GETFILE|MANIFEST|GOVERNOR|GRAPH|LIBRARY)_[A-Z_]+)"/g,
        ),
      ].map((m) => m[1]),
    );
    expect(read).toContain("AUTH_MODE");
    expect(read).toContain("MANIFEST_SIGNING_KEY_ID");
    expect([...read].filter((name) => !(name in sample.Values))).toEqual([]);
  });

  it("checks the caller authentication settings", () => {
    expect(
      problemsOf({
        EVIDENCE_STORAGE_ACCOUNT_URL: minimal.EVIDENCE_STORAGE_ACCOUNT_URL,
        MANIFEST_SIGNING_KEY_ID: minimal.MANIFEST_SIGNING_KEY_ID,
        AzureWebJobsStorage__blobServiceUri: minimal.AzureWebJobsStorage__blobServiceUri,
      }).sort(),
    ).toEqual(["AUTH_AUDIENCE", "AUTH_TENANT_ID"]);
    expect(problemsOf({ ...minimal, AUTH_MODE: "anonymous" })).toEqual(["AUTH_MODE"]);
    expect(problemsOf({ ...minimal, AUTH_TENANT_ID: "contoso" })).toEqual(["AUTH_TENANT_ID"]);
    expect(problemsOf({ ...minimal, AUTH_AUTHORITY_HOST: "https://login.evil.example" })).toEqual(["AUTH_AUTHORITY_HOST"]);
    expect(problemsOf({ ...minimal, AUTH_ROLE_SCOPES: "{" })).toEqual(["AUTH_ROLE_SCOPES"]);
    // A deployed app can never run with the development key.
    expect(problemsOf({ ...minimal, AUTH_MODE: "development", AUTH_DEVELOPMENT_JWKS: DEV_JWKS })).toEqual(["AUTH_MODE"]);
    expect(problemsOf({ ...minimal, AUTH_MODE: "development", LOCAL_DEVELOPMENT: "true" })).toEqual(["AUTH_DEVELOPMENT_JWKS"]);
    const platform = loadConfig({ ...minimal, AUTH_MODE: "appServiceAuthentication", AUTH_AUDIENCE: "" });
    expect(platform.auth.mode).toBe("appServiceAuthentication");
    const gov = loadConfig({ ...minimal, AUTH_AUTHORITY_HOST: "https://login.microsoftonline.us/" });
    expect(gov.auth.authorityHost).toBe("https://login.microsoftonline.us");
  });

  it("refuses an MDE base URL outside the documented hosts unless MDE_ALLOWED_HOSTS adds it", () => {
    expect(problemsOf({ ...minimal, MDE_API_BASE_URL: "https://api.securty.microsoft.com" })).toEqual(["MDE_API_BASE_URL"]);
    expect(problemsOf({ ...minimal, MDE_API_BASE_URL: "https://169.254.169.254" })).toEqual(["MDE_API_BASE_URL"]);
    const proxied = loadConfig({
      ...minimal,
      MDE_API_BASE_URL: "https://mde-proxy.contoso.com",
      MDE_ALLOWED_HOSTS: "mde-proxy.contoso.com",
    });
    expect(proxied.mde.allowedHosts.hosts).toContain("mde-proxy.contoso.com");
    expect(problemsOf({ ...minimal, MDE_ALLOWED_HOSTS: "https://x.example/path" })).toEqual(["MDE_ALLOWED_HOSTS"]);
    const extra = loadConfig({ ...minimal, EVIDENCE_SOURCE_ALLOWED_HOSTS: "*.blob.storage.azure.net" });
    expect(extra.evidence.sourceHosts.hosts).toContain("*.blob.storage.azure.net");
  });

  it("reads the bounds on work in flight and the UNC switch", () => {
    const c = loadConfig({
      ...minimal,
      COLLECTIONS_MAX_IN_FLIGHT: "10",
      COLLECTIONS_MAX_IN_FLIGHT_PER_CALLER: "2",
      ALERT_MAX_DEVICES: "1",
      GETFILE_ALLOW_UNC_PATHS: "true",
    });
    expect(c.limits).toEqual({ maxInFlight: 10, maxInFlightPerCaller: 2, maxDevicesPerAlert: 1 });
    expect(c.allowUncPaths).toBe(true);
    expect(problemsOf({ ...minimal, ALERT_MAX_DEVICES: "0" })).toEqual(["ALERT_MAX_DEVICES"]);
  });
});
