import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  evidenceEndpointOf,
  isDevelopmentStorage,
  mergeWithEnvironment,
  planLocalServices,
  portFrom,
  readLocalSettings,
  readSettingsFile,
  resolveSettingReferences,
  wantsDevelopmentIdentity,
  withLocalServices,
} from "../../../devhost";
import { loadConfig } from "../../../shared/config";

const sample = readSettingsFile(path.join(__dirname, "..", "..", "..", "local.settings.sample.json"));

describe("local settings files", () => {
  it("reads local.settings.sample.json when there is no local.settings.json, and the sample loads as config", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "lh-"));
    writeFileSync(path.join(dir, "local.settings.sample.json"), JSON.stringify({ IsEncrypted: false, Values: { A: "sample", N: 5 } }));
    expect(readLocalSettings(dir)).toMatchObject({ path: path.join(dir, "local.settings.sample.json"), values: { A: "sample", N: "5" } });
    writeFileSync(path.join(dir, "local.settings.json"), JSON.stringify({ Values: { A: "mine" }, Host: { LocalHttpPort: 7090 } }));
    expect(readLocalSettings(dir)).toMatchObject({ values: { A: "mine" }, localHttpPort: 7090 });
    // npm start supplies AUTH_DEVELOPMENT_JWKS (the sample's AUTH_MODE is development and names no key set).
    expect(wantsDevelopmentIdentity(sample.values)).toBe(true);
    expect(() =>
      loadConfig(withLocalServices(sample.values, { developmentJwks: JSON.stringify({ keys: [{ kty: "RSA", n: "AQAB", e: "AQAB" }] }) })),
    ).not.toThrow();
  });

  it("refuses an encrypted or broken file and a folder with neither file", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "lh-"));
    expect(() => readLocalSettings(dir)).toThrow(/No local.settings.json/);
    writeFileSync(path.join(dir, "local.settings.json"), JSON.stringify({ IsEncrypted: true, Values: {} }));
    expect(() => readLocalSettings(dir)).toThrow(/encrypted/);
    writeFileSync(path.join(dir, "local.settings.json"), "{ nope");
    expect(() => readLocalSettings(dir)).toThrow(/not valid JSON/);
  });

  it("lets an environment variable win over the file, as Core Tools does", () => {
    const { settings, fromEnvironment } = mergeWithEnvironment({ A: "file", B: "file" }, { B: "env", C: "env-only", D: undefined });
    expect(settings).toEqual({ A: "file", B: "env", C: "env-only" });
    expect(fromEnvironment).toEqual(["B"]);
  });

  it("reads ports, 0 meaning a free port, and names a bad variable", () => {
    expect(portFrom({}, "SIMULATOR_PORT", 7072)).toBe(7072);
    expect(portFrom({ SIMULATOR_PORT: "0" }, "SIMULATOR_PORT", 7072)).toBe(0);
    expect(portFrom({ SIMULATOR_PORT: " 8000 " }, "SIMULATOR_PORT", 7072)).toBe(8000);
    expect(() => portFrom({ SIMULATOR_PORT: "http" }, "SIMULATOR_PORT", 7072)).toThrow(/SIMULATOR_PORT/);
  });
});

