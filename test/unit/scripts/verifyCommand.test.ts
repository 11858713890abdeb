import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseVerifyArgs, runVerify, VERIFY_USAGE, type VerifyCommandDeps } from "../../../scripts/verifyCommand";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "verify-args-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const noCredential = () => {
  throw new Error("no credential in this test");
};
const deps = (env: Record<string, string> = {}) => ({ env, cwd: dir, credential: noCredential });
const KEY_ID = "https://kv-collector.vault.azure.net/keys/manifest-signing";

function writeKey(relative: string, kind: "private" | "public"): string {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const file = path.join(dir, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(
    file,
    kind === "private" ? privateKey.export({ type: "pkcs8", format: "pem" }) : publicKey.export({ type: "spki", format: "pem" }),
  );
  return file;
}

describe("verify's command line", () => {
  it("reads the storage, container, prefix and trusted key from the app's own settings by default", () => {
    const parsed = parseVerifyArgs(
      [],
      deps({
        EVIDENCE_STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true",
        EVIDENCE_CONTAINER: "cases",
        EVIDENCE_PREFIX: "lr",
        MANIFEST_SIGNING_KEY_ID: KEY_ID,
      }),
    );
    expect(parsed).not.toBe("help");
    if (parsed === "help") return;
    expect(parsed.container.url).toBe("http://127.0.0.1:10000/devstoreaccount1/cases");
    expect(parsed.scope).toEqual({ prefix: "lr" });
    expect(parsed.trust.keyVaultKeys).toEqual([{ vaultUrl: "https://kv-collector.vault.azure.net", name: "manifest-signing" }]);
    expect(parsed).toMatchObject({ json: false, concurrency: 4, quiet: false, trustSource: `Key Vault key ${KEY_ID}` });
  });

  it("narrows the scope to a machine, an action or an instance, and takes public keys as files", () => {
    const pem = writeKey("kv.pem", "public");
    const parsed = parseVerifyArgs(
      ["--azurite", "--machine", "m1", "--action", "a1", "--instance", "i1", "--public-key", "kv.pem", "--json", "--concurrency", "8"],
      deps(),
    );
    if (parsed === "help") throw new Error("help");
    expect(parsed.scope).toEqual({ prefix: "liveresponse", machineId: "m1", actionId: "a1", instanceId: "i1" });
    expect(parsed.trust.publicKeys).toHaveLength(1);
    expect(parsed.trust.keyVaultKeys).toEqual([]);
    expect(parsed).toMatchObject({ json: true, concurrency: 8, trustSource: "public key kv.pem" });
    expect(pem).toContain(dir);
  });

  it("trusts the development key (its public half) only when no key is given", () => {
    writeKey(".devhost/manifest-signing-key.pem", "private");
    const parsed = parseVerifyArgs(["--azurite"], deps());
    if (parsed === "help") throw new Error("help");
    expect(parsed.trust.publicKeys).toHaveLength(1);
    expect(parsed.trust.publicKeys[0].type).toBe("public");
    expect(parsed.trustSource).toBe(`the development key ${path.join(".devhost", "manifest-signing-key.pem")}`);
  });

  it.each([
    [["--azurite"], "no trusted signing key"],
    [["--azurite", "--account-url", "https://x.blob.core.windows.net", "--key-id", KEY_ID], "give one of"],
    [["--key-id", KEY_ID], "where is the evidence?"],
    [["--azurite", "--key-id", "https://evil.example/keys/k"], "is not a Key Vault key identifier"],
    [["--azurite", "--public-key", "missing.pem"], "cannot read the key file"],
    [["--azurite", "--key-id", KEY_ID, "--concurrency", "0"], "--concurrency must be"],
    [["--azurite", "--key-id", KEY_ID, "--unknown"], "Unknown option"],
  ])("refuses %j with exit code 2 and the usage", async (argv, message) => {
    const err: string[] = [];
    const code = await runVerify(argv, { ...deps(), out: () => {}, err: (t) => err.push(t), stderrIsTerminal: false } as VerifyCommandDeps);
    expect(code).toBe(2);
    expect(err.join("\n")).toContain(message);
    expect(err.join("\n")).toContain(VERIFY_USAGE);
  });

  it("prints the usage with --help and exits 0", async () => {
    const out: string[] = [];
    expect(await runVerify(["--help"], { ...deps(), out: (t) => out.push(t), err: () => {}, stderrIsTerminal: false })).toBe(0);
    expect(out).toEqual([VERIFY_USAGE]);
  });
});
