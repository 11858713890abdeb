/**
 * What the simulated tenant's live response library holds at start: the repository's `library/`
 * files (what `npm run library:sync` would upload), and stand-ins for the made-up script and tool
 * names the tests, the probe and the demo use, so that a RunScript or PutFile naming them runs.
 */
import { readFileSync } from "node:fs";
import { findLibraryDirectory, readLibraryDirectory } from "../shared/library/libraryFiles";
import type { LibrarySeed } from "./libraryFiles";

/** Names used by tests and the probe that are not files of `library/`. */
export const STAND_IN_LIBRARY_FILES = [
  "collect.ps1",
  "triage.ps1",
  "Collect-Triage.ps1",
  "collector.ps1",
  "a.ps1",
  "x.ps1",
  "tool.ps1",
  "tool.exe",
  "b.ps1",
  "b.exe",
  "collect.v2.ps1",
  "procdump64.exe",
] as const;

/** The repository's `library/` files, read from disk. */
export function repositoryLibrary(directory: string = findLibraryDirectory(__dirname)): LibrarySeed[] {
  return readLibraryDirectory(directory).files.map((f) => ({ fileName: f.fileName, content: readFileSync(f.path) }));
}

/** The default seed: the repository's library plus a stand-in for each name in {@link STAND_IN_LIBRARY_FILES}. */
export function defaultLibrary(): LibrarySeed[] {
  const files = repositoryLibrary();
  for (const fileName of STAND_IN_LIBRARY_FILES) {
    if (!files.some((f) => f.fileName.toLowerCase() === fileName.toLowerCase()))
      files.push({ fileName, content: `# MDE simulator stand-in for ${fileName}\n`, description: "simulator stand-in" });
  }
  return files;
}
