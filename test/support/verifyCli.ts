/** `npm run verify` as an examiner runs it against the test Azurite: one container, one trusted public key. */
import { runVerify } from "../../scripts/verifyCommand";
import { testAzurite } from "./azurite";

export async function verifyCli(
  target: { containerName: string; publicKeyFile: string; cwd: string },
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runVerify(
    [
      "--connection-string",
      testAzurite.evidenceConnectionString,
      "--container",
      target.containerName,
      "--public-key",
      target.publicKeyFile,
      ...args,
    ],
    {
      env: {},
      cwd: target.cwd,
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      stderrIsTerminal: false,
      credential: () => {
        throw new Error("no credential on Azurite");
      },
    },
  );
  return { code, out: out.join("\n"), err: err.join("\n") };
}
