import { parsePlaybooks, renderPlaybook, unavailablePlaceholders, type Playbook } from "../../../shared/playbooks";

const getFile = (path: string) => ({ type: "GetFile", params: [{ key: "Path", value: path }] });
const catalogOf = (entries: unknown[]) => parsePlaybooks(JSON.stringify(entries));
const problemsOf = (entries: unknown[]) => catalogOf(entries).problems;

const alertFile = { name: "alert-file", comment: "Alert {{alert.id}}", commands: [getFile("{{alert.filePath}}")] };
const dump = {
  name: "memory-dump",
  commands: [
    {
      type: "RunScript",
      params: [
        { key: "ScriptName", value: "minidump.ps1" },
        { key: "Args", value: "{{params.process}}" },
      ],
    },
    getFile("C:\\windows\\TEMP\\{{ params.process }}.dmp.zip"),
  ],
};

function one(entry: unknown): Playbook {
  const { catalog, problems } = catalogOf([entry]);
  expect(problems).toEqual([]);
  return [...catalog.values()][0]!;
}

describe("parsePlaybooks", () => {
  it("loads playbooks and records the placeholders each uses", () => {
    const { catalog, problems } = catalogOf([alertFile, dump]);
    expect(problems).toEqual([]);
    expect(catalog.get("alert-file")!.placeholders).toEqual(["alert.filePath", "alert.id"]);
    expect(catalog.get("memory-dump")!.placeholders).toEqual(["params.process"]);
    expect(catalog.get("memory-dump")!.commands[1]!.params[0]!.value).toBe("C:\\windows\\TEMP\\{{ params.process }}.dmp.zip");
  });

  it("treats an absent or blank setting as no playbooks", () => {
    expect(parsePlaybooks(undefined).catalog.size).toBe(0);
    expect(parsePlaybooks("  ").problems).toEqual([]);
  });

  it("names the bad entry with the webhook's command rules", () => {
    const problems = problemsOf([alertFile, dump, { name: "broken", commands: [{ type: "GetFile", params: [] }] }]);
    expect(problems).toEqual([{ setting: "PLAYBOOKS[2].commands[0].params", problem: "GetFile requires Path" }]);
  });

  it("accepts a placeholder in a library file name and checks the rest of the value", () => {
    expect(
      problemsOf([{ name: "s", commands: [{ type: "RunScript", params: [{ key: "ScriptName", value: "{{params.script}}" }] }] }]),
    ).toEqual([]);
    const problems = problemsOf([
      { name: "s", commands: [{ type: "RunScript", params: [{ key: "ScriptName", value: "../{{params.script}}" }] }] },
    ]);
    expect(problems.map((p) => p.setting)).toEqual(["PLAYBOOKS[0].commands[0].params[0].value"]);
  });

  it.each([
    [
      "an unknown placeholder",
      [{ name: "p", commands: [getFile("{{alert.path}}")] }],
      "PLAYBOOKS[0].commands[0].params[0].value",
      /unknown placeholder \{\{alert.path\}\}/,
    ],
    [
      "an unclosed placeholder",
      [{ name: "p", commands: [getFile("C:\\{{alert.fileName")] }],
      "PLAYBOOKS[0].commands[0].params[0].value",
      /unclosed or malformed/,
    ],
    [
      "a bad parameter name",
      [{ name: "p", commands: [getFile("{{params.1x}}")] }],
      "PLAYBOOKS[0].commands[0].params[0].value",
      /unknown placeholder/,
    ],
    [
      "an unknown placeholder in the comment",
      [{ name: "p", comment: "{{who}}", commands: [getFile("C:\\a")] }],
      "PLAYBOOKS[0].comment",
      /unknown placeholder/,
    ],
    ["a duplicate name", [alertFile, alertFile], "PLAYBOOKS[1].name", /defined twice/],
    ["a bad name", [{ name: "a b", commands: [getFile("C:\\a")] }], "PLAYBOOKS[0].name", /letters, digits/],
    ["an unknown field", [{ ...alertFile, steps: [] }], "PLAYBOOKS[0].steps", /unknown field/],
    [
      "commands out of order",
      [{ name: "p", commands: [getFile("C:\\a"), { type: "PutFile", params: [{ key: "FileName", value: "x.ps1" }] }] }],
      "PLAYBOOKS[0].commands",
      /order/,
    ],
    ["an entry that is not an object", ["alert-file"], "PLAYBOOKS[0]", /must be an object/],
  ])("refuses %s, naming the entry", (_name, entries, setting, message) => {
    const problems = problemsOf(entries as unknown[]);
    expect(problems).toContainEqual({ setting, problem: expect.stringMatching(message) });
  });

  it("refuses a setting that is not a JSON array", () => {
    expect(parsePlaybooks("{").problems).toEqual([{ setting: "PLAYBOOKS", problem: expect.stringContaining("not valid JSON") }]);
    expect(parsePlaybooks('{"name":"x"}').problems).toEqual([{ setting: "PLAYBOOKS", problem: "must be a JSON array" }]);
  });
});

