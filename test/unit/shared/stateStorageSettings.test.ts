/** COLLECTOR_STATE_CONTAINER and the host storage account that holds it (never the WORM evidence account in Azure). */
import type { SettingProblem } from "../../../shared/errors";
import { settingsReader, type Env } from "../../../shared/settingsReader";
import { readStateStorageSettings, type StateStorageContext } from "../../../shared/stateStorageSettings";

const evidence = { accountUrl: "https://stevid.blob.core.windows.net", container: "evidence" };

function read(env: Env, context: StateStorageContext = { localDevelopment: false, evidence }) {
  const problems: SettingProblem[] = [];
  const settings = readStateStorageSettings(settingsReader(env, problems), problems, context);
  return { settings, problems: problems.map((p) => p.setting) };
}

describe("state storage settings", () => {
  it("uses the host account's identity-based endpoint, with the user-assigned identity's client id", () => {
    const clientId = "11111111-2222-3333-4444-555555555555";
    expect(
      read({ AzureWebJobsStorage__blobServiceUri: "https://sthost.blob.core.windows.net", AzureWebJobsStorage__clientId: clientId }),
    ).toEqual({
      settings: {
        container: "collector-state",
        account: { blobServiceUri: "https://sthost.blob.core.windows.net", clientId },
        source: "AzureWebJobsStorage__blobServiceUri",
      },
      problems: [],
    });
  });

  it("uses the AzureWebJobsStorage connection string when no endpoint is set", () => {
    const { settings, problems } = read({ AzureWebJobsStorage: "UseDevelopmentStorage=true", COLLECTOR_STATE_CONTAINER: "state" });
    expect(problems).toEqual([]);
    expect(settings).toEqual({
      container: "state",
      account: { connectionString: "UseDevelopmentStorage=true" },
      source: "AzureWebJobsStorage",
    });
  });

  it("falls back to the evidence account only with LOCAL_DEVELOPMENT=true; otherwise names the missing setting at startup", () => {
    const local = read({}, { localDevelopment: true, evidence: { connectionString: "UseDevelopmentStorage=true", container: "evidence" } });
    expect(local.settings?.account).toEqual({ connectionString: "UseDevelopmentStorage=true" });
    expect(local.settings?.source).toBe("EVIDENCE_STORAGE (LOCAL_DEVELOPMENT)");
    expect(read({}).problems).toEqual(["AzureWebJobsStorage__blobServiceUri"]);
  });

  it("names each bad setting", () => {
    const host = { AzureWebJobsStorage: "UseDevelopmentStorage=true" };
    expect(read({ ...host, COLLECTOR_STATE_CONTAINER: "Bad_Name" }).problems).toEqual(["COLLECTOR_STATE_CONTAINER"]);
    expect(read({ ...host, COLLECTOR_STATE_CONTAINER: "evidence" }).problems).toEqual(["COLLECTOR_STATE_CONTAINER"]);
    expect(read({ AzureWebJobsStorage: "not a connection string" }).problems).toEqual(["AzureWebJobsStorage"]);
    expect(read({ AzureWebJobsStorage__blobServiceUri: "https://h.example", AzureWebJobsStorage__clientId: "x" }).problems).toEqual([
      "AzureWebJobsStorage__clientId",
    ]);
  });
});
