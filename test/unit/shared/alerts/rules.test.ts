import type { NormalizedAlert } from "../../../../shared/alerts/normalize";
import { matchRule, parseAlertRules } from "../../../../shared/alerts/rules";
import { parsePlaybooks } from "../../../../shared/playbooks";

const { catalog } = parsePlaybooks(
  JSON.stringify([
    { name: "alert-file", commands: [{ type: "GetFile", params: [{ key: "Path", value: "{{alert.filePath}}" }] }] },
    {
      name: "dump",
      commands: [
        {
          type: "RunScript",
          params: [
            { key: "ScriptName", value: "minidump.ps1" },
            { key: "Args", value: "{{params.process}}" },
          ],
        },
      ],
    },
    { name: "nightly", commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\triage-{{plan.name}}.zip" }] }] },
  ]),
);
const rulesOf = (rules: unknown[]) => parseAlertRules(JSON.stringify(rules), catalog);
const alert = (over: Partial<NormalizedAlert> = {}): NormalizedAlert => ({
  source: "graph",
  id: "a1",
  severity: "medium",
  title: "Suspicious execution of hidden file",
  category: "DefenseEvasion",
  detectionSource: "antivirus",
  devices: [],
  files: [],
  ...over,
});

describe("parseAlertRules", () => {
  it("loads rules with every kind of condition", () => {
    const { rules, problems } = rulesOf([
      {
        name: "lsass",
        playbook: "dump",
        parameters: { process: "lsass" },
        minSeverity: "High",
        titlePatterns: ["/lsass|mimikatz/i", "credential"],
        sources: ["MDE", "graph"],
      },
    ]);
    expect(problems).toEqual([]);
    expect(rules[0]).toMatchObject({
      name: "lsass",
      minSeverity: "high",
      sources: ["mde", "graph"],
      titlePatterns: [{ regex: /lsass|mimikatz/i }, { substring: "credential" }],
    });
  });

  it.each([
    [
      "an invalid regex",
      { name: "r", playbook: "alert-file", titlePatterns: ["/(unclosed/"] },
      "ALERT_RULES[0].titlePatterns[0]",
      /not a valid regular expression/,
    ],
    [
      "a stateful regex flag",
      { name: "r", playbook: "alert-file", titlePatterns: ["/x/g"] },
      "ALERT_RULES[0].titlePatterns[0]",
      /g and y flags/,
    ],
    ["an unknown playbook", { name: "r", playbook: "nope" }, "ALERT_RULES[0].playbook", /alert-file, dump, nightly/],
    [
      "a playbook an alert cannot fill",
      { name: "r", playbook: "nightly" },
      "ALERT_RULES[0].playbook",
      /\{\{plan.name\}\}, which a alert collection cannot fill/,
    ],
    ["a missing parameter", { name: "r", playbook: "dump" }, "ALERT_RULES[0].parameters", /needs a value for \{\{params.process\}\}/],
    [
      "an extra parameter",
      { name: "r", playbook: "alert-file", parameters: { x: "1" } },
      "ALERT_RULES[0].parameters.x",
      /no \{\{params.x\}\}/,
    ],
    [
      "an unknown severity",
      { name: "r", playbook: "alert-file", minSeverity: "critical" },
      "ALERT_RULES[0].minSeverity",
      /informational, low, medium, high/,
    ],
    ["an unknown source", { name: "r", playbook: "alert-file", sources: ["splunk"] }, "ALERT_RULES[0].sources[0]", /graph, mde, sentinel/],
    ["an empty category list", { name: "r", playbook: "alert-file", categories: [] }, "ALERT_RULES[0].categories", /non-empty array/],
    ["a missing name", { playbook: "alert-file" }, "ALERT_RULES[0].name", /required/],
    ["an unknown field", { name: "r", playbook: "alert-file", severity: "high" }, "ALERT_RULES[0].severity", /unknown field/],
    [
      "tactics that are not a list",
      { name: "r", playbook: "alert-file", tactics: "Execution" },
      "ALERT_RULES[0].tactics",
      /non-empty array/,
    ],
    ["an empty alert type", { name: "r", playbook: "alert-file", alertTypes: [""] }, "ALERT_RULES[0].alertTypes", /non-empty strings/],
    [
      "provider names that are not strings",
      { name: "r", playbook: "alert-file", providerNames: [1] },
      "ALERT_RULES[0].providerNames",
      /non-empty strings/,
    ],
  ])("refuses %s, naming the entry", (_name, rule, setting, message) => {
    expect(rulesOf([rule]).problems).toContainEqual({ setting, problem: expect.stringMatching(message) });
  });
});

describe("matchRule", () => {
  const { rules } = rulesOf([
    { name: "high-only", playbook: "alert-file", minSeverity: "high" },
    { name: "evasion", playbook: "alert-file", minSeverity: "low", categories: ["defenseevasion"], detectionSources: ["Antivirus"] },
    { name: "titled", playbook: "alert-file", titlePatterns: ["/^Low-reputation/", "hidden FILE"] },
    { name: "sentinel", playbook: "alert-file", sources: ["sentinel"] },
  ]);

  it("orders severities informational < low < medium < high; unknown severity never meets a minimum", () => {
    expect(matchRule(rules, alert({ severity: "high" }))?.name).toBe("high-only");
    expect(matchRule(rules, alert({ severity: "medium" }))?.name).toBe("evasion");
    expect(matchRule(rules, alert({ severity: "informational" }))?.name).toBe("titled");
    expect(matchRule(rules, alert({ severity: undefined }))?.name).toBe("titled");
  });

  it("matches categories and detection sources ignoring case, titles by regex or substring", () => {
    expect(matchRule(rules, alert({ category: "Execution", title: "Low-reputation arbitrary code" }))?.name).toBe("titled");
    expect(matchRule(rules, alert({ category: "Execution", title: "Suspicious hidden file launched" }))?.name).toBe("titled");
    expect(matchRule(rules, alert({ detectionSource: "WindowsDefenderAv", title: "x" }))).toBeUndefined();
  });

  it("filters by source; the first matching rule wins; no match is undefined", () => {
    expect(matchRule(rules, alert({ source: "sentinel", severity: undefined, title: "x" }))?.name).toBe("sentinel");
    expect(matchRule(rules, alert({ source: "mde", severity: "low", category: "Execution", title: "x" }))).toBeUndefined();
  });

  it("matches a Sentinel row's Tactics (any one), AlertType and ProviderName, ignoring case; an alert without them never matches", () => {
    const { rules: sentinelRules, problems } = rulesOf([
      {
        name: "persistence-by-mde",
        playbook: "alert-file",
        tactics: ["persistence", "PrivilegeEscalation"],
        alertTypes: ["windowsdefenderatp"],
        providerNames: ["mdatp"],
      },
      { name: "any-mdatp", playbook: "alert-file", providerNames: ["MDATP"] },
    ]);
    expect(problems).toEqual([]);
    expect(sentinelRules[0]).toMatchObject({
      tactics: ["persistence", "PrivilegeEscalation"],
      alertTypes: ["windowsdefenderatp"],
      providerNames: ["mdatp"],
    });
    const row = alert({
      source: "sentinel",
      tactics: ["Execution", "Persistence"],
      alertType: "WindowsDefenderAtp",
      providerName: "MDATP",
    });
    expect(matchRule(sentinelRules, row)?.name).toBe("persistence-by-mde");
    expect(matchRule(sentinelRules, { ...row, tactics: ["Execution"] })?.name).toBe("any-mdatp");
    expect(matchRule(sentinelRules, { ...row, alertType: "MCAS" })?.name).toBe("any-mdatp");
    expect(matchRule(sentinelRules, alert({ source: "mde" }))).toBeUndefined();
  });
});
