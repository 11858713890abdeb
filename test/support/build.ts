import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

/**
 * Emits the app into dist/ and the tools (start script, probe) into dist-tools/, once per jest run:
 * the e2e files that spawn `npm start` share it (jest runs them in one process, so its pid names the
 * run). --noCheck: emit only; `npm test` type-checks the same files first.
 */
export function buildOncePerRun(): void {
  const marker = path.join(os.tmpdir(), `mde-collector-build-${process.pid}-${Buffer.from(ROOT).toString("hex").slice(-16)}`);
  if (existsSync(marker)) return;
  for (const project of ["tsconfig.build.json", "tsconfig.tools.json"]) {
    const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", project, "--noCheck"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    if (tsc.status !== 0) throw new Error(`build of ${project} failed:\n${tsc.stdout}${tsc.stderr}`);
  }
  writeFileSync(marker, "");
}
