// Part of `npm run build`: writes dist/buildInfo.json ({ version, commit, builtAt }) from package.json and
// `git rev-parse HEAD`, so each manifest names the collector build that wrote it (azd deploys dist/).
// No git or no repository (a source archive): the commit is "unknown"; the build never fails for it.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
let commit = "unknown";
try {
  const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  if (/^[0-9a-f]{40}$/.test(head)) commit = head;
} catch {
  // Not a git checkout, or git not installed.
}
mkdirSync(path.join(root, "dist"), { recursive: true });
const info = { version, commit, builtAt: new Date().toISOString() };
writeFileSync(path.join(root, "dist", "buildInfo.json"), `${JSON.stringify(info, null, 2)}\n`);
console.log(`buildInfo: ${version} ${commit}`);
