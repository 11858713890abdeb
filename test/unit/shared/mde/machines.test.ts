import type { AccessToken, TokenCredential } from "@azure/identity";
import { CollectorError, MdeApiError } from "../../../../shared/errors";
import { MdeClient } from "../../../../shared/mde/client";
import { toMachine } from "../../../../shared/mde/transformations";
import { MDE_ALERT } from "../../../support/fixtures/alerts/mdeAlert";
import { scriptedFetch, type ScriptedFetch } from "../../../support/mde/scriptedFetch";

const BASE = "https://api.security.microsoft.com";

/**
 * The response example of "List machines API" (MicrosoftDocs/defender-docs,
 * defender-endpoint/api/get-machines.md). The page writes `"osPlatform": "Windows10" "Windows11"`,
 * which is not JSON: "Windows10" is kept; the "..." continuation is dropped.
 */
const GET_MACHINES_EXAMPLE = {
  "@odata.context": "https://api.security.microsoft.com/api/$metadata#Machines",
  value: [
    {
      id: "1e5bc9d7e413ddd7902c2932e418702b84d0cc07",
      computerDnsName: "mymachine1.contoso.com",
      firstSeen: "2018-08-02T14:55:03.7791856Z",
      lastSeen: "2018-08-02T14:55:03.7791856Z",
      osPlatform: "Windows10",
      version: "1709",
      osProcessor: "x64",
      lastIpAddress: "172.17.230.209",
      lastExternalIpAddress: "167.220.196.71",
      osBuild: 18209,
      healthStatus: "Active",
      rbacGroupId: 140,
      rbacGroupName: "The-A-Team",
      riskScore: "Low",
      exposureLevel: "Medium",
      isAadJoined: true,
      aadDeviceId: "80fe8ff8-2624-418e-9591-41f0491218f9",
      machineTags: ["test tag 1", "test tag 2"],
    },
  ],
};

const credential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: "t", expiresOnTimestamp: Date.now() + 3_600_000 }),
};
const client = (fake: ScriptedFetch) => new MdeClient(BASE, credential, { fetch: fake.fetch, sleep: async () => {}, random: () => 0.5 });

describe("MdeClient.listMachines", () => {
  it("GETs /api/machines with an encoded $filter and $top and maps the documented example", async () => {
    const fake = scriptedFetch({ status: 200, body: GET_MACHINES_EXAMPLE });
    const machines = await client(fake).listMachines({
      filter: "machineTags/any(tag: tag eq 'tier 0') and healthStatus eq 'Active'",
      top: 50,
    });
    const url = new URL(fake.requests[0]!.url);
    expect(url.pathname).toBe("/api/machines");
    expect(url.searchParams.get("$filter")).toBe("machineTags/any(tag: tag eq 'tier 0') and healthStatus eq 'Active'");
    expect(url.searchParams.get("$top")).toBe("50");
    expect(machines).toEqual([
      {
        id: "1e5bc9d7e413ddd7902c2932e418702b84d0cc07",
        computerDnsName: "mymachine1.contoso.com",
        osPlatform: "Windows10",
        healthStatus: "Active",
        machineTags: ["test tag 1", "test tag 2"],
        lastSeen: "2018-08-02T14:55:03.7791856Z",
        riskScore: "Low",
        exposureLevel: "Medium",
        rbacGroupId: 140,
        aadDeviceId: "80fe8ff8-2624-418e-9591-41f0491218f9",
      },
    ]);
  });

  it("refuses a $top beyond 10,000 before calling MDE", async () => {
    const fake = scriptedFetch();
    await expect(client(fake).listMachines({ top: 10_001 })).rejects.toMatchObject({ code: "InvalidArgument" });
    expect(fake.requests).toHaveLength(0);
  });

  it("retries a 503 (a read), and reports a list without value as UnexpectedResponse", async () => {
    const fake = scriptedFetch({ status: 503 }, { status: 200, body: { value: [] } }, { status: 200, body: {} });
    expect(await client(fake).listMachines({})).toEqual([]);
    await expect(client(fake).listMachines({})).rejects.toThrow(CollectorError);
  });
});

describe("MdeClient.getAlert", () => {
  it("GETs /api/alerts/{id}?$expand=evidence and returns the entity as sent", async () => {
    const fake = scriptedFetch({ status: 200, body: MDE_ALERT });
    expect(await client(fake).getAlert(MDE_ALERT.id)).toEqual(MDE_ALERT);
    expect(fake.requests[0]!.url).toBe(`${BASE}/api/alerts/da637472900382838869_1364969609?$expand=evidence`);
  });

  it("maps 404 to MdeApiError", async () => {
    const fake = scriptedFetch({ status: 404, body: { error: { code: "NotFound", message: "Alert not found", target: "c1" } } });
    await expect(client(fake).getAlert("missing")).rejects.toMatchObject({ statusCode: 404, code: "NotFound" });
    await expect(client(scriptedFetch({ status: 200, body: [] })).getAlert("x")).rejects.not.toBeInstanceOf(MdeApiError);
  });
});

describe("toMachine", () => {
  it("defaults missing fields and lowercases the id", () => {
    expect(toMachine({ id: "1E5BC9D7E413DDD7902C2932E418702B84D0CC07" })).toEqual({
      id: "1e5bc9d7e413ddd7902c2932e418702b84d0cc07",
      computerDnsName: null,
      osPlatform: null,
      healthStatus: null,
      machineTags: [],
      lastSeen: null,
      riskScore: null,
      exposureLevel: null,
      rbacGroupId: null,
      aadDeviceId: null,
    });
    expect(() => toMachine({ computerDnsName: "x" })).toThrow(CollectorError);
  });
});
