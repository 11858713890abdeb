import { DEFAULT_COMMENT, REQUEST_LIMITS, validateCollectionRequest, type FieldProblem } from "../../shared/validation";

const MACHINE = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07"; // seed 001's example machine id

/** The two commands of seed 001's request example. */
const seedCommands = () => [
  { type: "RunScript", params: [{ key: "ScriptName", value: "minidump.ps1" }, { key: "Args", value: "OfficeClickToRun" }] },
  { type: "GetFile", params: [{ key: "Path", value: "C:\\windows\\TEMP\\OfficeClickToRun.dmp.zip" }] },
];

function problemsOf(body: unknown): FieldProblem[] {
  const r = validateCollectionRequest(body);
  if (r.ok) throw new Error("expected the request to be refused");
  return r.problems;
}
const fields = (body: unknown) => problemsOf(body).map((p) => p.field);

describe("validateCollectionRequest", () => {
  it("accepts seed 001's commands and lowercases the machine id", () => {
    const r = validateCollectionRequest({ machineId: MACHINE.toUpperCase(), commands: seedCommands(), comment: "Testing Live Response API" });
    expect(r).toEqual({ ok: true, value: { machineId: MACHINE, commands: seedCommands(), comment: "Testing Live Response API", idempotencyKey: undefined } });
  });

  it("uses a default comment when none is given", () => {
    const r = validateCollectionRequest({ machineId: MACHINE, commands: seedCommands() });
    expect(r.ok && r.value.comment).toBe(DEFAULT_COMMENT);
  });

  it.each([
    ["a non-object body", [1, 2], "(body)"],
    ["a missing machine id", { commands: seedCommands() }, "machineId"],
    ["a machine id that is not 40 hex characters", { machineId: "desktop-test", commands: seedCommands() }, "machineId"],
    ["missing commands", { machineId: MACHINE }, "commands"],
    ["an empty command list", { machineId: MACHINE, commands: [] }, "commands"],
    ["an unknown command type", { machineId: MACHINE, commands: [{ type: "Collect", params: [] }] }, "commands[0].type"],
    ["a command that is not an object", { machineId: MACHINE, commands: ["GetFile"] }, "commands[0]"],
    ["params that are not an array", { machineId: MACHINE, commands: [{ type: "GetFile", params: { Path: "C:\\x" } }] }, "commands[0].params"],
    ["GetFile without Path", { machineId: MACHINE, commands: [{ type: "GetFile", params: [] }] }, "commands[0].params"],
    ["RunScript without ScriptName", { machineId: MACHINE, commands: [{ type: "RunScript", params: [{ key: "Args", value: "x" }] }] }, "commands[0].params"],
    ["PutFile without FileName", { machineId: MACHINE, commands: [{ type: "PutFile", params: [] }] }, "commands[0].params"],
    ["a param with the wrong case", { machineId: MACHINE, commands: [{ type: "GetFile", params: [{ key: "path", value: "C:\\x" }] }] }, "commands[0].params[0].key"],
    ["a param given twice", { machineId: MACHINE, commands: [{ type: "GetFile", params: [{ key: "Path", value: "a" }, { key: "Path", value: "b" }] }] }, "commands[0].params[1].key"],
    ["a param that is not key/value strings", { machineId: MACHINE, commands: [{ type: "GetFile", params: [{ key: "Path", value: 3 }] }] }, "commands[0].params[0]"],
    ["an empty param value", { machineId: MACHINE, commands: [{ type: "GetFile", params: [{ key: "Path", value: "" }] }] }, "commands[0].params[0].value"],
    ["a control character in a value", { machineId: MACHINE, commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\a\nb" }] }] }, "commands[0].params[0].value"],
    ["a script name outside the library's characters", { machineId: MACHINE, commands: [{ type: "RunScript", params: [{ key: "ScriptName", value: "../evil.ps1" }] }] }, "commands[0].params[0].value"],
    ["a file name outside the library's characters", { machineId: MACHINE, commands: [{ type: "PutFile", params: [{ key: "FileName", value: "a b.exe" }] }] }, "commands[0].params[0].value"],
    ["an over-long value", { machineId: MACHINE, commands: [{ type: "GetFile", params: [{ key: "Path", value: "x".repeat(REQUEST_LIMITS.maxParamValueLength + 1) }] }] }, "commands[0].params[0].value"],
    ["an unknown field in a command", { machineId: MACHINE, commands: [{ type: "GetFile", Params: [], params: [{ key: "Path", value: "a" }] }] }, "commands[0].Params"],
    ["commands out of MDE's order", { machineId: MACHINE, commands: [...seedCommands()].reverse() }, "commands"],
    ["too many commands", { machineId: MACHINE, commands: Array.from({ length: REQUEST_LIMITS.maxCommands + 1 }, () => seedCommands()[1]) }, "commands"],
    ["an empty comment", { machineId: MACHINE, commands: seedCommands(), comment: " " }, "comment"],
    ["a comment that is not a string", { machineId: MACHINE, commands: seedCommands(), comment: 5 }, "comment"],
    ["an over-long comment", { machineId: MACHINE, commands: seedCommands(), comment: "c".repeat(REQUEST_LIMITS.maxCommentLength + 1) }, "comment"],
    ["a comment with control characters", { machineId: MACHINE, commands: seedCommands(), comment: "a\u0007b" }, "comment"],
    ["an idempotency key with spaces", { machineId: MACHINE, commands: seedCommands(), idempotencyKey: "a b" }, "idempotencyKey"],
    ["an over-long idempotency key", { machineId: MACHINE, commands: seedCommands(), idempotencyKey: "k".repeat(201) }, "idempotencyKey"],
    ["an unknown top-level field", { machineId: MACHINE, commands: seedCommands(), priority: "high" }, "priority"],
  ])("refuses %s, naming the field", (_name, body, field) => {
    expect(fields(body)).toContain(field);
  });

  it("suggests the right casing for MDE-cased top-level fields", () => {
    const problems = problemsOf({ machineId: MACHINE, Commands: seedCommands() });
    expect(problems).toContainEqual({ field: "Commands", message: 'unknown field; did you mean "commands"?' });
  });

  it("reports every problem at once", () => {
    expect(fields({ machineId: "x", commands: [{ type: "GetFile", params: [] }], comment: "" })).toEqual(["machineId", "commands[0].params", "comment"]);
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
