import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseVerifyArgs, runVerify, VERIFY_USAGE } from "../../../scripts/verifyCommand";
import { createTimestampAuthority } from "../../../simulator/timestampAuthority";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "verify-tsa-args-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const deps = () => ({
  env: { MANIFEST_SIGNING_KEY_ID: "https://kv-collector.vault.azure.net/keys/manifest-signing" },
  cwd: dir,
  credential: () => {
    throw new Error("no credential in this test");
  },
});

describe("verify's timestamp options", () => {
  it("takes --tsa-ca files (PEM with one or more certificates, or DER) as trust anchors, and --require-timestamp", async () => {
    const [a, b] = await Promise.all([createTimestampAuthority({ name: "A" }), createTimestampAuthority({ name: "B" })]);
    writeFileSync(path.join(dir, "both.pem"), `${a.caPem}${b.caPem}`);
    writeFileSync(path.join(dir, "one.der"), a.caDer);
    const parsed = parseVerifyArgs(["--azurite", "--tsa-ca", "both.pem", "--tsa-ca", "one.der", "--require-timestamp"], deps());
    if (parsed === "help") throw new Error("help");
    expect(parsed.timestamps.required).toBe(true);
    expect(parsed.timestamps.anchors.map((der) => new X509Certificate(Buffer.from(der)).subject)).toEqual([
      "CN=A CA",
      "CN=B CA",
      "CN=A CA",
    ]);
    expect(parsed.trustSource).toContain("TSA CA both.pem, one.der");

    const plain = parseVerifyArgs(["--azurite"], deps());
    if (plain === "help") throw new Error("help");
    expect(plain.timestamps).toEqual({ anchors: [], required: false });
    expect(VERIFY_USAGE).toContain("--tsa-ca <file.pem>");
  });

  it("refuses a --tsa-ca file that holds no certificate, with exit code 2", async () => {
    writeFileSync(path.join(dir, "junk.pem"), "not a certificate");
    const err: string[] = [];
    const code = await runVerify(["--azurite", "--tsa-ca", "junk.pem"], {
      ...deps(),
      out: () => {},
      err: (t) => err.push(t),
      stderrIsTerminal: false,
    });
    expect(code).toBe(2);
    expect(err.join("\n")).toContain("junk.pem holds no readable X.509 certificate");
    expect(
      await runVerify(["--azurite", "--tsa-ca", "absent.pem"], { ...deps(), out: () => {}, err: () => {}, stderrIsTerminal: false }),
    ).toBe(2);
  });
});
