import { parsePlaybooks } from "../../../../shared/playbooks";

const HASH = "A".repeat(64);
const runScript = (script: string) => ({
  name: "triage",
  commands: [
    { type: "RunScript", params: [{ key: "ScriptName", value: script }] },
    { type: "GetFile", params: [{ key: "Path", value: "C:\\triage.zip" }] },
  ],
});
const withPins = (pins: unknown, script = "Collect-Triage.ps1") =>
  parsePlaybooks(JSON.stringify([{ ...runScript(script), librarySha256: pins }]));

describe("playbook librarySha256", () => {
  it("keeps each pin by library file name, the hash in lowercase", () => {
    const { catalog, problems } = withPins({ "Collect-Triage.ps1": HASH });
    expect(problems).toEqual([]);
    expect(catalog.get("triage")!.librarySha256).toEqual({ "Collect-Triage.ps1": "a".repeat(64) });
  });

  it("is optional, and absent from a playbook without it", () => {
    const { catalog } = parsePlaybooks(JSON.stringify([runScript("Collect-Triage.ps1")]));
    expect(catalog.get("triage")).not.toHaveProperty("librarySha256");
  });

  it("covers PutFile's FileName too", () => {
    const playbook = {
      name: "tools",
      commands: [
        { type: "PutFile", params: [{ key: "FileName", value: "procdump64.exe" }] },
        { type: "GetFile", params: [{ key: "Path", value: "C:\\a.txt" }] },
      ],
      librarySha256: { "procdump64.exe": HASH },
    };
    expect(parsePlaybooks(JSON.stringify([playbook])).problems).toEqual([]);
  });

  it("must be a non-empty object", () => {
    for (const pins of [[], "x", {}, null]) {
      expect(withPins(pins).problems).toEqual([
        {
          setting: "PLAYBOOKS[0].librarySha256",
          problem: 'must be a non-empty object of library file name to SHA-256, e.g. { "Collect-Triage.ps1": "<64 hex>" }',
        },
      ]);
    }
  });

  it("takes only library file names: letters, digits, '.', '_', '-', not only dots, at most 255", () => {
    for (const name of ["a b.ps1", "..", "x/y.ps1", "x".repeat(256)]) {
      const { problems } = withPins({ [name]: HASH }, "placeholder-free.ps1");
      expect(problems).toHaveLength(1);
      expect(problems[0]!.problem).toBe("must be a live response library file name: 1-255 letters, digits, '.', '_', '-'");
    }
  });

  it("takes exactly 64 hexadecimal characters", () => {
    for (const hash of ["a".repeat(63), "a".repeat(65), `${"a".repeat(63)}g`, 42, ""]) {
      expect(withPins({ "Collect-Triage.ps1": hash }).problems).toEqual([
        { setting: "PLAYBOOKS[0].librarySha256.Collect-Triage.ps1", problem: "must be a SHA-256: exactly 64 hexadecimal characters" },
      ]);
    }
  });

  it("refuses a pin for a file the commands never name (a typo would check nothing)", () => {
    expect(withPins({ "Collect-Triage2.ps1": HASH }).problems).toEqual([
      {
        setting: "PLAYBOOKS[0].librarySha256.Collect-Triage2.ps1",
        problem: "names no ScriptName or FileName of this playbook's commands (Collect-Triage.ps1)",
      },
    ]);
  });

  it("accepts pins for any file when a command takes its library file from a placeholder", () => {
    const { problems, catalog } = withPins({ "a.ps1": HASH, "b.ps1": HASH }, "{{params.script}}");
    expect(problems).toEqual([]);
    expect(Object.keys(catalog.get("triage")!.librarySha256!)).toEqual(["a.ps1", "b.ps1"]);
  });

  it("takes at most 50 pins", () => {
    const pins = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${i}.ps1`, HASH]));
    expect(withPins(pins(50), "{{params.script}}").problems).toEqual([]);
    expect(withPins(pins(51), "{{params.script}}").problems).toEqual([
      { setting: "PLAYBOOKS[0].librarySha256", problem: "at most 50 library files" },
    ]);
  });
});
