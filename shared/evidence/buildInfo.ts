import { readFileSync } from "node:fs";
import path from "node:path";

/** The collector build a manifest names. */
export interface BuildInfo {
  /** package.json version. */
  version: string;
  /** Git commit of the build, or "unknown". */
  commit: string;
}

/**
 * The build's `buildInfo.json` (written into dist/ by `npm run build`, scripts/buildInfo.mjs), read
 * once at startup from `directory` (the compiled app's folder). Without it (tests, a build from
 * before it existed) the version comes from the nearest package.json and the commit is "unknown":
 * a missing build record never stops a manifest.
 */
export function loadBuildInfo(directory: string): BuildInfo {
  const read = (file: string): Record<string, unknown> | undefined => {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
      return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  const text = (v: unknown) => (typeof v === "string" && v.length > 0 && v.length <= 100 ? v : undefined);
  const built = read(path.join(directory, "buildInfo.json"));
  const pkg = read(path.join(directory, "package.json")) ?? read(path.join(directory, "..", "package.json"));
  return { version: text(built?.version) ?? text(pkg?.version) ?? "unknown", commit: text(built?.commit) ?? "unknown" };
}
