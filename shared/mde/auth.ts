/**
 * Which token the MDE API expects, per host, and a fixed credential for the local simulator.
 * Hosts and scopes: https://learn.microsoft.com/defender-endpoint/gov#api and
 * https://learn.microsoft.com/defender-endpoint/api/exposed-apis-create-app-webapp
 */
import type { AccessToken, TokenCredential } from "@azure/identity";
import { CollectorError } from "../errors";
import { MDE_API_HOSTS } from "../hostPolicy";

/** The scope for every commercial MDE host (global, legacy and regional alike). */
export const COMMERCIAL_TOKEN_SCOPE = "https://api.securitycenter.microsoft.com/.default";

/** GCC, and GCC High/DoD: their token audience is the API host itself. */
const US_GOVERNMENT_HOSTS = new Set(["api-gcc.securitycenter.microsoft.us", "api-gov.securitycenter.microsoft.us"]);

/** Global, legacy and regional hosts. */
const COMMERCIAL_HOSTS = new Set(MDE_API_HOSTS.filter((host) => !US_GOVERNMENT_HOSTS.has(host)));

/**
 * The OAuth scope to request for an MDE API base URL.
 * Commercial hosts and anything else (a loopback simulator) get
 * `https://api.securitycenter.microsoft.com/.default`; US Government hosts get `https://<host>/.default`.
 * @param baseUrl - the MDE API base URL, e.g. `https://api.security.microsoft.com`.
 * @throws CollectorError `InvalidBaseUrl` when `baseUrl` is not a URL.
 */
export function tokenScopeFor(baseUrl: string): string {
  const host = parseUrl(baseUrl).hostname.toLowerCase();
  if (COMMERCIAL_HOSTS.has(host)) return COMMERCIAL_TOKEN_SCOPE;
  if (US_GOVERNMENT_HOSTS.has(host)) return `https://${host}/.default`;
  return COMMERCIAL_TOKEN_SCOPE;
}

/** @internal Parses a base URL or throws a CollectorError naming the problem. */
export function parseUrl(baseUrl: string): URL {
  try {
    return new URL(baseUrl);
  } catch {
    throw new CollectorError("InvalidBaseUrl", "The MDE API base URL is not a valid URL");
  }
}

/**
 * A credential that always returns the same development token.
 *
 * For LOCAL DEVELOPMENT AGAINST THE LOOPBACK SIMULATOR ONLY: the simulator accepts any bearer
 * token, so there is nothing to sign in to. `MdeClient` refuses this credential for a base URL
 * that is not loopback, so it can never send a made-up token to Microsoft. In Azure use a
 * managed identity (`DefaultAzureCredential`/`ManagedIdentityCredential` from @azure/identity).
 */
export class StaticTokenCredential implements TokenCredential {
  /**
   * @param token - the development token to send.
   * @param lifetimeInMs - how long each returned token claims to be valid. @default 3600000
   */
  constructor(
    private readonly token: string = "simulator-development-token",
    private readonly lifetimeInMs: number = 3_600_000,
  ) {}

  async getToken(): Promise<AccessToken> {
    return { token: this.token, expiresOnTimestamp: Date.now() + this.lifetimeInMs, tokenType: "Bearer" };
  }
}
