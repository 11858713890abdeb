import { CollectorError } from "../../../../shared/errors";
import { checkDownloadLink, type LinkPolicyOptions } from "../../../../shared/evidence/linkPolicy";
import { BLOB_HOST_PATTERNS } from "../../../../shared/hostPolicy";

const sas = "se=2026-01-01T00%3A00%3A00Z&sp=r&sv=2022-11-02&sr=b&sig=SECRETSIGNATURE";
const localDevelopment: LinkPolicyOptions = { sourceHosts: { hosts: BLOB_HOST_PATTERNS, allowLoopback: true } };

function refusal(link: string, options: LinkPolicyOptions = {}): CollectorError {
  try {
    checkDownloadLink(link, options);
  } catch (e) {
    return e as CollectorError;
  }
  throw new Error(`expected ${link} to be refused`);
}

describe("checkDownloadLink", () => {
  it.each([
    "https://automatedirstrprdweu.blob.core.windows.net/investigation-actions-data/abc/CustomPlaybookCommandOutput/x",
    "https://acct.blob.core.usgovcloudapi.net/investigation-actions-data/x",
    "https://acct.blob.core.chinacloudapi.cn/investigation-actions-data/x",
  ])("follows an Azure Storage blob link: %s", (base) => {
    const url = `${base}?${sas}`;
    expect(checkDownloadLink(url).href).toBe(url);
  });

  it.each([
    ["the instance metadata address", "https://169.254.169.254/metadata/identity/oauth2/token"],
    ["any other https host", "https://attacker.example/x"],
    ["a private address", "https://10.0.0.5/x"],
    ["the bare storage suffix", "https://blob.core.windows.net/x"],
    ["a look-alike of a blob host", "https://acct.blob.core.windows.net.attacker.example/x"],
    ["another Azure Storage service", "https://acct.file.core.windows.net/x"],
    ["loopback outside local development", "https://127.0.0.1:10000/devstoreaccount1/x"],
  ])("refuses %s, without the signature in the message", (_what, base) => {
    const e = refusal(`${base}?${sas}`);
    expect(e).toBeInstanceOf(CollectorError);
    expect(e.code).toBe("UntrustedDownloadLink");
    expect(e.message).toMatch(/not on the allow-list/);
    expect(e.message).not.toContain("sig=");
    expect(e.message).not.toContain("SECRETSIGNATURE");
  });

  it("follows a host an extended allow-list names", () => {
    const options: LinkPolicyOptions = {
      sourceHosts: { hosts: [...BLOB_HOST_PATTERNS, "evidence.contoso.example"], allowLoopback: false },
    };
    expect(checkDownloadLink(`https://evidence.contoso.example/x?${sas}`, options).hostname).toBe("evidence.contoso.example");
    expect(refusal(`https://other.contoso.example/x?${sas}`, options).code).toBe("UntrustedDownloadLink");
  });

  it("follows http(s) to loopback only when the allow-list allows loopback (local development)", () => {
    for (const host of ["127.0.0.1:10000", "127.8.9.10", "localhost:8080", "[::1]:10000"]) {
      expect(checkDownloadLink(`http://${host}/mdesource/c/b?${sas}`, localDevelopment).protocol).toBe("http:");
      expect(refusal(`http://${host}/mdesource/c/b?${sas}`).code).toBe("UntrustedDownloadLink");
    }
  });

  it("refuses http to a remote host even in local development, without the signature in the message", () => {
    for (const host of [
      "example.com",
      "10.0.0.5",
      "128.0.0.1",
      "localhost.evil.com",
      "foo.localhost",
      "[::2]",
      "acct.blob.core.windows.net",
    ]) {
      const e = refusal(`http://${host}/c/b?${sas}`, localDevelopment);
      expect(e).toBeInstanceOf(CollectorError);
      expect(e.code).toBe("UntrustedDownloadLink");
      expect(e.message).not.toContain("sig=");
      expect(e.message).not.toContain("SECRETSIGNATURE");
    }
  });

  it("refuses other schemes, credentials in the URL and garbage", () => {
    expect(refusal("javascript:alert(document.cookie)", localDevelopment).message).not.toContain("cookie");
    expect(refusal("file:///etc/passwd", localDevelopment).code).toBe("UntrustedDownloadLink");
    expect(refusal("ftp://example.com/x", localDevelopment).code).toBe("UntrustedDownloadLink");
    expect(refusal("data:text/plain,hello", localDevelopment).code).toBe("UntrustedDownloadLink");
    expect(refusal("https://user:pass@acct.blob.core.windows.net/x").message).not.toContain("pass");
    expect(refusal("not a url").code).toBe("UntrustedDownloadLink");
  });
});
