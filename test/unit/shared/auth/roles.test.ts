import { grantsOf, needsMachineTags, parseRoleScopes, Roles, runAllowed } from "../../../../shared/auth/roles";

describe("AUTH_ROLE_SCOPES", () => {
  it("has the four built-in roles without scope by default", () => {
    expect(parseRoleScopes(undefined)).toEqual({
      roles: [
        { role: "Collector.Run", permission: "run" },
        { role: "Collector.Read", permission: "read" },
        { role: "Collector.Cancel", permission: "cancel" },
        { role: "Collector.Alert", permission: "alert" },
      ],
      problems: [],
    });
  });

  it("scopes a built-in role and adds a custom role that grants run", () => {
    const { roles, problems } = parseRoleScopes(
      JSON.stringify({
        "Collector.Run": { commandTypes: ["RunScript", "GetFile"] },
        "Collector.Run.Triage": { grants: "run", playbooks: ["triage-package"] },
      }),
    );
    expect(problems).toEqual([]);
    expect(roles).toContainEqual({ role: "Collector.Run", permission: "run", scope: { commandTypes: ["RunScript", "GetFile"] } });
    expect(roles).toContainEqual({ role: "Collector.Run.Triage", permission: "run", scope: { playbooks: ["triage-package"] } });
  });

  it.each([
    ["not JSON", "{", /JSON object/],
    ["an array", "[]", /JSON object/],
    ["a custom role without grants", '{"Tier1": {"playbooks": ["x"]}}', /grants must be one of/],
    ["a built-in role granting another permission", '{"Collector.Read": {"grants": "run"}}', /grants read/],
    ["an unknown field", '{"Collector.Run": {"devices": ["x"]}}', /unknown field "devices"/],
    ["an unknown command type", '{"Collector.Run": {"commandTypes": ["Shell"]}}', /only RunScript, GetFile, PutFile/],
    ["an empty list", '{"Collector.Run": {"playbooks": []}}', /non-empty list/],
    ["a scope on a read role", '{"Collector.Read": {"playbooks": ["x"]}}', /only to roles that grant run/],
  ])("names the problem for %s", (_name, json, problem) => {
    const { problems } = parseRoleScopes(json);
    expect(problems.map((p) => p.setting)).toContain("AUTH_ROLE_SCOPES");
    expect(problems.map((p) => p.problem).join("; ")).toMatch(problem);
  });
});

describe("run scopes", () => {
  const { roles } = parseRoleScopes(
    JSON.stringify({
      "Collector.Run.Triage": { grants: "run", playbooks: ["triage-package"] },
      "Collector.Run.Servers": { grants: "run", machineTags: ["servers"] },
    }),
  );

  it("a caller without a granting role has no grants", () => {
    expect(grantsOf(roles, ["Collector.Read"], "run")).toEqual([]);
  });

  it("an unscoped role allows anything", () => {
    expect(runAllowed(grantsOf(roles, [Roles.run], "run"), { commandTypes: ["PutFile"] })).toEqual({ ok: true });
  });

  it("a playbook scope refuses raw commands and other playbooks, and allows its own", () => {
    const grants = grantsOf(roles, ["Collector.Run.Triage"], "run");
    expect(runAllowed(grants, { commandTypes: ["GetFile"] })).toEqual({
      ok: false,
      reason: "Collector.Run.Triage: only playbooks may be started",
    });
    expect(runAllowed(grants, { playbook: "memory-dump", commandTypes: ["RunScript"] })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/memory-dump is outside/),
    });
    expect(runAllowed(grants, { playbook: "triage-package", commandTypes: ["RunScript", "GetFile"] })).toEqual({ ok: true });
  });

  it("a machine tag scope needs the device's tags and allows a tagged device", () => {
    const grants = grantsOf(roles, ["Collector.Run.Servers"], "run");
    expect(needsMachineTags(grants)).toBe(true);
    expect(runAllowed(grants, { commandTypes: ["GetFile"], machineTags: ["workstations"] })).toMatchObject({ ok: false });
    expect(runAllowed(grants, { commandTypes: ["GetFile"], machineTags: ["servers"] })).toEqual({ ok: true });
  });

  it("any one of several roles may allow the request", () => {
    const grants = grantsOf(roles, ["Collector.Run.Triage", "Collector.Run.Servers"], "run");
    expect(needsMachineTags(grants)).toBe(false);
    expect(runAllowed(grants, { playbook: "triage-package", commandTypes: ["GetFile"], machineTags: [] })).toEqual({ ok: true });
  });
});
