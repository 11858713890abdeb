import { mkdirSync, symlinkSync } from "node:fs";
import path from "node:path";
import { readDefinitions } from "../../../../shared/configFiles/definitions";
import { CONFIG_FILE_LIMITS, readConfigDirectory } from "../../../../shared/configFiles/readConfigDirectory";
import type { SettingProblem } from "../../../../shared/errors";
import { settingsReader, type Env } from "../../../../shared/settingsReader";
import { getFilePlaybook, tempAppRoot } from "./tempConfig";

/** What the loader makes of an app root: the definitions and every problem. */
function load(appRoot: string | undefined, env: Env = {}) {
  const problems: SettingProblem[] = [];
  const definitions = readDefinitions(settingsReader(env, problems), problems, { allowUncPaths: false, appRoot });
  return { definitions, problems };
}

const triage = getFilePlaybook("triage");

describe("config files: the directory", () => {
  it("reads playbooks from config/ under the app root, naming each by its file", () => {
    const root = tempAppRoot({ "config/playbooks/triage.json": triage });
    const { definitions, problems } = load(root);
    expect(problems).toEqual([]);
    expect([...definitions.playbooks.keys()]).toEqual(["triage"]);
    expect(definitions.counts.playbooks).toEqual({ files: 1, settings: 0 });
  });

  it("treats a missing config directory, or missing kind folders, as no files", () => {
    expect(load(tempAppRoot({}))).toMatchObject({ problems: [], definitions: { plans: [], alertRules: [] } });
    expect(load(tempAppRoot({ "config/playbooks/triage.json": triage })).problems).toEqual([]);
  });

  it("reads no files without an app root or CONFIG_DIRECTORY", () => {
    expect(load(undefined).definitions).toMatchObject({ counts: { playbooks: { files: 0 } } });
    expect(load(undefined).definitions.directory).toBeUndefined();
  });

  it("reads CONFIG_DIRECTORY instead, resolved against the app root, and refuses one that does not exist or is not a folder", () => {
    const root = tempAppRoot({
      "elsewhere/playbooks/other.json": getFilePlaybook("other"),
      "config/playbooks/triage.json": triage,
      "a-file": "x",
    });
    expect([...load(root, { CONFIG_DIRECTORY: "elsewhere" }).definitions.playbooks.keys()]).toEqual(["other"]);
    expect([...load(undefined, { CONFIG_DIRECTORY: path.join(root, "elsewhere") }).definitions.playbooks.keys()]).toEqual(["other"]);
    expect(load(root, { CONFIG_DIRECTORY: "missing" }).problems).toEqual([
      { setting: "CONFIG_DIRECTORY", problem: `names ${path.join(root, "missing")}, which does not exist` },
    ]);
    expect(load(root, { CONFIG_DIRECTORY: "a-file" }).problems).toEqual([
      { setting: "CONFIG_DIRECTORY", problem: `${path.join(root, "a-file")} is not a folder` },
    ]);
  });

  it("refuses an unknown file or folder beside the kind folders, and never reads schemas/ or examples/", () => {
    const root = tempAppRoot({
      "config/plan/nightly.json": {},
      "config/README.md": "notes",
      "config/schemas/broken.json": "{ not json",
      "config/examples/broken.json": "{ not json",
    });
    const { problems } = load(root);
    expect(problems.map((p) => p.setting)).toEqual(["config/README.md", "config/plan"]);
    expect(problems[0]!.problem).toMatch(
      /^unknown entry in the config directory: it holds only the folders playbooks\/, plans\/, alert-rules\//,
    );
  });

  it("refuses a kind folder that is a file", () => {
    const { problems } = load(tempAppRoot({ "config/plans": "not a folder" }));
    expect(problems).toEqual([
      { setting: "config/plans", problem: expect.stringMatching(/^unknown entry/) },
      { setting: "config/plans", problem: "must be a folder of <name>.json files" },
    ]);
  });

  it("refuses a file without the .json extension, or whose name is not an entry name, naming it", () => {
    const root = tempAppRoot({
      "config/playbooks/triage.jsn": triage,
      "config/playbooks/Triage.JSON": triage,
      "config/playbooks/has space.json": triage,
      [`config/playbooks/${"x".repeat(65)}.json`]: triage,
      "config/playbooks/.json": triage,
    });
    const { problems, definitions } = load(root);
    expect(problems.map((p) => p.setting).sort()).toEqual(
      [
        "config/playbooks/.json",
        "config/playbooks/Triage.JSON",
        "config/playbooks/has space.json",
        `config/playbooks/${"x".repeat(65)}.json`,
        "config/playbooks/triage.jsn",
      ].sort(),
    );
    expect(problems[0]!.problem).toBe(
      "not a config file: playbooks/ holds only <name>.json files, name 1-64 letters, digits, '.', '_', '-'",
    );
    expect(definitions.playbooks.size).toBe(0);
  });

  it("refuses a folder or a link in a kind folder", () => {
    const root = tempAppRoot({ "config/alert-rules/nested.json/rule.json": {}, "target.json": triage });
    mkdirSync(path.join(root, "config", "playbooks"));
    symlinkSync(path.join(root, "target.json"), path.join(root, "config", "playbooks", "triage.json"));
    expect(load(root).problems).toEqual([
      { setting: "config/playbooks/triage.json", problem: "must be a regular file (not a folder or a link)" },
      { setting: "config/alert-rules/nested.json", problem: "must be a regular file (not a folder or a link)" },
    ]);
  });

  it(`refuses a folder of more than ${CONFIG_FILE_LIMITS.maxFilesPerFolder} files, reading none of them`, () => {
    const files: Record<string, unknown> = {};
    for (let i = 0; i <= CONFIG_FILE_LIMITS.maxFilesPerFolder; i++) files[`config/playbooks/p${i}.json`] = getFilePlaybook(`p${i}`);
    const { problems, definitions } = load(tempAppRoot(files));
    expect(problems).toEqual([
      { setting: "config/playbooks", problem: `holds ${CONFIG_FILE_LIMITS.maxFilesPerFolder + 1} entries; at most 200 files are read` },
    ]);
    expect(definitions.playbooks.size).toBe(0);
    delete files["config/playbooks/p0.json"];
    expect(load(tempAppRoot(files)).definitions.playbooks.size).toBe(CONFIG_FILE_LIMITS.maxFilesPerFolder);
  });

  it(`refuses a file over ${CONFIG_FILE_LIMITS.maxFileBytes} bytes unread`, () => {
    const big = JSON.stringify({ ...triage, description: "x".repeat(CONFIG_FILE_LIMITS.maxFileBytes) });
    expect(load(tempAppRoot({ "config/playbooks/triage.json": big })).problems).toEqual([
      {
        setting: "config/playbooks/triage.json",
        problem: `is ${Buffer.byteLength(big)} bytes; at most ${CONFIG_FILE_LIMITS.maxFileBytes} are read`,
      },
    ]);
    const justFits = JSON.stringify({ ...triage, description: "x".repeat(CONFIG_FILE_LIMITS.maxFileBytes - 200) });
    expect(Buffer.byteLength(justFits)).toBeLessThanOrEqual(CONFIG_FILE_LIMITS.maxFileBytes);
    expect(load(tempAppRoot({ "config/playbooks/triage.json": justFits })).problems).toEqual([]);
  });

  it("refuses a file that is not UTF-8 or not JSON, and accepts a byte order mark", () => {
    const latin1 = Buffer.from(`{"name":"triage","description":"caf\xe9","commands":[]}`, "latin1");
    expect(load(tempAppRoot({ "config/playbooks/triage.json": latin1 })).problems).toEqual([
      { setting: "config/playbooks/triage.json", problem: "is not UTF-8 text" },
    ]);
    const [problem] = load(tempAppRoot({ "config/playbooks/triage.json": '{ "name": "triage", }' })).problems;
    expect(problem).toEqual({ setting: "config/playbooks/triage.json", problem: expect.stringMatching(/^is not valid JSON: /) });
    const withBom = `\uFEFF${JSON.stringify(triage)}`;
    expect(load(tempAppRoot({ "config/playbooks/triage.json": withBom })).problems).toEqual([]);
  });

  it("refuses a file that holds anything but one object", () => {
    expect(load(tempAppRoot({ "config/playbooks/triage.json": [triage] })).problems).toEqual([
      { setting: "config/playbooks/triage.json", problem: 'must hold one JSON object (one entry per file), named "triage" like the file' },
    ]);
  });

  it("ignores a string $schema (for editors) and refuses another", () => {
    const root = tempAppRoot({ "config/playbooks/triage.json": { $schema: "../schemas/playbook.schema.json", ...triage } });
    expect(load(root).problems).toEqual([]);
    expect(load(tempAppRoot({ "config/playbooks/triage.json": { $schema: 1, ...triage } })).problems).toEqual([
      { setting: "config/playbooks/triage.json", problem: "$schema: must be a string (the schema's path, for editors)" },
    ]);
  });

  it("requires an entry's name to be its file's name", () => {
    expect(load(tempAppRoot({ "config/playbooks/triage.json": getFilePlaybook("other") })).problems).toEqual([
      { setting: "config/playbooks/triage.json", problem: 'name: must be "triage", the file\'s name without .json (found "other")' },
    ]);
    // A missing name is the validator's to report, with the file and field.
    expect(load(tempAppRoot({ "config/playbooks/triage.json": { commands: triage.commands } })).problems).toEqual([
      { setting: "config/playbooks/triage.json", problem: "name: required: 1-64 letters, digits, '.', '_', '-'" },
    ]);
  });

  it("reads files in code point order, whatever the platform's listing order", () => {
    const names = ["b", "B", "a", "10-x", "9-x", "_z"];
    const files = Object.fromEntries(names.map((n) => [`config/playbooks/${n}.json`, getFilePlaybook(n)]));
    const root = tempAppRoot(files);
    expect(readConfigDirectory(path.join(root, "config"), root, false, "CONFIG_DIRECTORY").playbooks.map((f) => f.name)).toEqual([
      "10-x",
      "9-x",
      "B",
      "_z",
      "a",
      "b",
    ]);
  });

  it("names files outside the app root by their absolute path", () => {
    const other = tempAppRoot({ "playbooks/triage.jsn": {} });
    const root = tempAppRoot({});
    expect(load(root, { CONFIG_DIRECTORY: other }).problems.map((p) => p.setting)).toEqual([
      path.join(other, "package.json"),
      path.join(other, "playbooks", "triage.jsn"),
    ]);
  });
});