describe("renderPlaybook", () => {
  it("substitutes alert values and validates the result again", () => {
    const r = renderPlaybook(one(alertFile), "alert", { "alert.id": "da6375", "alert.filePath": "C:\\Program Files\\temp\\MsSense.exe" });
    expect(r).toEqual({ ok: true, value: { commands: [getFile("C:\\Program Files\\temp\\MsSense.exe")], comment: "Alert da6375" } });
  });

  it("substitutes parameters, spaces inside the braces allowed", () => {
    const r = renderPlaybook(one(dump), "webhook", { "machine.id": "m" }, { process: "lsass" });
    expect(r.ok && r.value.commands[1]).toEqual(getFile("C:\\windows\\TEMP\\lsass.dmp.zip"));
    expect(r.ok && r.value.commands[0]!.params[1]).toEqual({ key: "Args", value: "lsass" });
  });

  it("refuses a substituted value the command rules refuse (a control character in a path)", () => {
    const r = renderPlaybook(one(alertFile), "alert", { "alert.id": "a", "alert.filePath": "C:\\a\nb" });
    expect(r).toEqual({
      ok: false,
      problems: [{ field: "commands[0].params[0].value", message: expect.stringMatching(/^must not contain control characters/) }],
    });
  });

  it("refuses a substituted library file name with a path in it", () => {
    const p = one({ name: "s", commands: [{ type: "RunScript", params: [{ key: "ScriptName", value: "{{params.script}}" }] }] });
    const r = renderPlaybook(p, "webhook", {}, { script: "..\\evil.ps1" });
    expect(r.ok).toBe(false);
  });

  it("names a placeholder with no value, a parameter the playbook lacks, and a placeholder the trigger cannot fill", () => {
    expect(renderPlaybook(one(alertFile), "alert", { "alert.id": "a" })).toEqual({
      ok: false,
      problems: [{ field: "commands[0].params[0].value", message: "{{alert.filePath}} has no value for this collection" }],
    });
    expect(renderPlaybook(one(dump), "webhook", {}, { process: "x", proces: "y" })).toMatchObject({
      ok: false,
      problems: [{ field: "parameters.proces" }],
    });
    expect(renderPlaybook(one(alertFile), "webhook", { "alert.filePath": "C:\\x", "alert.id": "a" })).toMatchObject({
      ok: false,
      problems: [
        { field: "commands[0].params[0].value", message: "{{alert.filePath}} is not available to a webhook collection" },
        { field: "comment", message: "{{alert.id}} is not available to a webhook collection" },
      ],
    });
  });

  it("lists the placeholders a trigger can never fill", () => {
    expect(unavailablePlaceholders(one(alertFile), "schedule")).toEqual(["alert.filePath", "alert.id"]);
    expect(unavailablePlaceholders(one(alertFile), "alert")).toEqual([]);
    expect(unavailablePlaceholders(one(dump), "webhook")).toEqual([]);
  });

  it("refuses a network or device path that arrives through a placeholder, unless allowed", () => {
    for (const path of ["\\\\attacker\\share\\x.exe", "//attacker/share/x.exe", "\\\\?\\C:\\x", "\\\\.\\pipe\\x", "\\??\\C:\\x"]) {
      const r = renderPlaybook(one(alertFile), "alert", { "alert.id": "a", "alert.filePath": path });
      expect(r).toEqual({
        ok: false,
        problems: [{ field: "commands[0].params[0].value", message: expect.stringMatching(/GETFILE_ALLOW_UNC_PATHS/) }],
      });
      expect(renderPlaybook(one(alertFile), "alert", { "alert.id": "a", "alert.filePath": path }, {}, { allowUncPaths: true }).ok).toBe(
        true,
      );
    }
  });

  it("refuses bidirectional overrides, C1 controls and line separators in substituted values", () => {
    for (const ch of ["\u202e", "\u2066", "\u0085", "\u2028", "\ud800"]) {
      const r = renderPlaybook(one(alertFile), "alert", { "alert.id": "a", "alert.filePath": `C:\\a${ch}b` });
      expect(r).toMatchObject({ ok: false, problems: [{ field: "commands[0].params[0].value" }] });
    }
  });

  it("refuses a rendered comment that would carry the collector's correlation marker", () => {
    const r = renderPlaybook(one(alertFile), "alert", { "alert.id": "x [collector:lr-1]", "alert.filePath": "C:\\a" });
    expect(r).toEqual({ ok: false, problems: [{ field: "comment", message: expect.stringContaining("[collector:") }] });
  });

  it("refuses a parameter that renders a library file name of only dots", () => {
    const p = one({ name: "s", commands: [{ type: "RunScript", params: [{ key: "ScriptName", value: "{{params.script}}" }] }] });
    expect(renderPlaybook(p, "webhook", {}, { script: ".." })).toMatchObject({
      ok: false,
      problems: [{ field: "commands[0].params[0].value" }],
    });
  });
});

describe("parsePlaybooks: input hygiene", () => {
  it("refuses a literal UNC path unless the setting allows them", () => {
    const entry = { name: "share", commands: [getFile("\\\\fileserver\\share\\{{params.file}}")] };
    expect(problemsOf([entry]).map((p) => p.setting)).toEqual(["PLAYBOOKS[0].commands[0].params[0].value"]);
    expect(parsePlaybooks(JSON.stringify([entry]), "PLAYBOOKS", { allowUncPaths: true }).problems).toEqual([]);
  });

  it("refuses the correlation marker in a playbook comment, and bounds unknown field names", () => {
    expect(problemsOf([{ ...alertFile, comment: "[collector:{{alert.id}}]" }]).map((p) => p.setting)).toEqual(["PLAYBOOKS[0].comment"]);
    const [problem] = problemsOf([{ ...alertFile, ["z".repeat(10_000)]: 1 }]);
    expect(problem!.setting.length).toBeLessThan(200);
  });
});
