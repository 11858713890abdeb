import { HOUR, machine, MINUTE, SECOND } from "../../support/machines";
import { getFile, runScript, type StartedSimulator, startSimulator, stopSimulators } from "../../support/simulatorFixture";

afterEach(stopSimulators);

/** Three actions: A (online, Succeeded at 09:00), B (offline, Pending at 10:00), C (online, at 11:00, cancelled). */
async function threeActions() {
  const online = machine({ commandDurationMs: 10 * SECOND });
  const offline = machine({ onlineAfterMs: null });
  const other = machine();
  const s = await startSimulator({ machines: [online, offline, other] });
  const post = async (machineId: string, commands: unknown[]) =>
    (await s.call("POST", `/api/machines/${machineId}/runliveresponse`, { Commands: commands })).json.id as string;
  const a = await post(online.machineId, [runScript()]);
  s.clock.advanceBy(HOUR);
  const b = await post(offline.machineId, [getFile("C:\\a")]);
  s.clock.advanceBy(HOUR);
  const c = await post(other.machineId, [runScript()]);
  await s.call("POST", `/api/machineactions/${c}/cancel`, { Comment: "stop" });
  return { s, a, b, c, online, offline };
}

const ids = async (s: StartedSimulator, query: string) => {
  const res = await s.call("GET", `/api/machineactions?${query}`);
  expect(res.status).toBe(200);
  return (res.json.value as Array<{ id: string }>).map((x) => x.id);
};

describe("GET /api/machineactions?$filter=...", () => {
  it("answers the OData collection shape with every action when unfiltered", async () => {
    const { s, a, b, c } = await threeActions();
    const res = await s.call("GET", "/api/machineactions");
    expect(res.json["@odata.context"]).toBe(`${s.baseUrl}/api/$metadata#MachineActions`);
    expect(res.json.value.map((x: { id: string }) => x.id)).toEqual([a, b, c]);
    expect(res.json.value[0]).toMatchObject({ id: a, status: "Succeeded", type: "LiveResponse" });
  });

  it.each([
    ["machineId eq", (t: Awaited<ReturnType<typeof threeActions>>) => `$filter=machineId eq '${t.offline.machineId}'`, ["b"]],
    ["status eq", () => "$filter=status eq 'Pending'", ["b"]],
    ["status eq Cancelled", () => "$filter=status eq 'Cancelled'", ["c"]],
    ["type eq", () => "$filter=type eq 'LiveResponse'", ["a", "b", "c"]],
    ["requestor eq", () => "$filter=requestor eq 'mde-simulator-app'", ["a", "b", "c"]],
    ["id eq", (t: Awaited<ReturnType<typeof threeActions>>) => `$filter=id eq '${t.a}'`, ["a"]],
    ["id in", (t: Awaited<ReturnType<typeof threeActions>>) => `$filter=id in ('${t.a}','${t.c}')`, ["a", "c"]],
    ["creationDateTimeUtc ge", () => "$filter=creationDateTimeUtc ge 2026-03-02T10:00:00Z", ["b", "c"]],
    ["creationDateTimeUtc gt", () => "$filter=creationDateTimeUtc gt 2026-03-02T10:00:00Z", ["c"]],
    ["a bare date", () => "$filter=creationDateTimeUtc ge 2026-03-02Z", ["a", "b", "c"]],
    [
      "and",
      (t: Awaited<ReturnType<typeof threeActions>>) => `$filter=machineId eq '${t.online.machineId}' and status eq 'Succeeded'`,
      ["a"],
    ],
    [
      "and with no match",
      (t: Awaited<ReturnType<typeof threeActions>>) => `$filter=machineId eq '${t.online.machineId}' and status eq 'Pending'`,
      [],
    ],
    ["or and parentheses", () => "$filter=(status eq 'Pending' or status eq 'Cancelled') and type eq 'LiveResponse'", ["b", "c"]],
    ["$top", () => "$top=2", ["a", "b"]],
    ["$skip and $top", () => "$skip=1&$top=1", ["b"]],
  ])("filters with %s", async (_name, query, expected) => {
    const t = await threeActions();
    const byName: Record<string, string> = { a: t.a, b: t.b, c: t.c };
    expect(await ids(t.s, query(t))).toEqual(expected.map((k) => byName[k]));
  });

  it("computes statuses from the clock at request time", async () => {
    const { s, a } = await threeActions();
    // A finished hours ago; the other two are final or Pending.
    expect(await ids(s, "$filter=status eq 'InProgress'")).toEqual([]);
    expect(await ids(s, "$filter=status eq 'Succeeded'")).toEqual([a]);
  });

  it.each([
    ["an unknown property", "$filter=computerDnsName eq 'x'"],
    ["a function", "$filter=startswith(status,'P')"],
    ["an unquoted string", "$filter=status eq Pending"],
    ["a broken expression", "$filter=status eq 'Pending' and"],
    ["a bad date", "$filter=creationDateTimeUtc ge 'yesterday'"],
    ["a bad $top", "$top=-1"],
    ["$top above 10,000", "$top=10001"],
    ["an unsupported option", "$orderby=creationDateTimeUtc"],
  ])("answers 400 InvalidInput for %s", async (_name, query) => {
    const s = await startSimulator({ machines: [machine()] });
    const res = await s.call("GET", `/api/machineactions?${query}`);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("InvalidInput");
  });

  it("limits reads to 100 per minute", async () => {
    const s = await startSimulator({ machines: [machine()], limits: { readPerMinute: 2 } });
    expect((await s.call("GET", "/api/machineactions")).status).toBe(200);
    expect((await s.call("GET", "/api/machineactions")).status).toBe(200);
    const res = await s.call("GET", "/api/machineactions");
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("60");
    // Windows are per endpoint: GET machineaction has its own.
    expect((await s.call("GET", "/api/machineactions/7c4b2b1e-0000-4000-8000-000000000000")).status).toBe(404);
    s.clock.advanceBy(MINUTE);
    expect((await s.call("GET", "/api/machineactions")).status).toBe(200);
  });
});
