// `npm run infra:check`: compiles infra/main.bicep with the real Bicep CLI and runs its linter, and
// fails on any error or warning (the linter exits 0 on warnings, so the output is read line by line).
// Finds `bicep` in $BICEP, on PATH, where the Azure CLI installs it (~/.azure/bin), or in the NuGet
// packages folder (scripts/install-bicep.sh); otherwise says how to get it. Plain Node, no dependencies,
// so it runs on a fresh clone right after `npm ci`.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const template = path.join("infra", "main.bicep");
const exe = process.platform === "win32" ? "bicep.exe" : "bicep";

/** Compares dotted versions numerically (0.49.10 > 0.49.9). */
function byVersionDescending(a, b) {
  const pa = a.split(/[.-]/).map(Number);
  const pb = b.split(/[.-]/).map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pb[i] || 0) - (pa[i] || 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Every place a bicep executable may be, in order of preference. */
function candidates() {
  const found = [];
  if (process.env.BICEP) found.push(process.env.BICEP);
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) if (dir) found.push(path.join(dir, exe));
  found.push(path.join(homedir(), ".azure", "bin", exe));
  const nuget = process.env.NUGET_PACKAGES ?? path.join(homedir(), ".nuget", "packages");
  if (existsSync(nuget)) {
    for (const pkg of readdirSync(nuget).filter((d) => d.startsWith("azure.bicep.commandline."))) {
      const versions = readdirSync(path.join(nuget, pkg)).sort(byVersionDescending);
      for (const v of versions) found.push(path.join(nuget, pkg, v, "tools", exe));
    }
  }
  return found;
}

function run(bicep, args) {
  const r = spawnSync(bicep, args, { cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", error: r.error };
}

const present = candidates().filter((p) => existsSync(p));
const bicep = present.find((p) => run(p, ["--version"]).status === 0);
if (!bicep) {
  for (const p of present) {
    const r = run(p, ["--version"]);
    console.error(`infra:check: ${p} does not run: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
  }
  console.error(
    [
      "infra:check: no working Bicep CLI (looked in $BICEP, PATH, ~/.azure/bin and the NuGet packages folder).",
      "Get it with one of:",
      "  scripts/install-bicep.sh          (the .NET SDK downloads Azure.Bicep.CommandLine.<rid> from NuGet)",
      "  az bicep install                  (the Azure CLI puts it in ~/.azure/bin)",
      "  https://learn.microsoft.com/azure/azure-resource-manager/bicep/install",
    ].join("\n"),
  );
  process.exit(2);
}

const version = run(bicep, ["--version"]).stdout.trim();
console.log(`infra:check: ${version} (${bicep})`);

/** Diagnostics look like `path(line,col) : Warning rule-name: message [link]`. */
const diagnostic = /:\s(Error|Warning|Info)\s/;
const problems = [];

const build = run(bicep, ["build", template, "--stdout"]);
problems.push(...build.stderr.split("\n").filter((l) => diagnostic.test(l)));
let resources = 0;
if (build.status === 0) {
  try {
    const compiled = JSON.parse(build.stdout);
    resources = Object.keys(compiled.resources ?? {}).length;
  } catch {
    problems.push("bicep build printed something that is not an ARM template");
  }
} else if (problems.length === 0) {
  problems.push(`bicep build exited with ${build.status}: ${build.stderr.trim() || build.error?.message}`);
}

const lint = run(bicep, ["lint", template]);
const lintLines = `${lint.stdout}\n${lint.stderr}`.split("\n").filter((l) => diagnostic.test(l));
problems.push(...lintLines.filter((l) => !problems.includes(l)));
if (lint.status !== 0 && lintLines.length === 0) problems.push(`bicep lint exited with ${lint.status}: ${lint.stderr.trim()}`);

const count = (kind) => problems.filter((l) => l.includes(` ${kind} `)).length;
if (problems.length > 0) {
  for (const line of problems) console.error(line);
  console.error(`infra:check: FAILED: ${count("Error")} error(s), ${count("Warning")} warning(s), ${count("Info")} info`);
  process.exit(1);
}
console.log(`infra:check: ${template} builds (${resources} top-level resources) and lints clean: 0 errors, 0 warnings`);
