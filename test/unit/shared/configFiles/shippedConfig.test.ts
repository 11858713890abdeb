/**
 * The config/ shipped in the repository: the playbooks load as the app loads them, the examples
 * (config/examples/, never loaded) are valid when copied into place, every file validates against the
 * JSON Schema its `$schema` names, and the schemas and the app's validators agree on what they refuse.
 * The app validates with its own parsers (shared/playbooks.ts, collectionPlans.ts, alerts/rules.ts);
 * the schemas serve editors, so this test keeps the two from drifting apart.
 */
import Ajv2020 from "ajv/dist/2020";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { readAlertRules } from "../../../../shared/alerts/rules";
import { readCollectionPlans } from "../../../../shared/collectionPlans";
import { loadConfig } from "../../../../shared/config";
import type { ConfigEntry } from "../../../../shared/configFiles/entries";
import { readPlaybooks } from "../../../../shared/playbooks";
import { ENTRA_TEST_SETTINGS } from "../../../support/settings";
import { tempAppRoot } from "./tempConfig";

const root = path.join(__dirname, "..", "..", "..", "..");
const config = path.join(root, "config");
const minimal = { ...ENTRA_TEST_SETTINGS, EVIDENCE_STORAGE_ACCOUNT_URL: "https://contosoevidence.blob.core.windows.net" };
const SCHEMAS = { playbook: "playbook.schema.json", plan: "plan.schema.json", alertRule: "alert-rule.schema.json" } as const;
type Kind = keyof typeof SCHEMAS;

const readJson = (file: string) => JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
const jsonFilesIn = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(".json"))
        .map((f) => path.join(dir, f))
    : [];
const kindOf = (file: Record<string, unknown>): Kind =>
  (Object.keys(SCHEMAS) as Kind[]).find((k) => file.$schema === `../schemas/${SCHEMAS[k]}`) ?? (undefined as never);

const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
const validators = Object.fromEntries(
  (Object.keys(SCHEMAS) as Kind[]).map((k) => [k, ajv.compile(readJson(path.join(config, "schemas", SCHEMAS[k])))]),
) as Record<Kind, ReturnType<typeof ajv.compile>>;

const shippedPlaybooks = jsonFilesIn(path.join(config, "playbooks"));
const examples = jsonFilesIn(path.join(config, "examples"));

describe("the shipped config/", () => {
  it("loads as the app loads it: the example playbooks, and no plan or alert rule (those run on devices unasked)", () => {
    const c = loadConfig(minimal, { appRoot: root });
    expect(c.playbooks.size).toBe(shippedPlaybooks.length);
    expect([...c.playbooks.keys()]).toEqual(expect.arrayContaining(["triage-package", "alert-file", "memory-dump"]));
    expect(c.plans.plans).toEqual([]);
    expect(c.alertRules).toEqual([]);
  });

  it("holds valid example plans and rules in config/examples/, which load once copied into plans/ and alert-rules/", () => {
    const kinds = examples.map((f) => kindOf(readJson(f)));
    expect(kinds).toEqual(expect.arrayContaining(["plan", "alertRule"]));
    expect(kinds).not.toContain(undefined);
    const files: Record<string, string> = {};
    for (const f of shippedPlaybooks) files[`config/playbooks/${path.basename(f)}`] = readFileSync(f, "utf8");
    examples.forEach((f, i) => {
      files[`config/${kinds[i] === "plan" ? "plans" : "alert-rules"}/${path.basename(f)}`] = readFileSync(f, "utf8");
    });
    const c = loadConfig(minimal, { appRoot: tempAppRoot(files) });
    expect(c.plans.plans.length + c.alertRules.length).toBe(examples.length);
    expect(c.alertRules.map((r) => r.name)).toEqual([...c.alertRules.map((r) => r.name)].sort());
  });

  it.each([...shippedPlaybooks, ...examples].map((f) => [path.relative(root, f), f]))(
    "%s validates against the schema its $schema names",
    (_name, file) => {
      const json = readJson(file);
      const dir = path.basename(path.dirname(file));
      const kind: Kind = dir === "playbooks" ? "playbook" : kindOf(json);
      expect(json.$schema).toBe(`../schemas/${SCHEMAS[kind]}`);
      expect(existsSync(path.resolve(path.dirname(file), json.$schema as string))).toBe(true);
      const validate = validators[kind];
      expect(validate(json) ? [] : validate.errors).toEqual([]);
    },
  );
});

/** What the app's validator says of one entry read from a file (playbooks from the shipped ones). */
function appAccepts(kind: Kind, value: unknown): boolean {
  const entry: ConfigEntry = { value, at: "config/x.json", file: true };
  const shipped: ConfigEntry[] = shippedPlaybooks.map((f) => {
    const { $schema: _schema, ...value } = readJson(f);
    return { value, at: f, file: true };
  });
  if (kind === "playbook") return readPlaybooks([entry]).problems.length === 0;
  const catalog = readPlaybooks(shipped).catalog;
  return (kind === "plan" ? readCollectionPlans([entry], catalog) : readAlertRules([entry], catalog)).problems.length === 0;
}

const basePlaybook = {
  name: "p",
  comment: "c {{machine.id}}",
  commands: [
    { type: "PutFile", params: [{ key: "FileName", value: "tool.exe" }] },
    {
      type: "RunScript",
      params: [
        { key: "ScriptName", value: "run.ps1" },
        { key: "Args", value: "-x" },
      ],
    },
    { type: "GetFile", params: [{ key: "Path", value: "C:\\out.zip" }] },
  ],
  librarySha256: { "run.ps1": "0".repeat(64) },
};
const basePlan = { name: "n", playbook: "triage-package", filter: "healthStatus eq 'Active'", top: 5 };
const baseRule = { name: "r", playbook: "alert-file", minSeverity: "medium", sources: ["mde"], titlePatterns: ["x"] };
const command = (type: string, params: unknown) => ({ ...basePlaybook, commands: [{ type, params }] });

