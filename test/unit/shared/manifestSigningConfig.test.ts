import { loadConfig } from "../../../shared/config";
import { ConfigError } from "../../../shared/errors";
import { ENTRA_TEST_SETTINGS } from "../../support/settings";

const { MANIFEST_SIGNING_KEY_ID: _key, ...withoutKey } = ENTRA_TEST_SETTINGS;
const production = { ...withoutKey, EVIDENCE_STORAGE_ACCOUNT_URL: "https://contosoevidence.blob.core.windows.net" };
const KEY = "https://kv-collector.vault.azure.net/keys/manifest-signing";

function problemsOf(env: Record<string, string>): { setting: string; problem: string }[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig: MANIFEST_SIGNING_*", () => {
  it("requires the Key Vault key outside local development, so a deployed app never writes an unsigned manifest", () => {
    expect(problemsOf(production)).toEqual([{ setting: "MANIFEST_SIGNING_KEY_ID", problem: expect.stringContaining("required") }]);
    expect(loadConfig({ ...production, MANIFEST_SIGNING_KEY_ID: KEY }).manifestSigning).toEqual({ keyVaultKeyId: KEY });
    expect(loadConfig({ ...production, MANIFEST_SIGNING_KEY_ID: `${KEY}/0123456789abcdef0123456789abcdef` }).manifestSigning).toEqual({
      keyVaultKeyId: `${KEY}/0123456789abcdef0123456789abcdef`,
    });
  });

  it("refuses a key id that is not a Key Vault key identifier", () => {
    for (const bad of ["https://kv.vault.azure.net/secrets/x", "http://kv.vault.azure.net/keys/x", "https://attacker.example/keys/x"]) {
      expect(problemsOf({ ...production, MANIFEST_SIGNING_KEY_ID: bad }).map((p) => p.setting)).toEqual(["MANIFEST_SIGNING_KEY_ID"]);
    }
  });

  it("signs with a development key file in local development only, .devhost/manifest-signing-key.pem by default", () => {
    const local = { ...production, LOCAL_DEVELOPMENT: "true" };
    expect(loadConfig(local).manifestSigning).toEqual({ developmentKeyFile: ".devhost/manifest-signing-key.pem" });
    expect(loadConfig({ ...local, MANIFEST_SIGNING_DEVELOPMENT_KEY_FILE: "/tmp/k.pem" }).manifestSigning).toEqual({
      developmentKeyFile: "/tmp/k.pem",
    });
    // A developer may sign with a real vault key locally.
    expect(loadConfig({ ...local, MANIFEST_SIGNING_KEY_ID: KEY }).manifestSigning).toEqual({ keyVaultKeyId: KEY });
    expect(
      problemsOf({ ...production, MANIFEST_SIGNING_KEY_ID: KEY, MANIFEST_SIGNING_DEVELOPMENT_KEY_FILE: "k.pem" }).map((p) => p.setting),
    ).toEqual(["MANIFEST_SIGNING_DEVELOPMENT_KEY_FILE"]);
    expect(
      problemsOf({ ...local, MANIFEST_SIGNING_KEY_ID: KEY, MANIFEST_SIGNING_DEVELOPMENT_KEY_FILE: "k.pem" }).map((p) => p.setting),
    ).toEqual(["MANIFEST_SIGNING_DEVELOPMENT_KEY_FILE"]);
  });
});
