import { machine } from "../../support/machines";
import { startSimulator, stopSimulators } from "../../support/simulatorFixture";

afterEach(stopSimulators);

async function fleet() {
  const web = machine({ computerDnsName: "web01.contoso.com", machineTags: ["tier0", "web"] });
  const dc = machine({ computerDnsName: "dc01.contoso.com", machineTags: ["Tier0"], osPlatform: "WindowsServer2022" });
  const laptop = machine({ computerDnsName: "laptop7.contoso.com", healthStatus: "Inactive" });
  const s = await startSimulator({ machines: [web, dc, laptop] });
  const ids = async (query: string) => {
    const res = await s.call("GET", `/api/machines${query}`);
    expect(res.status).toBe(200);
    return (res.json.value as { id: string }[]).map((m) => m.id);
  };
  return { s, web, dc, laptop, ids };
}

describe("GET /api/machines", () => {
  it("lists every machine as a Machine entity, with defaults for osPlatform, healthStatus and machineTags", async () => {
    const { s, web, laptop } = await fleet();
    const res = await s.call("GET", "/api/machines");
    expect(res.json["@odata.context"]).toBe(`${s.baseUrl}/api/$metadata#Machines`);
    expect(res.json.value).toHaveLength(3);
    expect(res.json.value[0]).toMatchObject({
      id: web.machineId,
      computerDnsName: "web01.contoso.com",
      osPlatform: "Windows10",
      healthStatus: "Active",
      machineTags: ["tier0", "web"],
      lastSeen: expect.any(String),
    });
    expect(res.json.value[2]).toMatchObject({ id: laptop.machineId, healthStatus: "Inactive", machineTags: [] });
  });

  it.each([
    ["a tag, ignoring case", "machineTags/any(tag: tag eq 'tier0')", ["web", "dc"]],
    ["health status", "healthStatus eq 'Active'", ["web", "dc"]],
    ["health status ne", "healthStatus ne 'Active'", ["laptop"]],
    ["OS platform and tag", "osPlatform eq 'WindowsServer2022' and machineTags/any(t:t eq 'tier0')", ["dc"]],
    ["a DNS name prefix", "startswith(computerDnsName,'LAPTOP')", ["laptop"]],
    ["lastSeen", "lastSeen ge 2026-01-01T00:00:00Z", ["web", "dc", "laptop"]],
  ])("filters by %s", async (_name, filter, expected) => {
    const f = await fleet();
    const byName = { web: f.web.machineId, dc: f.dc.machineId, laptop: f.laptop.machineId } as Record<string, string>;
    expect(await f.ids(`?$filter=${encodeURIComponent(filter)}`)).toEqual(expected.map((n) => byName[n]));
  });

  it("honours $top and counts the calls", async () => {
    const f = await fleet();
    expect(await f.ids("?$top=2")).toEqual([f.web.machineId, f.dc.machineId]);
    expect(f.s.sim.stats().calls.listMachines).toBe(1);
  });

  it.each([
    ["an unknown property", "$filter=version eq '1709'"],
    ["any() on a plain field", "$filter=healthStatus/any(x: x eq 'a')"],
    ["a bad $top", "$top=10001"],
  ])("answers 400 InvalidInput for %s", async (_name, query) => {
    const { s } = await fleet();
    const res = await s.call("GET", `/api/machines?${query}`);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("InvalidInput");
  });

  it("refuses an invalid inventory field in a scenario", async () => {
    const { s } = await fleet();
    expect(() => s.sim.addMachine(machine({ healthStatus: "Sleeping" }))).toThrow(/healthStatus must be one of/);
  });
});
