import { CollectorError } from "../../../../shared/errors";
import { isLoopbackUrl } from "../../../../shared/hostPolicy";
import { COMMERCIAL_TOKEN_SCOPE, StaticTokenCredential, tokenScopeFor } from "../../../../shared/mde/auth";
import * as limits from "../../../../shared/mde/limits";

describe("tokenScopeFor", () => {
  it.each([
    "https://api.security.microsoft.com",
    "https://api.securitycenter.microsoft.com/",
    "https://us.api.security.microsoft.com",
    "https://eu.api.security.microsoft.com",
    "https://uk.api.security.microsoft.com",
    "https://au.api.security.microsoft.com",
    "https://swa.api.security.microsoft.com",
    "https://ina.api.security.microsoft.com",
    "https://API.Security.Microsoft.com",
  ])("uses the commercial scope for %s", (url) => {
    expect(tokenScopeFor(url)).toBe("https://api.securitycenter.microsoft.com/.default");
  });

  it.each([
    ["https://api-gcc.securitycenter.microsoft.us", "https://api-gcc.securitycenter.microsoft.us/.default"],
    ["https://api-gov.securitycenter.microsoft.us/", "https://api-gov.securitycenter.microsoft.us/.default"],
  ])("uses the host itself for US Government %s", (url, scope) => {
    expect(tokenScopeFor(url)).toBe(scope);
  });

  it("uses the commercial scope for a loopback simulator", () => {
    expect(tokenScopeFor("http://127.0.0.1:7071/mde")).toBe(COMMERCIAL_TOKEN_SCOPE);
  });

  it("rejects a base URL that is not a URL", () => {
    expect(() => tokenScopeFor("api.security.microsoft.com")).toThrow(CollectorError);
  });
});

/** Where plain http and the static development token are acceptable (shared/hostPolicy.ts). */
describe("isLoopbackUrl", () => {
  it.each([
    ["http://localhost:7071", true],
    ["http://127.0.0.1:8080/mde", true],
    ["http://127.12.0.3", true],
    ["http://[::1]:3000", true],
    ["https://api.security.microsoft.com", false],
    ["http://127.0.0.1.evil.example", false],
    ["http://app.localhost:7071", false],
    ["http://10.0.0.1", false],
    ["not a url", false],
  ])("%s → %s", (url, expected) => {
    expect(isLoopbackUrl(url)).toBe(expected);
  });
});

describe("StaticTokenCredential", () => {
  it("returns its fixed bearer token with a future expiry", async () => {
    const token = await new StaticTokenCredential("dev").getToken();
    expect(token.token).toBe("dev");
    expect(token.tokenType).toBe("Bearer");
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now());
  });
});

describe("limits", () => {
  it("defaults to the lower values where revisions of Microsoft's pages differ", () => {
    expect(limits.MAX_CONCURRENT_LIVE_RESPONSE_SESSIONS).toBe(25);
    expect(limits.LIVE_RESPONSE_QUEUE_WINDOW_IN_MS).toBe(3 * 24 * 3_600_000);
    expect(limits.RUN_LIVE_RESPONSE_CALLS_PER_MINUTE).toBe(10);
    expect(limits.DOWNLOAD_LINK_VALIDITY_IN_MS).toBe(30 * 60_000);
  });
});
