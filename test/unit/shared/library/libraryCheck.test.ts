import { checkLibraryFiles, reviewedLibraryFiles, uncheckedLibraryFiles } from "../../../../shared/library/libraryCheck";
import { libraryFileNameProblem, libraryFilesNamedBy } from "../../../../shared/library/libraryFiles";
import type { LibraryFile, LiveResponseCommand } from "../../../../shared/mde/models";

const A = "a".repeat(64);
const B = "b".repeat(64);
const C = "c".repeat(64);
const run = (name: string): LiveResponseCommand => ({ type: "RunScript", params: [{ key: "ScriptName", value: name }] });
const put = (name: string): LiveResponseCommand => ({ type: "PutFile", params: [{ key: "FileName", value: name }] });
const get = (path: string): LiveResponseCommand => ({ type: "GetFile", params: [{ key: "Path", value: path }] });
/** An entry as list-library-files shows it (https://learn.microsoft.com/defender-endpoint/api/list-library-files, response example). */
const listed = (fileName: string, sha256: string): LibraryFile => ({
  fileName,
  sha256,
  description: null,
  creationTime: "2019-10-24T10:54:23.2009016Z",
  lastUpdatedTime: "2019-10-24T10:54:23.2009016Z",
  createdBy: "admin",
  hasParameters: false,
  parametersDescription: null,
});
const AT = "2026-03-02T09:00:00.000Z";

describe("library files named by a request", () => {
  it("takes PutFile FileName and RunScript ScriptName, each once, in command order, and ignores GetFile", () => {
    expect(libraryFilesNamedBy([put("tool.exe"), run("triage.ps1"), run("tool.exe"), get("C:\\a")])).toEqual(["tool.exe", "triage.ps1"]);
    expect(libraryFilesNamedBy([get("C:\\a")])).toEqual([]);
  });

  it.each([
    ["triage.ps1", undefined],
    ["a b.ps1", "may hold only letters, digits, '-', '_' and '.'"],
    ["..", "must not be only dots"],
    ["", "must be 1-255 characters"],
  ])("names %j: %s", (name, problem) => expect(libraryFileNameProblem(name)).toBe(problem));
});

describe("reviewed hashes", () => {
  const deployed = new Map([
    ["triage.ps1", A],
    ["tool.exe", B],
  ]);

  it("prefers the playbook's pin over library/ and falls back on library/; a file in neither has no entry", () => {
    expect(
      reviewedLibraryFiles([put("tool.exe"), run("triage.ps1"), run("other.ps1")], { "TRIAGE.ps1": C.toUpperCase() }, deployed),
    ).toEqual([
      { fileName: "tool.exe", sha256: B, source: "library" },
      { fileName: "triage.ps1", sha256: C, source: "playbook" },
    ]);
  });
});

describe("checkLibraryFiles", () => {
  const reviewed = [{ fileName: "triage.ps1", sha256: A, source: "library" as const }];

  it("passes when MDE holds the reviewed bytes (its name in another case, its hash in upper case)", () => {
    const r = checkLibraryFiles([run("triage.ps1")], reviewed, [listed("Triage.PS1", A.toUpperCase())], false, AT);
    expect(r).toEqual({
      ok: true,
      checks: [{ fileName: "triage.ps1", expectedSha256: A, expectedFrom: "library", observedSha256: A, verdict: "match", checkedAt: AT }],
    });
  });

  it("refuses a file changed in MDE with LibraryFileChanged, naming the file, the expected and the found hash", () => {
    const r = checkLibraryFiles([run("triage.ps1")], reviewed, [listed("triage.ps1", B)], false, AT);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe("LibraryFileChanged");
    expect(r.message).toContain("triage.ps1");
    expect(r.message).toContain(`expected SHA-256 ${A}`);
    expect(r.message).toContain(`found ${B}`);
    expect(r.checks[0]).toMatchObject({ verdict: "changed", observedSha256: B });
  });

  it("refuses a file missing from MDE with LibraryFileMissing", () => {
    const r = checkLibraryFiles([run("triage.ps1")], reviewed, [listed("other.ps1", A)], false, AT);
    expect(r).toMatchObject({ ok: false, code: "LibraryFileMissing", checks: [{ verdict: "missing", observedSha256: null }] });
  });

  it("refuses a file with no reviewed hash by default, and runs it when allowed, recording what MDE holds", () => {
    const refused = checkLibraryFiles([run("new.ps1")], reviewed, [listed("new.ps1", C)], false, AT);
    expect(refused).toMatchObject({ ok: false, code: "LibraryFileUnreviewed", checks: [{ verdict: "unreviewed", observedSha256: C }] });
    const allowed = checkLibraryFiles([run("new.ps1")], reviewed, [listed("new.ps1", C)], true, AT);
    expect(allowed).toEqual({
      ok: true,
      checks: [
        { fileName: "new.ps1", expectedSha256: null, expectedFrom: null, observedSha256: C, verdict: "unreviewedAllowed", checkedAt: AT },
      ],
    });
  });

  it("checks every file and reports every problem, the first one's code leading", () => {
    const r = checkLibraryFiles(
      [put("tool.exe"), run("triage.ps1")],
      [...reviewed, { fileName: "tool.exe", sha256: B, source: "playbook" }],
      [listed("triage.ps1", C)],
      false,
      AT,
    );
    expect(r).toMatchObject({ ok: false, code: "LibraryFileMissing" });
    if (r.ok) return;
    expect(r.checks.map((c) => c.verdict)).toEqual(["missing", "changed"]);
    expect(r.message).toMatch(/tool\.exe.*triage\.ps1/);
  });

  it("records unchecked files with their expected hash when no submission got as far as the check", () => {
    expect(uncheckedLibraryFiles([run("triage.ps1"), run("x.ps1")], reviewed)).toEqual([
      { fileName: "triage.ps1", expectedSha256: A, expectedFrom: "library", observedSha256: null, verdict: "notChecked", checkedAt: null },
      { fileName: "x.ps1", expectedSha256: null, expectedFrom: null, observedSha256: null, verdict: "notChecked", checkedAt: null },
    ]);
  });
});
