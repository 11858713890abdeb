import { DEFAULT_PLAN_TOP, parseCollectionPlans, planInstanceId, staggeredStart } from "../../../shared/collectionPlans";
import { parsePlaybooks } from "../../../shared/playbooks";

const { catalog } = parsePlaybooks(
  JSON.stringify([
    { name: "triage", commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\triage\\{{plan.name}}-{{machine.id}}.zip" }] }] },
    { name: "named", commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\triage\\{{machine.computerDnsName}}.zip" }] }] },
    { name: "alert-file", commands: [{ type: "GetFile", params: [{ key: "Path", value: "{{alert.filePath}}" }] }] },
  ]),
);
const M1 = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07";
const plansOf = (plans: unknown[]) => parseCollectionPlans(JSON.stringify(plans), catalog);

describe("parseCollectionPlans", () => {
  it("loads plans with listed machines or a filter, lowercasing and de-duplicating ids", () => {
    const { plans, problems } = plansOf([
      { name: "servers", playbook: "triage", machineIds: [M1.toUpperCase(), M1] },
      { name: "tier0", playbook: "named", filter: "machineTags/any(tag: tag eq 'tier0')", top: 10 },
      { name: "all-active", playbook: "triage", filter: "healthStatus eq 'Active'" },
    ]);
    expect(problems).toEqual([]);
    expect(plans.map((p) => p.machines)).toEqual([
      { machineIds: [M1] },
      { filter: "machineTags/any(tag: tag eq 'tier0')", top: 10 },
      { filter: "healthStatus eq 'Active'", top: DEFAULT_PLAN_TOP },
    ]);
  });

  it.each([
    ["neither machineIds nor filter", { name: "p", playbook: "triage" }, "COLLECTION_PLANS[0]", /exactly one of machineIds/],
    [
      "both machineIds and filter",
      { name: "p", playbook: "triage", machineIds: [M1], filter: "x eq 'y'" },
      "COLLECTION_PLANS[0]",
      /exactly one/,
    ],
    [
      "a bad machine id",
      { name: "p", playbook: "triage", machineIds: [M1, "desktop-1"] },
      "COLLECTION_PLANS[0].machineIds[1]",
      /40 hexadecimal/,
    ],
    ["top beyond 10,000", { name: "p", playbook: "triage", filter: "a eq 'b'", top: 10001 }, "COLLECTION_PLANS[0].top", /1 to 10000/],
    [
      "an unterminated string in the filter",
      { name: "p", playbook: "triage", filter: "healthStatus eq 'Active" },
      "COLLECTION_PLANS[0].filter",
      /unterminated/,
    ],
    ["an unknown playbook", { name: "p", playbook: "nope", machineIds: [M1] }, "COLLECTION_PLANS[0].playbook", /must name a playbook/],
    [
      "a playbook that needs an alert",
      { name: "p", playbook: "alert-file", machineIds: [M1] },
      "COLLECTION_PLANS[0].playbook",
      /\{\{alert.filePath\}\}, which a schedule collection cannot fill/,
    ],
    [
      "a DNS-name playbook with listed ids",
      { name: "p", playbook: "named", machineIds: [M1] },
      "COLLECTION_PLANS[0].playbook",
      /only a plan with a filter/,
    ],
    ["a bad name", { name: "nightly run", playbook: "triage", machineIds: [M1] }, "COLLECTION_PLANS[0].name", /letters, digits/],
  ])("refuses %s, naming the entry", (_name, plan, setting, problem) => {
    expect(plansOf([plan]).problems).toContainEqual({ setting, problem: expect.stringMatching(problem) });
  });

  it("refuses two plans with one name", () => {
    const plan = { name: "p", playbook: "triage", machineIds: [M1] };
    expect(plansOf([plan, plan]).problems).toEqual([{ setting: "COLLECTION_PLANS[1].name", problem: '"p" is defined twice' }]);
  });
});

describe("planInstanceId and staggeredStart", () => {
  it("derives one id per plan, machine and occurrence", () => {
    const id = planInstanceId("servers", M1, "2026-03-02T02:00:00.000Z");
    expect(id).toMatch(/^plan-[0-9a-f]{40}$/);
    expect(planInstanceId("servers", M1.toUpperCase(), "2026-03-02T02:00:00.000Z")).toBe(id);
    expect(planInstanceId("servers", M1, "2026-03-03T02:00:00.000Z")).not.toBe(id);
    expect(planInstanceId("other", M1, "2026-03-02T02:00:00.000Z")).not.toBe(id);
  });

  it("schedules `perMinute` submissions per minute", () => {
    const now = new Date("2026-03-02T02:00:00Z");
    expect([0, 4, 5, 9, 10].map((slot) => staggeredStart(slot, 5, now).toISOString().slice(11, 19))).toEqual([
      "02:00:00",
      "02:00:00",
      "02:01:00",
      "02:01:00",
      "02:02:00",
    ]);
  });
});
