import { probeBaseUrl } from "../../../scripts/probe";

describe("probeBaseUrl: the probe targets a local host only", () => {
  it.each(["http://127.0.0.1:7071", "http://localhost:7071/api", "http://[::1]:7071", "http://127.1.2.3:80"])("accepts %s", (raw) => {
    expect(probeBaseUrl(raw).origin).toBe(new URL(raw).origin);
  });

  it.each([
    "https://collector.azurewebsites.net",
    "http://10.0.0.5:7071",
    "http://169.254.169.254",
    "http://localhost.attacker.example:7071",
    "http://127.0.0.1.nip.io:7071",
    "http://0.0.0.0:7071",
  ])("refuses %s", (raw) => {
    expect(() => probeBaseUrl(raw)).toThrow(/only targets a local host on loopback/);
  });

  it("refuses https and what is not a URL", () => {
    expect(() => probeBaseUrl("https://127.0.0.1:7071")).toThrow(/http:/);
    expect(() => probeBaseUrl("127.0.0.1:7071")).toThrow();
  });
});