const REFUSED: [Kind, string, unknown][] = [
  ["playbook", "an unknown field", { ...basePlaybook, extra: 1 }],
  ["playbook", "no name", { ...basePlaybook, name: undefined }],
  ["playbook", "a name with a space", { ...basePlaybook, name: "a b" }],
  ["playbook", "a name of 65 characters", { ...basePlaybook, name: "x".repeat(65) }],
  ["playbook", "a description that is not a string", { ...basePlaybook, description: 1 }],
  ["playbook", "an empty comment", { ...basePlaybook, comment: " " }],
  ["playbook", "no commands", { ...basePlaybook, commands: [] }],
  ["playbook", "21 commands", { ...basePlaybook, librarySha256: undefined, commands: Array(21).fill(basePlaybook.commands[2]) }],
  ["playbook", "an unknown command type", command("Collect", [{ key: "Path", value: "C:\\a" }])],
  ["playbook", "an unknown field in a command", { ...basePlaybook, commands: [{ ...basePlaybook.commands[2], extra: 1 }] }],
  ["playbook", "a param key in the wrong case", command("GetFile", [{ key: "path", value: "C:\\a" }])],
  ["playbook", "GetFile without Path", command("GetFile", [])],
  ["playbook", "RunScript without ScriptName", command("RunScript", [{ key: "Args", value: "x" }])],
  [
    "playbook",
    "PutFile with another command's param",
    command("PutFile", [
      { key: "FileName", value: "a" },
      { key: "Path", value: "b" },
    ]),
  ],
  ["playbook", "a ScriptName that is not a library file name", command("RunScript", [{ key: "ScriptName", value: "a b.ps1" }])],
  ["playbook", "an empty param value", command("GetFile", [{ key: "Path", value: "" }])],
  ["playbook", "a param value of 4,097 characters", command("GetFile", [{ key: "Path", value: "x".repeat(4097) }])],
  ["playbook", "a param without value", command("GetFile", [{ key: "Path" }])],
  ["playbook", "empty librarySha256", { ...basePlaybook, librarySha256: {} }],
  ["playbook", "a short hash", { ...basePlaybook, librarySha256: { "run.ps1": "0".repeat(63) } }],
  ["playbook", "a hash that is not hex", { ...basePlaybook, librarySha256: { "run.ps1": "g".repeat(64) } }],
  ["playbook", "a pinned name of only dots", { ...basePlaybook, librarySha256: { "..": "0".repeat(64) } }],
  ["playbook", "a pinned name with a space", { ...basePlaybook, librarySha256: { "run .ps1": "0".repeat(64) } }],
  ["plan", "an unknown field", { ...basePlan, extra: 1 }],
  ["plan", "no playbook", { ...basePlan, playbook: undefined }],
  ["plan", "a name with a space", { ...basePlan, name: "a b" }],
  ["plan", "both machineIds and filter", { ...basePlan, top: undefined, machineIds: ["a".repeat(40)] }],
  ["plan", "neither machineIds nor filter", { ...basePlan, filter: undefined, top: undefined }],
  ["plan", "top with machineIds", { ...basePlan, filter: undefined, machineIds: ["a".repeat(40)] }],
  ["plan", "top 0", { ...basePlan, top: 0 }],
  ["plan", "top 10,001", { ...basePlan, top: 10_001 }],
  ["plan", "top 1.5", { ...basePlan, top: 1.5 }],
  ["plan", "empty machineIds", { ...basePlan, filter: undefined, top: undefined, machineIds: [] }],
  ["plan", "a machine id that is not 40 hex", { ...basePlan, filter: undefined, top: undefined, machineIds: ["nope"] }],
  ["plan", "a blank filter", { ...basePlan, filter: "  " }],
  ["plan", "a filter of 2,001 characters", { ...basePlan, filter: "x".repeat(2001) }],
  ["plan", "parameters that are not strings", { ...basePlan, parameters: { a: 1 } }],
  ["plan", "a parameter name starting with a digit", { ...basePlan, parameters: { "1a": "x" } }],
  ["alertRule", "an unknown field", { ...baseRule, extra: 1 }],
  ["alertRule", "no playbook", { ...baseRule, playbook: undefined }],
  ["alertRule", "an unknown severity", { ...baseRule, minSeverity: "severe" }],
  ["alertRule", "an unknown source", { ...baseRule, sources: ["email"] }],
  ["alertRule", "empty categories", { ...baseRule, categories: [] }],
  ["alertRule", "a blank title pattern", { ...baseRule, titlePatterns: [" "] }],
  ["alertRule", "tactics that are not strings", { ...baseRule, tactics: [1] }],
  ["alertRule", "parameters that are not strings", { ...baseRule, parameters: { a: 1 } }],
];

describe("the JSON Schemas and the app's validators agree", () => {
  it.each([
    ["playbook", basePlaybook],
    ["plan", basePlan],
    ["alertRule", baseRule],
  ] as [Kind, unknown][])("both accept a valid %s", (kind, value) => {
    expect(validators[kind](value) ? [] : validators[kind].errors).toEqual([]);
    expect(appAccepts(kind, value)).toBe(true);
  });

  it.each(REFUSED)("%s with %s: both refuse it", (kind, _what, value) => {
    const json = JSON.parse(JSON.stringify(value)) as unknown;
    expect({ schema: validators[kind](json), app: appAccepts(kind, json) }).toEqual({ schema: false, app: false });
  });
});
