/** Reading app settings one typed value at a time, collecting every problem instead of stopping at the first. */
import type { SettingProblem } from "./errors";
import { isValidHostPattern } from "./hostPolicy";

/** App settings as the host passes them (process.env at the composition root). */
export type Env = Record<string, string | undefined>;

/** An Entra object, tenant or client id. */
export const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** The reader the config loader hands to each part of the settings. */
export type SettingsReader = ReturnType<typeof settingsReader>;

/**
 * Reads settings by name, pushing a problem that names the setting for each bad value and returning
 * the fallback, so the loader can report every bad setting at once.
 */
export function settingsReader(env: Env, problems: SettingProblem[]) {
  const optional = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  return {
    optional,
    bool(name: string, fallback: boolean): boolean {
      const value = optional(name);
      if (value === undefined) return fallback;
      if (/^(true|1|yes)$/i.test(value)) return true;
      if (/^(false|0|no)$/i.test(value)) return false;
      problems.push({ setting: name, problem: "must be true or false" });
      return fallback;
    },
    url(name: string, fallback?: string): string | undefined {
      const value = optional(name) ?? fallback;
      if (value === undefined) {
        problems.push({ setting: name, problem: "required" });
        return undefined;
      }
      try {
        const u = new URL(value);
        if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error("scheme");
        return value;
      } catch {
        problems.push({ setting: name, problem: "must be an absolute http(s) URL" });
        return undefined;
      }
    },
    matching(name: string, fallback: string, pattern: RegExp, problem: string): string | undefined {
      const value = optional(name) ?? fallback;
      if (pattern.test(value)) return value;
      problems.push({ setting: name, problem });
      return undefined;
    },
    /** A comma-separated list of host names or `*.suffix` patterns. */
    hostList(name: string): string[] {
      const hosts = (optional(name) ?? "")
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean);
      const bad = hosts.filter((h) => !isValidHostPattern(h));
      if (bad.length > 0)
        problems.push({ setting: name, problem: `must be host names or *.suffix patterns, comma-separated (bad: ${bad[0].slice(0, 60)})` });
      return hosts.filter(isValidHostPattern);
    },
    positiveInt(name: string, fallback: number): number {
      const value = optional(name);
      if (value === undefined) return fallback;
      const n = Number(value);
      if (Number.isInteger(n) && n > 0) return n;
      problems.push({ setting: name, problem: "must be a positive whole number" });
      return fallback;
    },
  };
}
