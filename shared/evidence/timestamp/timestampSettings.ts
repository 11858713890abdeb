/** The MANIFEST_TIMESTAMP_URL setting. */
import type { SettingProblem } from "../../errors";
import type { SettingsReader } from "../../settingsReader";

/** Where each manifest's SHA-256 is timestamped (RFC 3161); absent: manifests are not timestamped. */
export interface ManifestTimestampSettings {
  /** The TSA's URL: http or https (a token protects itself by its signature), without credentials or a query. */
  url: string;
}

/**
 * MANIFEST_TIMESTAMP_URL: optional. Plain http is allowed because most public TSAs serve it and the
 * token is signed; user info and query strings are refused, so nothing secret sits in a setting
 * that is logged as a URL.
 */
export function readManifestTimestampSettings(reader: SettingsReader, problems: SettingProblem[]): ManifestTimestampSettings | undefined {
  const value = reader.optional("MANIFEST_TIMESTAMP_URL");
  if (value === undefined) return undefined;
  const problem = (text: string) => {
    problems.push({ setting: "MANIFEST_TIMESTAMP_URL", problem: text });
    return undefined;
  };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return problem("must be an absolute http(s) URL of an RFC 3161 time-stamp authority");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return problem("must be an http:// or https:// URL");
  if (url.username || url.password) return problem("must not carry credentials");
  if (url.search || url.hash) return problem("must not carry a query string or fragment");
  return { url: url.toString() };
}
