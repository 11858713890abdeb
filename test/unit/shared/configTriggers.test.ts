import { loadConfig } from "../../../shared/config";
import { ConfigError } from "../../../shared/errors";
import { ENTRA_TEST_SETTINGS } from "../../support/settings";

const minimal = { ...ENTRA_TEST_SETTINGS, EVIDENCE_STORAGE_ACCOUNT_URL: "https://contosoevidence.blob.core.windows.net" };
const playbooks = JSON.stringify([{ name: "triage", commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\triage.zip" }] }] }]);

function problemsOf(env: Record<string, string>): { setting: string; problem: string }[] {
  try {
    loadConfig({ ...minimal, ...env });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig: playbooks, plans and alert rules", () => {
  it("defaults to no playbooks, plans or rules, a 02:00 UTC schedule, 25 machines per run and 5 submissions per minute", () => {
    const c = loadConfig(minimal);
    expect(c.playbooks.size).toBe(0);
    expect(c.alertRules).toEqual([]);
    expect(c.plans).toEqual({ schedule: "0 0 2 * * *", maxMachinesPerRun: 25, submissionsPerMinute: 5, plans: [] });
  });

  it("loads plans and rules against the playbooks", () => {
    const c = loadConfig({
      ...minimal,
      PLAYBOOKS: playbooks,
      COLLECTION_PLANS: JSON.stringify([{ name: "nightly", playbook: "triage", filter: "healthStatus eq 'Active'" }]),
      ALERT_RULES: JSON.stringify([{ name: "all", playbook: "triage" }]),
      COLLECTION_PLANS_SCHEDULE: "0 30 1 * * Mon-Fri",
      COLLECTION_PLANS_MAX_MACHINES: "100",
    });
    expect(c.plans).toMatchObject({ schedule: "0 30 1 * * Mon-Fri", maxMachinesPerRun: 100, plans: [{ name: "nightly" }] });
    expect(c.alertRules).toMatchObject([{ name: "all", playbook: "triage" }]);
  });

  it("names every bad setting and entry in one error", () => {
    const problems = problemsOf({
      PLAYBOOKS: JSON.stringify([{ name: "triage", commands: [] }]),
      COLLECTION_PLANS: JSON.stringify([{ name: "nightly", playbook: "triage", machineIds: ["nope"] }]),
      ALERT_RULES: "not json",
      COLLECTION_PLANS_SCHEDULE: "every night",
      COLLECTION_PLANS_SUBMISSIONS_PER_MINUTE: "0",
    });
    expect(problems.map((p) => p.setting)).toEqual([
      "PLAYBOOKS[0].commands",
      "COLLECTION_PLANS[0].playbook",
      "COLLECTION_PLANS[0].machineIds[0]",
      "ALERT_RULES",
      "COLLECTION_PLANS_SCHEDULE",
      "COLLECTION_PLANS_SUBMISSIONS_PER_MINUTE",
    ]);
  });
});
