import { existsSync } from "node:fs";
import path from "node:path";

/**
 * The app root: the nearest folder at or above `start` holding package.json. Compiled code runs from
 * dist/ (package.json `main` is dist/index.js), in Azure under the deployed wwwroot; the config
 * directory sits beside package.json, not in dist/.
 * @returns undefined when no such folder exists up to the file system's root
 */
export function findAppRoot(start: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}
