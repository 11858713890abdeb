import { CollectorError } from "../../../shared/errors";
import { checkDownloadLink, isLoopbackHost } from "../../../shared/evidence/linkPolicy";

const sas = "se=2026-01-01T00%3A00%3A00Z&sp=r&sv=2022-11-02&sr=b&sig=SECRETSIGNATURE";

function refusal(link: string, allowLoopbackHttp = false): CollectorError {
  try {
    checkDownloadLink(link, { allowLoopbackHttp });
  } catch (e) {
    return e as CollectorError;
  }
  throw new Error(`expected ${link} to be refused`);
}

describe("checkDownloadLink", () => {
  it("follows https links", () => {
    const url = `https://automatedirstrprdweu.blob.core.windows.net/investigation-actions-data/abc/CustomPlaybookCommandOutput/x?${sas}`;
    expect(checkDownloadLink(url).href).toBe(url);
  });

  it("follows http to loopback only with allowLoopbackHttp", () => {
    for (const host of ["127.0.0.1:10000", "127.8.9.10", "localhost:8080", "[::1]:10000"]) {
      expect(checkDownloadLink(`http://${host}/mdesource/c/b?${sas}`, { allowLoopbackHttp: true }).protocol).toBe("http:");
      expect(refusal(`http://${host}/mdesource/c/b?${sas}`).code).toBe("UntrustedDownloadLink");
    }
  });

  it("refuses http to a remote host even with allowLoopbackHttp, without the signature in the message", () => {
    for (const host of ["example.com", "10.0.0.5", "128.0.0.1", "localhost.evil.com", "foo.localhost", "[::2]"]) {
      const e = refusal(`http://${host}/c/b?${sas}`, true);
      expect(e).toBeInstanceOf(CollectorError);
      expect(e.code).toBe("UntrustedDownloadLink");
      expect(e.message).not.toContain("sig=");
      expect(e.message).not.toContain("SECRETSIGNATURE");
    }
  });

  it("refuses other schemes, credentials in the URL and garbage", () => {
    expect(refusal("javascript:alert(document.cookie)", true).message).not.toContain("cookie");
    expect(refusal("file:///etc/passwd", true).code).toBe("UntrustedDownloadLink");
    expect(refusal("ftp://example.com/x", true).code).toBe("UntrustedDownloadLink");
    expect(refusal("data:text/plain,hello", true).code).toBe("UntrustedDownloadLink");
    expect(refusal("https://user:pass@example.com/x").message).not.toContain("pass");
    expect(refusal("not a url").code).toBe("UntrustedDownloadLink");
  });
});

describe("isLoopbackHost", () => {
  it("accepts 127.0.0.0/8, localhost and [::1] only", () => {
    expect(isLoopbackHost("127.0.0.1")).toBe(true);
    expect(isLoopbackHost("127.255.255.254")).toBe(true);
    expect(isLoopbackHost("LOCALHOST")).toBe(true);
    expect(isLoopbackHost("[::1]")).toBe(true);
    expect(isLoopbackHost("127.example.com")).toBe(false);
    expect(isLoopbackHost("0.0.0.0")).toBe(false);
  });

  it("sees through numeric host spellings, which URL parsing normalises", () => {
    expect(isLoopbackHost(new URL("http://2130706433/").hostname)).toBe(true);
    expect(isLoopbackHost(new URL("http://0x7f.1/").hostname)).toBe(true);
  });
});
