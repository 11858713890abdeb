import { readFileSync } from "node:fs";
import path from "node:path";
import { deployedLibraryHashes, findLibraryDirectory, readLibraryDirectory, sha256Hex } from "../../../../shared/library/libraryFiles";

const ROOT = path.resolve(__dirname, "..", "..", "..", "..");

describe("the deployed library/ folder", () => {
  it("is found from the code's own folder and hashed: every shipped script, no dotfile", () => {
    expect(findLibraryDirectory(path.join(ROOT, "shared", "library"))).toBe(path.join(ROOT, "library"));
    const hashes = deployedLibraryHashes();
    expect([...hashes.keys()].sort()).toEqual(["Collect-TriagePackage.ps1", "collect-triage.sh", "minidump.ps1"]);
    expect(hashes.get("minidump.ps1")).toBe(sha256Hex(readFileSync(path.join(ROOT, "library", "minidump.ps1"))));
  });

  it("holds only files MDE accepts (names, 20 MB), and deploys: .funcignore never leaves it out", () => {
    expect(readLibraryDirectory(path.join(ROOT, "library")).problems).toEqual([]);
    const ignored = readFileSync(path.join(ROOT, ".funcignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    expect(ignored.filter((l) => /^\/?library\b|^\*\.(ps1|sh)$|^\*\*\/\*\.(ps1|sh)$/.test(l))).toEqual([]);
  });

  it("names a subfolder, a bad name and a missing folder as problems", () => {
    expect(readLibraryDirectory(path.join(ROOT, "no-such-folder")).problems).toEqual([
      `${path.join(ROOT, "no-such-folder")} does not exist`,
    ]);
    expect(readLibraryDirectory(ROOT).problems).toEqual(expect.arrayContaining(["library: not a file (MDE's library has no folders)"]));
  });
});
