import { DEFAULT_COMMENT, REQUEST_LIMITS, validateCollectionRequest, type FieldProblem } from "../../../shared/validation";

const MACHINE = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07"; // the example machine id of https://learn.microsoft.com/defender-endpoint/api/run-live-response

/** The two commands of run-live-response's request example. */
const exampleCommands = () => [
  {
    type: "RunScript",
    params: [
      { key: "ScriptName", value: "minidump.ps1" },
      { key: "Args", value: "OfficeClickToRun" },
    ],
  },
  { type: "GetFile", params: [{ key: "Path", value: "C:\\windows\\TEMP\\OfficeClickToRun.dmp.zip" }] },
];

function problemsOf(body: unknown): FieldProblem[] {
  const r = validateCollectionRequest(body);
  if (r.ok) throw new Error("expected the request to be refused");
  return r.problems;
}
const fields = (body: unknown) => problemsOf(body).map((p) => p.field);

describe("validateCollectionRequest", () => {
  it("accepts run-live-response's example commands and lowercases the machine id", () => {
    const r = validateCollectionRequest({
      machineId: MACHINE.toUpperCase(),
      commands: exampleCommands(),
      comment: "Testing Live Response API",
    });
    expect(r).toEqual({
      ok: true,
      value: { machineId: MACHINE, commands: exampleCommands(), comment: "Testing Live Response API", idempotencyKey: undefined },
    });
  });

  it("uses a default comment when none is given", () => {
    const r = validateCollectionRequest({ machineId: MACHINE, commands: exampleCommands() });
    expect(r.ok && r.value.comment).toBe(DEFAULT_COMMENT);
  });

  it.each([
    ["a non-object body", [1, 2], "(body)"],
    ["a missing machine id", { commands: exampleCommands() }, "machineId"],
    ["a machine id that is not 40 hex characters", { machineId: "desktop-test", commands: exampleCommands() }, "machineId"],
    ["missing commands", { machineId: MACHINE }, "commands"],
    ["an empty command list", { machineId: MACHINE, commands: [] }, "commands"],
    ["an unknown command type", { machineId: MACHINE, commands: [{ type: "Collect", params: [] }] }, "commands[0].type"],
    ["a command that is not an object", { machineId: MACHINE, commands: ["GetFile"] }, "commands[0]"],
    [
      "params that are not an array",
      { machineId: MACHINE, commands: [{ type: "GetFile", params: { Path: "C:\\x" } }] },
      "commands[0].params",
    ],
    ["GetFile without Path", { machineId: MACHINE, commands: [{ type: "GetFile", params: [] }] }, "commands[0].params"],
    [
      "RunScript without ScriptName",
      { machineId: MACHINE, commands: [{ type: "RunScript", params: [{ key: "Args", value: "x" }] }] },
      "commands[0].params",
    ],
    ["PutFile without FileName", { machineId: MACHINE, commands: [{ type: "PutFile", params: [] }] }, "commands[0].params"],
    [
      "a param with the wrong case",
      { machineId: MACHINE, commands: [{ type: "GetFile", params: [{ key: "path", value: "C:\\x" }] }] },
      "commands[0].params[0].key",
    ],
    [
      "a param given twice",
      {
        machineId: MACHINE,
        commands: [
          {
            type: "GetFile",
            params: [
              { key: "Path", value: "a" },
              { key: "Path", value: "b" },
            ],
          },
        ],
      },
      "commands[0].params[1].key",
    ],
    [
      "a param that is not key/value strings",
      { machineId: MACHINE, commands: [{ type: "GetFile", params: [{ key: "Path", value: 3 }] }] },
      "commands[0].params[0]",
    ],
    [
      "an empty param value",
      { machineId: MACHINE, commands: [{ type: "GetFile", params: [{ key: "Path", value: "" }] }] },
      "commands[0].params[0].value",
    ],
    [
      "a control character in a value",
      { machineId: MACHINE, commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\a\nb" }] }] },
      "commands[0].params[0].value",
    ],
    [
      "a script name outside the library's characters",
      { machineId: MACHINE, commands: [{ type: "RunScript", params: [{ key: "ScriptName", value: "../evil.ps1" }] }] },
      "commands[0].params[0].value",
    ],
    [
      "a file name outside the library's characters",
      { machineId: MACHINE, commands: [{ type: "PutFile", params: [{ key: "FileName", value: "a b.exe" }] }] },
      "commands[0].params[0].value",
    ],
    [
      "an over-long value",
      {
        machineId: MACHINE,
        commands: [{ type: "GetFile", params: [{ key: "Path", value: "x".repeat(REQUEST_LIMITS.maxParamValueLength + 1) }] }],
      },
      "commands[0].params[0].value",
    ],
    [
      "an unknown field in a command",
      { machineId: MACHINE, commands: [{ type: "GetFile", Params: [], params: [{ key: "Path", value: "a" }] }] },
      "commands[0].Params",
    ],
    ["commands out of MDE's order", { machineId: MACHINE, commands: [...exampleCommands()].reverse() }, "commands"],
    [
      "too many commands",
      { machineId: MACHINE, commands: Array.from({ length: REQUEST_LIMITS.maxCommands + 1 }, () => exampleCommands()[1]) },
      "commands",
    ],
    ["an empty comment", { machineId: MACHINE, commands: exampleCommands(), comment: " " }, "comment"],
    ["a comment that is not a string", { machineId: MACHINE, commands: exampleCommands(), comment: 5 }, "comment"],
    [
      "an over-long comment",
      { machineId: MACHINE, commands: exampleCommands(), comment: "c".repeat(REQUEST_LIMITS.maxCommentLength + 1) },
      "comment",
    ],
    ["a comment with control characters", { machineId: MACHINE, commands: exampleCommands(), comment: "a\u0007b" }, "comment"],
    ["an idempotency key with spaces", { machineId: MACHINE, commands: exampleCommands(), idempotencyKey: "a b" }, "idempotencyKey"],
    [
      "an over-long idempotency key",
      { machineId: MACHINE, commands: exampleCommands(), idempotencyKey: "k".repeat(201) },
      "idempotencyKey",
    ],
    ["an unknown top-level field", { machineId: MACHINE, commands: exampleCommands(), priority: "high" }, "priority"],
  ])("refuses %s, naming the field", (_name, body, field) => {
    expect(fields(body)).toContain(field);
  });

  it("suggests the right casing for MDE-cased top-level fields", () => {
    const problems = problemsOf({ machineId: MACHINE, Commands: exampleCommands() });
    expect(problems).toContainEqual({ field: "Commands", message: 'unknown field; did you mean "commands"?' });
  });

  it("reports every problem at once", () => {
    expect(fields({ machineId: "x", commands: [{ type: "GetFile", params: [] }], comment: "" })).toEqual([
      "machineId",
      "commands[0].params",
      "comment",
    ]);
  });

  it("accepts PutFile, RunScript then GetFile, including several of one type", () => {
    const r = validateCollectionRequest({
      machineId: MACHINE,
      commands: [
        { type: "PutFile", params: [{ key: "FileName", value: "collector.ps1" }] },
        { type: "RunScript", params: [{ key: "ScriptName", value: "collector.ps1" }] },
        { type: "GetFile", params: [{ key: "Path", value: "C:\\a.txt" }] },
        { type: "GetFile", params: [{ key: "Path", value: "C:\\b.txt" }] },
      ],
    });
    expect(r.ok).toBe(true);
  });
});

describe("validateCollectionRequest: input hygiene", () => {
  const getFile = (path: string) => ({ machineId: MACHINE, commands: [{ type: "GetFile", params: [{ key: "Path", value: path }] }] });
  const runScript = (name: string) => ({
    machineId: MACHINE,
    commands: [{ type: "RunScript", params: [{ key: "ScriptName", value: name }] }],
  });
  const putFile = (name: string) => ({ machineId: MACHINE, commands: [{ type: "PutFile", params: [{ key: "FileName", value: name }] }] });
  const withComment = (comment: string) => ({ machineId: MACHINE, commands: exampleCommands(), comment });
  const withPlaybookParameter = (value: string) => ({
    machineId: MACHINE,
    playbook: { name: "memory-dump", parameters: { process: value } },
  });

  describe.each([
    ["a C1 control (U+0085, next line)", "\u0085"],
    ["a C1 control (U+009B, CSI)", "\u009b"],
    ["the line separator U+2028", "\u2028"],
    ["the paragraph separator U+2029", "\u2029"],
    ["a right-to-left override U+202E", "\u202e"],
    ["a left-to-right embedding U+202A", "\u202a"],
    ["a first-strong isolate U+2068", "\u2068"],
    ["a pop directional isolate U+2069", "\u2069"],
    ["a lone high surrogate", "\ud83d"],
    ["a lone low surrogate", "\ude00"],
  ])("%s", (_name, ch) => {
    it.each([
      ["in a comment", withComment(`INC-1${ch}exe.txt`), "comment"],
      ["in a GetFile path", getFile(`C:\\temp\\${ch}gpj.exe`), "commands[0].params[0].value"],
      [
        "in RunScript args",
        {
          machineId: MACHINE,
          commands: [
            {
              type: "RunScript",
              params: [
                { key: "ScriptName", value: "a.ps1" },
                { key: "Args", value: `-x ${ch}` },
              ],
            },
          ],
        },
        "commands[0].params[1].value",
      ],
      ["in a playbook parameter", withPlaybookParameter(`lsass${ch}`), "playbook.parameters.process"],
      ["in an idempotency key", { ...withComment("ok"), idempotencyKey: `key${ch}` }, "idempotencyKey"],
    ])("is refused %s, naming the field", (_where, body, field) => {
      expect(fields(body)).toContain(field);
    });
  });

  it("accepts text outside the policy: accents, CJK, emoji (a surrogate pair), U+00A0", () => {
    expect(validateCollectionRequest(withComment("Enquête 事件 🔍\u00a0ok")).ok).toBe(true);
    expect(validateCollectionRequest(getFile("C:\\Users\\zoë\\📁\\a.txt")).ok).toBe(true);
  });

  it("says which characters are refused", () => {
    expect(problemsOf(withComment("a\u202eb"))).toEqual([{ field: "comment", message: expect.stringMatching(/bidirectional/) }]);
  });

  it.each([".", "..", "...", "...."])("refuses the ScriptName and FileName %j (a library file name is not only dots)", (name) => {
    expect(problemsOf(runScript(name))).toEqual([{ field: "commands[0].params[0].value", message: expect.stringMatching(/only dots/) }]);
    expect(fields(putFile(name))).toEqual(["commands[0].params[0].value"]);
  });

  it("still accepts library names with dots inside", () => {
    expect(validateCollectionRequest(runScript("collect.v2.ps1")).ok).toBe(true);
    expect(validateCollectionRequest(putFile(".hidden-tool.exe")).ok).toBe(true);
  });

  it.each(["Evidence [collector:lr-0123]", "[collector:abc]", "INC-7 [Collector:x]", "INC-7 [COLLECTOR:"])(
    "refuses a comment that carries the collector's correlation marker: %j",
    (comment) => {
      expect(problemsOf(withComment(comment))).toEqual([{ field: "comment", message: expect.stringContaining("[collector:") }]);
    },
  );

  it.each([
    ["a UNC share", "\\\\fileserver\\share\\payload.exe"],
    ["a UNC share with forward slashes", "//fileserver/share/payload.exe"],
    ["a UNC share with mixed slashes", "\\/fileserver\\share\\x"],
    ["a long UNC path", "\\\\?\\UNC\\fileserver\\share\\x"],
    ["a Win32 device path", "\\\\.\\PhysicalDrive0"],
    ["a long local path in the device namespace", "\\\\?\\C:\\Windows\\x.dmp"],
    ["an NT object namespace path", "\\??\\C:\\Windows\\x.dmp"],
    ["a UNC share after leading spaces", "  \\\\fileserver\\share\\x"],
  ])("refuses %s in a GetFile path by default, naming the field", (_name, path) => {
    expect(problemsOf(getFile(path))).toEqual([
      { field: "commands[0].params[0].value", message: expect.stringMatching(/GETFILE_ALLOW_UNC_PATHS/) },
    ]);
    expect(validateCollectionRequest(getFile(path), { allowUncPaths: true }).ok).toBe(true);
  });

  it("accepts ordinary local paths", () => {
    for (const path of ["C:\\Windows\\Temp\\a.zip", "D:/logs/app.log", "\\Windows\\x.txt", "/var/log/syslog"]) {
      expect(validateCollectionRequest(getFile(path)).ok).toBe(true);
    }
  });

  it("bounds an unknown field name in the problem it echoes (a 60 KB name comes back as 100 characters and …)", () => {
    const name = "x".repeat(60 * 1024);
    const problems = problemsOf({ machineId: MACHINE, commands: exampleCommands(), [name]: 1 });
    expect(problems).toEqual([{ field: `${"x".repeat(REQUEST_LIMITS.maxEchoedNameLength)}…`, message: "unknown field" }]);
  });

  it("bounds unknown names inside commands, params and playbooks, and shows unsafe characters in them as escapes", () => {
    const long = "k".repeat(5000);
    const echoed = JSON.stringify(
      problemsOf({
        machineId: MACHINE,
        commands: [{ type: "GetFile", params: [{ key: long, value: "x" }], [long]: 1, "a\u202eb": 2 }],
      }),
    );
    expect(echoed.length).toBeLessThan(1000);
    expect(echoed).not.toContain("\u202e");
    expect(echoed).toContain("a\\\\u202eb");
    const playbook = JSON.stringify(problemsOf({ machineId: MACHINE, playbook: { name: "p", parameters: { [long]: "v" }, [long]: 1 } }));
    expect(playbook.length).toBeLessThan(1000);
  });

  it("lists at most 20 problems and counts the rest: 1,000 empty commands give an error body under 8 KB that says how many", () => {
    const body = { machineId: MACHINE, commands: Array.from({ length: 1000 }, () => ({})) };
    expect(JSON.stringify(body).length).toBeLessThan(10 * 1024);
    const problems = problemsOf(body);
    expect(problems).toHaveLength(REQUEST_LIMITS.maxListedProblems + 1);
    expect(problems.at(-1)).toEqual({ field: "(more)", message: "981 more problems not listed (1001 in all)" });
    // The webhook's error envelope (functions/http.ts errorResponse).
    const errorBody = JSON.stringify({
      error: { code: "InvalidRequest", message: "The request is not valid; nothing was started. See details.", details: problems },
    });
    expect(Buffer.byteLength(errorBody)).toBeLessThan(8 * 1024);
  });

  it("bounds a body of thousands of unknown field names the same way", () => {
    const body: Record<string, unknown> = { machineId: MACHINE, commands: exampleCommands() };
    for (let i = 0; i < 5000; i++) body[`f${i}`] = 0;
    const problems = problemsOf(body);
    expect(problems).toHaveLength(REQUEST_LIMITS.maxListedProblems + 1);
    expect(problems.at(-1)!.message).toContain("5000 in all");
  });
});
