/**
 * `npm run verify -- <options>`: re-reads collected evidence and its manifests, re-hashes them and
 * checks sizes, metadata, block lists and manifest signatures; one row per blob (OK, MISMATCH,
 * MISSING, EXTRA) and a summary; exit code 1 on any problem. `npm run verify -- --help` for the options.
 */
import { DefaultAzureCredential } from "@azure/identity";
import { runVerify } from "./verifyCommand";

runVerify(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(text.startsWith("\r") || text === "\n" ? text : `${text}\n`),
  stderrIsTerminal: process.stderr.isTTY === true,
  credential: () => new DefaultAzureCredential(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`verify: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 2;
  },
);
