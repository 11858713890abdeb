/**
 * Which hosts the collector talks to: the MDE API (it receives an MDE token) and the download links
 * MDE hands out (they must be Azure Storage). Everything else is refused before any request, so a
 * mistyped setting or a forged answer cannot send a token or the collector's network position
 * elsewhere (an instance metadata address, an attacker's server). Loopback only for local development.
 * MDE API hosts: https://learn.microsoft.com/defender-endpoint/api/exposed-apis-list
 * Government hosts: https://learn.microsoft.com/defender-endpoint/gov#api
 * Blob endpoints per cloud: https://learn.microsoft.com/azure/storage/common/storage-account-overview#standard-endpoints
 */
import { isIP } from "node:net";

/** The MDE API hosts Microsoft documents: global, legacy, regional, GCC, GCC High/DoD. */
export const MDE_API_HOSTS: readonly string[] = [
  "api.security.microsoft.com",
  "api.securitycenter.microsoft.com",
  ...["us", "eu", "uk", "au", "swa", "ina"].map((region) => `${region}.api.security.microsoft.com`),
  "api-gcc.securitycenter.microsoft.us",
  "api-gov.securitycenter.microsoft.us",
];

/** Azure Storage blob endpoints of the public, US Government and China clouds (`<account>.blob.<suffix>`). */
export const BLOB_HOST_PATTERNS: readonly string[] = [
  "*.blob.core.windows.net",
  "*.blob.core.usgovcloudapi.net",
  "*.blob.core.chinacloudapi.cn",
];

/** A host name, or `*.suffix` for any single-label-or-more subdomain of suffix. */
const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;

export function isValidHostPattern(pattern: string): boolean {
  return HOST_PATTERN.test(pattern.toLowerCase());
}

/** Whether a host matches one of the patterns (exact, or `*.suffix`). Case-insensitive; a trailing dot is ignored. */
export function hostMatches(hostname: string, patterns: readonly string[]): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  return patterns.some((p) => {
    const pattern = p.toLowerCase();
    return pattern.startsWith("*.") ? host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1 : host === pattern;
  });
}

/**
 * 127.0.0.0/8, `localhost` or `[::1]`. Subdomains of localhost are not accepted: resolvers may
 * send them to DNS, so they are not guaranteed to stay on the machine.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host === "localhost" || host === "[::1]") return true;
  // WHATWG URL parsing already turned 2130706433 or 0x7f.1 into dotted decimal.
  return isIP(host) === 4 && host.startsWith("127.");
}

/** Whether a URL's host is loopback; a string that is not a URL is not. */
export function isLoopbackUrl(url: string): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** Which hosts one kind of endpoint may use. */
export interface HostAllowList {
  /** Host names or `*.suffix` patterns, https only. */
  hosts: readonly string[];
  /** Also accept http(s) to a loopback host (local development with the simulator and Azurite). */
  allowLoopback: boolean;
}

/**
 * Why a URL is refused by an allow-list, or undefined when it is allowed: https to a listed host, or
 * http(s) to loopback when allowed. User info in the URL is always refused.
 */
export function hostRefusal(url: URL, allowList: HostAllowList): string | undefined {
  if (url.username || url.password) return "URLs with user credentials are not used";
  if (allowList.allowLoopback && isLoopbackHost(url.hostname) && (url.protocol === "http:" || url.protocol === "https:")) return undefined;
  if (url.protocol !== "https:") return `scheme ${url.protocol} is not used (only https)`;
  if (!hostMatches(url.hostname, allowList.hosts)) return `host ${url.hostname.slice(0, 100)} is not on the allow-list`;
  return undefined;
}
