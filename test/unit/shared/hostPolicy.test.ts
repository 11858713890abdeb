import {
  BLOB_HOST_PATTERNS,
  hostMatches,
  hostRefusal,
  isLoopbackHost,
  isValidHostPattern,
  MDE_API_HOSTS,
} from "../../../shared/hostPolicy";

describe("host allow-lists", () => {
  const mde = { hosts: MDE_API_HOSTS, allowLoopback: false };
  const blobs = { hosts: BLOB_HOST_PATTERNS, allowLoopback: false };

  it.each([
    "https://api.security.microsoft.com",
    "https://eu.api.security.microsoft.com/api",
    "https://api-gov.securitycenter.microsoft.us",
  ])("accepts the documented MDE host %s", (url) => expect(hostRefusal(new URL(url), mde)).toBeUndefined());

  it.each([
    ["a look-alike host", "https://api.security.microsoft.com.evil.example", /not on the allow-list/],
    ["a mistyped host", "https://api.securty.microsoft.com", /not on the allow-list/],
    ["the instance metadata address", "https://169.254.169.254/metadata", /not on the allow-list/],
    ["plain http", "http://api.security.microsoft.com", /only https/],
    ["user info", "https://user:pass@api.security.microsoft.com", /user credentials/],
    ["loopback outside local development", "http://127.0.0.1:7072", /only https/],
  ])("refuses %s as MDE base URL", (_name, url, reason) => {
    expect(hostRefusal(new URL(url), mde)).toMatch(reason);
  });

  it("accepts Azure Storage blob hosts of each cloud and refuses others", () => {
    expect(hostRefusal(new URL("https://automatedirstrprdweu.blob.core.windows.net/x?sig=1"), blobs)).toBeUndefined();
    expect(hostRefusal(new URL("https://acct.blob.core.usgovcloudapi.net/x"), blobs)).toBeUndefined();
    expect(hostRefusal(new URL("https://blob.core.windows.net/x"), blobs)).toMatch(/allow-list/);
    expect(hostRefusal(new URL("https://acct.blob.core.windows.net.evil.example/x"), blobs)).toMatch(/allow-list/);
    expect(hostRefusal(new URL("https://acct.file.core.windows.net/x"), blobs)).toMatch(/allow-list/);
  });

  it("accepts loopback only when allowed", () => {
    expect(hostRefusal(new URL("http://127.0.0.1:10000/x"), { ...blobs, allowLoopback: true })).toBeUndefined();
    expect(hostRefusal(new URL("http://localhost.evil.example/x"), { ...blobs, allowLoopback: true })).toMatch(/only https/);
  });

  it("matches exact names and wildcard suffixes, case-insensitively", () => {
    expect(hostMatches("API.Security.Microsoft.com.", MDE_API_HOSTS)).toBe(true);
    expect(hostMatches("a.b.example.org", ["*.example.org"])).toBe(true);
    expect(hostMatches("example.org", ["*.example.org"])).toBe(false);
    expect(hostMatches("badexample.org", ["*.example.org"])).toBe(false);
  });

  it("knows loopback hosts in their URL-normalised forms", () => {
    expect(isLoopbackHost(new URL("http://2130706433/").hostname)).toBe(true);
    expect(isLoopbackHost("[::1]")).toBe(true);
    expect(isLoopbackHost("app.localhost")).toBe(false);
    expect(isLoopbackHost("169.254.169.254")).toBe(false);
  });

  it("validates host patterns for the allow-list settings", () => {
    expect(isValidHostPattern("*.blob.storage.azure.net")).toBe(true);
    expect(isValidHostPattern("proxy.contoso.com")).toBe(true);
    expect(isValidHostPattern("https://x.com")).toBe(false);
    expect(isValidHostPattern("*")).toBe(false);
    expect(isValidHostPattern("a/b")).toBe(false);
  });
});