describe("which local services the settings ask for", () => {
  it("the sample starts the simulator and Azurite", () => {
    expect(planLocalServices(sample.values, 7072)).toEqual({ simulator: true, azurite: true });
    expect(planLocalServices(sample.values, 0)).toEqual({ simulator: true, azurite: true });
  });

  it("another loopback MDE API is used as is (no simulator); development storage still starts Azurite", () => {
    const settings = { ...sample.values, MDE_API_BASE_URL: "http://127.0.0.1:45123" };
    expect(planLocalServices(settings, 0)).toEqual({ simulator: false, azurite: true });
    expect(planLocalServices(settings, 45123)).toEqual({ simulator: true, azurite: true });
  });

  it("a real tenant with a real account starts nothing; with development storage only Azurite", () => {
    const tenant = {
      MDE_API_BASE_URL: "https://api.security.microsoft.com",
      EVIDENCE_STORAGE_ACCOUNT_URL: "https://contosoevidence.blob.core.windows.net",
      AzureWebJobsStorage: "UseDevelopmentStorage=true",
    };
    expect(planLocalServices(tenant, 7072)).toEqual({ simulator: false, azurite: false });
    expect(
      planLocalServices(
        { MDE_API_BASE_URL: "https://api.security.microsoft.com", EVIDENCE_STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true" },
        7072,
      ),
    ).toEqual({ simulator: false, azurite: true });
  });

  it("fills the started services in: the simulator's URL and Azurite's connection string for every UseDevelopmentStorage=true", () => {
    const out = withLocalServices(sample.values, {
      simulatorUrl: "http://127.0.0.1:40001",
      azuriteConnectionString:
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;BlobEndpoint=http://127.0.0.1:40002/devstoreaccount1;",
    });
    expect(out.MDE_API_BASE_URL).toBe("http://127.0.0.1:40001");
    expect(out.EVIDENCE_STORAGE_CONNECTION_STRING).toContain("127.0.0.1:40002");
    expect(out.AzureWebJobsStorage).toContain("127.0.0.1:40002");
    expect(out.EVIDENCE_CONTAINER).toBe("evidence");
    expect(withLocalServices({ X: "UseDevelopmentStorage=true" }, {})).toEqual({ X: "UseDevelopmentStorage=true" });
    expect(isDevelopmentStorage("usedevelopmentstorage=true;")).toBe(true);
    expect(isDevelopmentStorage("UseDevelopmentStorage=false")).toBe(false);
  });

  it("points GRAPH_BASE_URL at the started simulator when it is unset, empty or loopback; a real Graph host is kept", () => {
    const started = { simulatorUrl: "http://127.0.0.1:40001" };
    expect(withLocalServices(sample.values, started).GRAPH_BASE_URL).toBe("http://127.0.0.1:40001");
    expect(withLocalServices({ MDE_API_BASE_URL: "http://127.0.0.1:7072" }, started).GRAPH_BASE_URL).toBe("http://127.0.0.1:40001");
    expect(withLocalServices({ GRAPH_BASE_URL: " " }, started).GRAPH_BASE_URL).toBe("http://127.0.0.1:40001");
    expect(withLocalServices({ GRAPH_BASE_URL: "http://localhost:9999" }, started).GRAPH_BASE_URL).toBe("http://127.0.0.1:40001");
    expect(withLocalServices({ GRAPH_BASE_URL: "https://graph.microsoft.us" }, started).GRAPH_BASE_URL).toBe("https://graph.microsoft.us");
    // No simulator: nothing to point at.
    expect(withLocalServices({ GRAPH_BASE_URL: "http://127.0.0.1:7072" }, {}).GRAPH_BASE_URL).toBe("http://127.0.0.1:7072");
  });

  it("shows the evidence endpoint without keys or SAS", () => {
    expect(evidenceEndpointOf({ EVIDENCE_STORAGE_ACCOUNT_URL: "https://acct.blob.core.windows.net?sv=x&sig=SECRET" })).toBe(
      "https://acct.blob.core.windows.net",
    );
    expect(
      evidenceEndpointOf({
        EVIDENCE_STORAGE_CONNECTION_STRING:
          "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=SECRET;EndpointSuffix=core.windows.net",
      }),
    ).toBe("https://acct.blob.core.windows.net");
    expect(
      evidenceEndpointOf({
        EVIDENCE_STORAGE_CONNECTION_STRING: "BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=x&sig=SECRET",
      }),
    ).toBe("https://acct.blob.core.windows.net/");
  });
});

describe("%SETTING% references in schedules", () => {
  it("resolves a whole-schedule reference and embedded ones from the settings", () => {
    expect(resolveSettingReferences("%COLLECTION_SCHEDULE%", { COLLECTION_SCHEDULE: " 0 0 2 * * * " })).toBe("0 0 2 * * *");
    expect(resolveSettingReferences("0 %MIN% * * * *", { MIN: "*/10" })).toBe("0 */10 * * * *");
    expect(resolveSettingReferences("0 0 * * * *", {})).toBe("0 0 * * * *");
  });

  it("names the setting that is missing or empty", () => {
    expect(() => resolveSettingReferences("%NOPE%", {})).toThrow(/set the app setting NOPE/);
    expect(() => resolveSettingReferences("%EMPTY%", { EMPTY: "" })).toThrow(/EMPTY/);
  });
});
