/**
 * `npm run library:sync -- [--dry-run]`: makes MDE's live response library hold exactly the reviewed
 * files of library/ (uploads what is missing or differs, checks every SHA-256 afterwards).
 * `npm run library:sync -- --help` for the options.
 */
import path from "node:path";
import { DefaultAzureCredential } from "@azure/identity";
import { runLibrarySyncCommand } from "./librarySyncCommand";

runLibrarySyncCommand(process.argv.slice(2), {
  env: process.env,
  // dist-tools/scripts/librarySync.js -> the package root.
  root: path.resolve(__dirname, "..", ".."),
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  credential: () => new DefaultAzureCredential(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`library:sync: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 2;
  },
);
