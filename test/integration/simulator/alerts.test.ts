import { MdeApiError } from "../../../shared/errors";
import { StaticTokenCredential } from "../../../shared/mde/auth";
import { MdeClient } from "../../../shared/mde/client";
import { MDE_ALERT } from "../../support/fixtures/alerts/mdeAlert";
import { startSimulator, stopSimulators } from "../../support/simulatorFixture";

afterEach(stopSimulators);

describe("GET /api/alerts/{id}", () => {
  it("answers a seeded alert as the MDE alert entity, with its evidence only when expanded", async () => {
    const s = await startSimulator({ alerts: [MDE_ALERT] });
    const expanded = await s.call("GET", `/api/alerts/${MDE_ALERT.id}?$expand=evidence`);
    expect(expanded.status).toBe(200);
    expect(expanded.json).toEqual({ "@odata.context": `${s.baseUrl}/api/$metadata#Alerts/$entity`, ...MDE_ALERT });
    const plain = await s.call("GET", `/api/alerts/${MDE_ALERT.id}`);
    expect(plain.json).not.toHaveProperty("evidence");
    expect(plain.json).toMatchObject({ id: MDE_ALERT.id, machineId: MDE_ALERT.machineId });
  });

  it("answers 404 for an unknown alert, 400 for another query option, 401 without a token; counts each call", async () => {
    const s = await startSimulator({ alerts: [MDE_ALERT] });
    expect((await s.call("GET", "/api/alerts/da1_1")).status).toBe(404);
    expect((await s.call("GET", `/api/alerts/${MDE_ALERT.id}?$select=id`)).json.error).toMatchObject({ code: "InvalidInput" });
    expect((await fetch(`${s.baseUrl}/api/alerts/${MDE_ALERT.id}`)).status).toBe(401);
    expect(s.sim.stats()).toMatchObject({ calls: { getAlert: 3 }, byStatus: { "404": 1, "400": 1, "401": 1 } });
  });

  it("takes alerts through POST /simulator/alerts and in code, refusing one without an id or a duplicate", async () => {
    const s = await startSimulator();
    const added = await fetch(`${s.baseUrl}/simulator/alerts`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(MDE_ALERT),
    });
    expect(added.status).toBe(201);
    s.sim.addAlert({ ...MDE_ALERT, id: "da2_2" });
    expect(((await (await fetch(`${s.baseUrl}/simulator/alerts`)).json()) as { id: string }[]).map((a) => a.id)).toEqual([
      MDE_ALERT.id,
      "da2_2",
    ]);
    expect(() => s.sim.addAlert(MDE_ALERT)).toThrow(/already exists/);
    const bad = await fetch(`${s.baseUrl}/simulator/alerts`, { method: "POST", body: JSON.stringify({ title: "no id" }) });
    expect(bad.status).toBe(400);
  });

  it("is what MdeClient.getAlert reads, evidence included", async () => {
    const s = await startSimulator({ alerts: [MDE_ALERT] });
    const client = new MdeClient(s.baseUrl, new StaticTokenCredential("local-development"), {
      allowedHosts: { hosts: [], allowLoopback: true },
    });
    expect(await client.getAlert(MDE_ALERT.id)).toMatchObject({ id: MDE_ALERT.id, evidence: MDE_ALERT.evidence });
    await expect(client.getAlert("da9_9")).rejects.toBeInstanceOf(MdeApiError);
  });
});
