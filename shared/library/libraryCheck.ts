/**
 * The check before submission: each library file a RunScript or PutFile names must be, in MDE's
 * library right now, the bytes that were reviewed in Git. A script changed in the portal never runs
 * under a playbook that reviewed another. Pure: the submit activity lists the library once and hands
 * the list here.
 */
import type { LibraryFileCheck, ReviewedLibraryFile } from "../contract";
import type { LibraryFile, LiveResponseCommand } from "../mde/models";
import { libraryFilesNamedBy } from "./libraryFiles";

/** Codes of a refusal by the check, as the manifest and the summary record them. */
export const LIBRARY_REFUSAL_CODES = {
  changed: "LibraryFileChanged",
  missing: "LibraryFileMissing",
  unreviewed: "LibraryFileUnreviewed",
} as const;

export type LibraryCheckResult =
  { ok: true; checks: LibraryFileCheck[] } | { ok: false; checks: LibraryFileCheck[]; code: string; message: string };

/**
 * The reviewed SHA-256 of each library file the commands name: pinned in the playbook (`librarySha256`,
 * file name → hex) or, failing that, the hash of the same-named file in the deployed `library/` folder.
 * A file with neither has no entry (the check refuses it unless unreviewed files are allowed).
 * @param pins - the playbook's `librarySha256`, when it pins any (keys compared case-insensitively, like MDE's names)
 * @param deployed - file name → hex of the deployed `library/` folder
 */
export function reviewedLibraryFiles(
  commands: readonly LiveResponseCommand[],
  pins: Readonly<Record<string, string>> | undefined,
  deployed: ReadonlyMap<string, string>,
): ReviewedLibraryFile[] {
  const reviewed: ReviewedLibraryFile[] = [];
  const pinList = Object.entries(pins ?? {}).filter(([, v]) => typeof v === "string");
  for (const fileName of libraryFilesNamedBy(commands)) {
    const pin = pinList.find(([k]) => k === fileName) ?? pinList.find(([k]) => k.toLowerCase() === fileName.toLowerCase());
    if (pin) {
      reviewed.push({ fileName, sha256: pin[1].toLowerCase(), source: "playbook" });
      continue;
    }
    const local = deployed.get(fileName) ?? [...deployed].find(([k]) => k.toLowerCase() === fileName.toLowerCase())?.[1];
    if (local) reviewed.push({ fileName, sha256: local, source: "library" });
  }
  return reviewed;
}

/** MDE's entry for `fileName`: the exact name first, else the same name in another case (Windows names ignore case). */
function listedAs(listed: readonly LibraryFile[], fileName: string): LibraryFile | undefined {
  return listed.find((f) => f.fileName === fileName) ?? listed.find((f) => f.fileName.toLowerCase() === fileName.toLowerCase());
}

/**
 * Compares each named library file with the reviewed hash, against one listing of MDE's library.
 * @param reviewed - the collection's reviewed hashes (CollectionRequest.libraryFiles)
 * @param listed - `GET /api/libraryfiles`, listed once for the whole submission
 * @param allowUnreviewed - LIBRARY_ALLOW_UNREVIEWED: run a file with no reviewed hash, recording what MDE holds
 * @param checkedAt - when the library was listed (ISO 8601)
 * @returns every file's check; not ok (with the first problem's code and every problem in the message) when any
 *   file is changed, missing, or unreviewed and not allowed
 */
export function checkLibraryFiles(
  commands: readonly LiveResponseCommand[],
  reviewed: readonly ReviewedLibraryFile[],
  listed: readonly LibraryFile[],
  allowUnreviewed: boolean,
  checkedAt: string,
): LibraryCheckResult {
  const checks: LibraryFileCheck[] = libraryFilesNamedBy(commands).map((fileName) => {
    const expected = reviewed.find((r) => r.fileName === fileName);
    const observedSha256 = listedAs(listed, fileName)?.sha256.toLowerCase() ?? null;
    const base = { fileName, expectedSha256: expected?.sha256 ?? null, expectedFrom: expected?.source ?? null, observedSha256, checkedAt };
    if (observedSha256 === null) return { ...base, verdict: "missing" };
    if (!expected) return { ...base, verdict: allowUnreviewed ? "unreviewedAllowed" : "unreviewed" };
    return { ...base, verdict: observedSha256 === expected.sha256.toLowerCase() ? "match" : "changed" };
  });
  const problems = checks.filter((c) => c.verdict === "missing" || c.verdict === "changed" || c.verdict === "unreviewed");
  if (problems.length === 0) return { ok: true, checks };
  const first = problems[0]!;
  return {
    ok: false,
    checks,
    code: LIBRARY_REFUSAL_CODES[first.verdict as keyof typeof LIBRARY_REFUSAL_CODES],
    message: `nothing was submitted: ${problems.map(describe).join("; ")}`,
  };
}

/** One refused file in words a SOC engineer can act on. */
function describe(c: LibraryFileCheck): string {
  const from = c.expectedFrom === "playbook" ? "pinned in the playbook" : "of library/ deployed with the collector";
  switch (c.verdict) {
    case "changed":
      return (
        `${c.fileName} in MDE's live response library is not the reviewed file ` +
        `(expected SHA-256 ${c.expectedSha256} ${from}, found ${c.observedSha256}): ` +
        "review the change in Git and run npm run library:sync, or restore the reviewed file"
      );
    case "missing":
      return (
        `${c.fileName} is not in MDE's live response library` +
        `${c.expectedSha256 ? ` (expected SHA-256 ${c.expectedSha256} ${from})` : ""}: run npm run library:sync`
      );
    default:
      return (
        `${c.fileName} has no reviewed SHA-256 (found ${c.observedSha256} in MDE's library): ` +
        "add it to library/ or pin it in the playbook's librarySha256 (LIBRARY_ALLOW_UNREVIEWED=true runs it unreviewed)"
      );
  }
}

/** The manifest's record when no submission reached the check (the device stayed busy, the deadline passed first). */
export function uncheckedLibraryFiles(
  commands: readonly LiveResponseCommand[],
  reviewed: readonly ReviewedLibraryFile[] | undefined,
): LibraryFileCheck[] {
  return libraryFilesNamedBy(commands).map((fileName) => {
    const expected = reviewed?.find((r) => r.fileName === fileName);
    return {
      fileName,
      expectedSha256: expected?.sha256 ?? null,
      expectedFrom: expected?.source ?? null,
      observedSha256: null,
      verdict: "notChecked",
      checkedAt: null,
    };
  });
}
