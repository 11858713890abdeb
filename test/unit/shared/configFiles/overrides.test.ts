import { loadConfig } from "../../../../shared/config";
import { entryProblem } from "../../../../shared/configFiles/entries";
import { ConfigError } from "../../../../shared/errors";
import { ENTRA_TEST_SETTINGS } from "../../../support/settings";
import { getFilePlaybook, tempAppRoot } from "./tempConfig";

const minimal = { ...ENTRA_TEST_SETTINGS, EVIDENCE_STORAGE_ACCOUNT_URL: "https://contosoevidence.blob.core.windows.net" };

function problemsOf(appRoot: string, env: Record<string, string> = {}): ConfigError {
  try {
    loadConfig({ ...minimal, ...env }, { appRoot });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("config files through loadConfig", () => {
  it("names the file and the field in the startup error", () => {
    const root = tempAppRoot({
      "config/playbooks/triage.json": {
        name: "triage",
        commands: [
          { type: "GetFile", params: [{ key: "Path", value: "C:\\a.txt" }] },
          { type: "GetFile", params: [{ key: "Path", value: "\\\\server\\share\\b.txt" }] },
        ],
      },
      "config/plans/nightly.json": { name: "nightly", playbook: "missing", machineIds: ["nope"] },
      "config/alert-rules/10-all.json": { name: "10-all", playbook: "missing", titlePatterns: ["/x/g"] },
    });
    const error = problemsOf(root);
    expect(error.message).toContain("config/playbooks/triage.json: commands[1].params[0].value: must be a local path");
    expect(error.problems.map((p) => `${p.setting}: ${p.problem.split(":")[0]}`)).toEqual([
      "config/playbooks/triage.json: commands[1].params[0].value",
      "config/plans/nightly.json: playbook",
      "config/plans/nightly.json: machineIds[0]",
      "config/alert-rules/10-all.json: playbook",
      "config/alert-rules/10-all.json: titlePatterns[0]",
    ]);
  });

  it("checks plans and rules from files against playbooks from files and from the setting", () => {
    const root = tempAppRoot({
      "config/playbooks/triage.json": getFilePlaybook("triage"),
      "config/plans/nightly.json": { name: "nightly", playbook: "from-setting", filter: "healthStatus eq 'Active'" },
      "config/alert-rules/10-all.json": { name: "10-all", playbook: "triage" },
    });
    const c = loadConfig({ ...minimal, PLAYBOOKS: JSON.stringify([getFilePlaybook("from-setting")]) }, { appRoot: root });
    expect([...c.playbooks.keys()]).toEqual(["triage", "from-setting"]);
    expect(c.plans.plans).toMatchObject([{ name: "nightly", playbook: "from-setting" }]);
    expect(c.alertRules).toMatchObject([{ name: "10-all", playbook: "triage" }]);
  });

  it("lets a setting's entry replace the file of the same name, even a broken one, and keeps the file's place", () => {
    const root = tempAppRoot({
      "config/playbooks/triage.json": "{ broken",
      "config/playbooks/other.json": getFilePlaybook("other", "C:\\from-file.txt"),
      "config/alert-rules/10-first.json": { name: "10-first", playbook: "other", minSeverity: "low" },
      "config/alert-rules/20-second.json": { name: "20-second", playbook: "other" },
    });
    const c = loadConfig(
      {
        ...minimal,
        PLAYBOOKS: JSON.stringify([getFilePlaybook("triage", "C:\\from-setting.txt")]),
        ALERT_RULES: JSON.stringify([
          { name: "added", playbook: "triage" },
          { name: "10-first", playbook: "triage", minSeverity: "high" },
        ]),
      },
      { appRoot: root },
    );
    expect(c.playbooks.get("triage")!.commands[0]!.params[0]!.value).toBe("C:\\from-setting.txt");
    expect(c.playbooks.get("other")!.commands[0]!.params[0]!.value).toBe("C:\\from-file.txt");
    // The replaced rule keeps its file's place (first), the setting's own rule follows the files.
    expect(c.alertRules.map((r) => [r.name, r.playbook, r.minSeverity])).toEqual([
      ["10-first", "triage", "high"],
      ["20-second", "other", undefined],
      ["added", "triage", undefined],
    ]);
  });

  it("replaces a plan file too, and still names a name the setting defines twice", () => {
    const root = tempAppRoot({
      "config/playbooks/triage.json": getFilePlaybook("triage"),
      "config/plans/nightly.json": { name: "nightly", playbook: "triage", filter: "healthStatus eq 'Active'" },
    });
    const c = loadConfig(
      { ...minimal, COLLECTION_PLANS: JSON.stringify([{ name: "nightly", playbook: "triage", filter: "osPlatform eq 'Windows11'" }]) },
      { appRoot: root },
    );
    expect(c.plans.plans).toMatchObject([{ name: "nightly", machines: { filter: "osPlatform eq 'Windows11'" } }]);
    const twice = [
      { name: "nightly", playbook: "triage", filter: "a eq 'b'" },
      { name: "nightly", playbook: "triage", filter: "c eq 'd'" },
    ];
    expect(problemsOf(root, { COLLECTION_PLANS: JSON.stringify(twice) }).problems).toEqual([
      { setting: "COLLECTION_PLANS[1].name", problem: '"nightly" is defined twice' },
    ]);
  });

  it("reports a problem of a setting's entry under the setting's name, as before", () => {
    const root = tempAppRoot({ "config/playbooks/triage.json": getFilePlaybook("triage") });
    expect(problemsOf(root, { PLAYBOOKS: JSON.stringify([{ name: "triage", commands: [] }]) }).problems).toEqual([
      { setting: "PLAYBOOKS[0].commands", problem: "required: a non-empty array of live response commands (PutFile, RunScript, GetFile)" },
    ]);
  });

  it("reads no config/ when the caller gives no app root (tests and tools pass settings only)", () => {
    const root = tempAppRoot({ "config/playbooks/triage.jsn": {} });
    expect(() => loadConfig(minimal)).not.toThrow();
    expect(problemsOf(root).problems).toEqual([
      { setting: "config/playbooks/triage.jsn", problem: expect.stringMatching(/^not a config file/) },
    ]);
  });
});

describe("entryProblem", () => {
  it("names a setting's entry by its full path, and a file's entry by the file, with the field in the problem", () => {
    expect(entryProblem({ value: {}, at: "PLAYBOOKS[1]" }, "PLAYBOOKS[1].name", "bad")).toEqual({
      setting: "PLAYBOOKS[1].name",
      problem: "bad",
    });
    const file = { value: {}, at: "config/plans/a.json", file: true };
    expect(entryProblem(file, "config/plans/a.json.machineIds[0]", "bad")).toEqual({
      setting: "config/plans/a.json",
      problem: "machineIds[0]: bad",
    });
    expect(entryProblem(file, "config/plans/a.json", "bad")).toEqual({ setting: "config/plans/a.json", problem: "bad" });
  });
});
