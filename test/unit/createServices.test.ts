import type { AccessToken, TokenCredential } from "@azure/identity";
import { createServices } from "../../app";
import { loadConfig } from "../../shared/config";
import { freshEvidenceContainer, testAzurite } from "../support/azurite";
import { ENTRA_TEST_SETTINGS } from "../support/settings";

/** A credential that records every scope asked for: a refused base URL must never cause a token request. */
function recordingCredential(): TokenCredential & { scopes: string[] } {
  const scopes: string[] = [];
  return {
    scopes,
    async getToken(scope: string | string[]): Promise<AccessToken> {
      scopes.push(String(scope));
      return { token: "t", expiresOnTimestamp: Date.now() + 3_600_000, tokenType: "Bearer" };
    },
  };
}

/** Serves the same bytes for any URL, recording what was fetched. */
function servingFetch(bytes: Buffer) {
  const urls: string[] = [];
  const fetch = (async (input: string | URL | Request) => {
    urls.push(String(input));
    return new Response(bytes, { status: 200, headers: { "content-length": String(bytes.length) } });
  }) as typeof globalThis.fetch;
  return { fetch, urls };
}

const copy = (blobName: string) => ({
  chunkBytes: 8 * 1024 * 1024,
  blobName,
  contentType: "application/octet-stream",
  metadata: { machineid: "m" },
});

describe("createServices: host allow-lists", () => {
  it("refuses an MDE base URL that is not a documented MDE host before any token is requested", () => {
    // loadConfig refuses this base URL too; the client refuses it again, whoever built the config.
    const valid = loadConfig({ ...ENTRA_TEST_SETTINGS, EVIDENCE_STORAGE_ACCOUNT_URL: "https://e.blob.core.windows.net" });
    const config = { ...valid, mde: { ...valid.mde, baseUrl: "https://api.securty.microsoft.com" } };
    const credential = recordingCredential();
    expect(() => createServices(config, { credential })).toThrow(expect.objectContaining({ code: "UntrustedMdeHost" }));
    expect(credential.scopes).toEqual([]);
  });

  it("accepts the loopback simulator and Azurite links in local development only", async () => {
    const container = await freshEvidenceContainer("services");
    const settings = {
      ...ENTRA_TEST_SETTINGS,
      EVIDENCE_STORAGE_CONNECTION_STRING: testAzurite.evidenceConnectionString,
      EVIDENCE_CONTAINER: container.containerName,
    };
    const link = async () => `${testAzurite.blobEndpoint}/mdesource/results/r1?sv=1&sig=SECRET`;

    const served = servingFetch(Buffer.from("evidence"));
    const local = createServices(loadConfig({ ...settings, LOCAL_DEVELOPMENT: "true", MDE_API_BASE_URL: "http://127.0.0.1:7072" }), {
      fetch: served.fetch,
    });
    expect((await local.evidence.copyChunk(link, undefined, copy("local/r1"))).result).toMatchObject({ created: true, size: 8 });
    expect(served.urls).toHaveLength(1);

    const refused = servingFetch(Buffer.from("evidence"));
    const productionServices = createServices(loadConfig(settings), { fetch: refused.fetch, credential: recordingCredential() });
    await expect(productionServices.evidence.copyChunk(link, undefined, copy("production/r1"))).rejects.toMatchObject({
      code: "UntrustedDownloadLink",
    });
    await expect(
      productionServices.evidence.copyChunk(async () => "https://169.254.169.254/metadata?sig=SECRET", undefined, copy("production/r2")),
    ).rejects.toMatchObject({
      code: "UntrustedDownloadLink",
    });
    expect(refused.urls).toEqual([]);
    // Outside local development a loopback MDE URL is refused by the loader, and by the client for any other config.
    expect(() => loadConfig({ ...settings, MDE_API_BASE_URL: "https://127.0.0.1:7072" })).toThrow(/MDE_API_BASE_URL/);
    const production = loadConfig(settings);
    expect(() =>
      createServices(
        { ...production, mde: { ...production.mde, baseUrl: "https://127.0.0.1:7072" } },
        { credential: recordingCredential() },
      ),
    ).toThrow(expect.objectContaining({ code: "UntrustedMdeHost" }));
  });
});
