import { sha256Hex, type LocalLibraryFile } from "../../../../shared/library/libraryFiles";
import { planLibrarySync, runLibrarySync } from "../../../../shared/library/librarySync";
import type { LibraryFile, LibraryUpload } from "../../../../shared/mde/models";

/** MDE's library in memory: list-library-files entities, upload-library's OverrideIfExists rule. */
function fakeLibrary(initial: Record<string, string> = {}) {
  const files = new Map(Object.entries(initial).map(([name, content]) => [name, sha256Hex(Buffer.from(content))]));
  const uploads: LibraryUpload[] = [];
  const entity = (fileName: string): LibraryFile => ({
    fileName,
    sha256: files.get(fileName)!,
    description: null,
    creationTime: null,
    lastUpdatedTime: null,
    createdBy: "admin",
    hasParameters: false,
    parametersDescription: null,
  });
  const mde = {
    listLibraryFiles: jest.fn(async () => [...files.keys()].map(entity)),
    uploadLibraryFile: jest.fn(async (u: LibraryUpload) => {
      if (files.has(u.fileName) && !u.overrideIfExists) throw new Error("already exists");
      uploads.push(u);
      files.set(u.fileName, sha256Hex(u.content));
      return entity(u.fileName);
    }),
  };
  return { mde, uploads, files };
}

const local = (contents: Record<string, string>): { files: LocalLibraryFile[]; read: (f: LocalLibraryFile) => Uint8Array } => ({
  files: Object.entries(contents).map(([fileName, content]) => ({
    fileName,
    sha256: sha256Hex(Buffer.from(content)),
    size: content.length,
    path: `/library/${fileName}`,
  })),
  read: (f) => Buffer.from(contents[f.fileName]!),
});

describe("library sync", () => {
  const reviewed = local({ "a.ps1": "reviewed a", "b.sh": "reviewed b", "c.ps1": "reviewed c" });

  it("plans an upload for a missing file, a replace for a differing one, nothing for an equal one, and reports files only MDE has", () => {
    const { files } = fakeLibrary({ "a.ps1": "reviewed a", "b.sh": "edited in the portal", "old.ps1": "x" });
    const remote = [...files].map(([fileName, sha256]) => ({ fileName, sha256 }) as LibraryFile);
    const plan = planLibrarySync(reviewed.files, remote);
    expect(plan.steps.map((s) => [s.fileName, s.action])).toEqual([
      ["a.ps1", "unchanged"],
      ["b.sh", "replace"],
      ["c.ps1", "upload"],
    ]);
    expect(plan.onlyInMde).toEqual(["old.ps1"]);
  });

  it("on a dry run lists once, uploads nothing, and is not ok while changes are pending", async () => {
    const { mde } = fakeLibrary({ "b.sh": "edited" });
    const report = await runLibrarySync({ mde, local: reviewed.files, read: reviewed.read, dryRun: true });
    expect(mde.uploadLibraryFile).not.toHaveBeenCalled();
    expect(mde.listLibraryFiles).toHaveBeenCalledTimes(1);
    expect(report).toMatchObject({ dryRun: true, ok: false, verified: [] });
    expect(report.steps.map((s) => s.action)).toEqual(["upload", "replace", "upload"]);
  });

  it("uploads what differs (OverrideIfExists only for the differing file), checks every SHA-256 after, and a second run does nothing", async () => {
    const { mde, uploads } = fakeLibrary({ "a.ps1": "reviewed a", "b.sh": "edited" });
    const first = await runLibrarySync({ mde, local: reviewed.files, read: reviewed.read, dryRun: false });
    expect(uploads.map((u) => [u.fileName, u.overrideIfExists])).toEqual([
      ["b.sh", true],
      ["c.ps1", false],
    ]);
    expect(first.ok).toBe(true);
    expect(first.verified.every((v) => v.ok && v.foundSha256 === v.expectedSha256)).toBe(true);
    expect(mde.listLibraryFiles).toHaveBeenCalledTimes(2);

    mde.uploadLibraryFile.mockClear();
    const second = await runLibrarySync({ mde, local: reviewed.files, read: reviewed.read, dryRun: false });
    expect(mde.uploadLibraryFile).not.toHaveBeenCalled();
    expect(second.steps.every((s) => s.action === "unchanged")).toBe(true);
    expect(second.ok).toBe(true);
  });

  it("is not ok when MDE lists another hash after the upload, or refuses an upload", async () => {
    const { mde, files } = fakeLibrary();
    mde.uploadLibraryFile.mockImplementation(async (u: LibraryUpload) => {
      if (u.fileName === "c.ps1") throw new Error("BadRequest");
      files.set(u.fileName, "0".repeat(64));
      return {} as LibraryFile;
    });
    const report = await runLibrarySync({ mde, local: reviewed.files, read: reviewed.read, dryRun: false });
    expect(report.ok).toBe(false);
    expect(report.failures).toEqual([{ fileName: "c.ps1", message: "BadRequest" }]);
    expect(report.verified.filter((v) => !v.ok).map((v) => v.fileName)).toEqual(["a.ps1", "b.sh", "c.ps1"]);
  });
});
