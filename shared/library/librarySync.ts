/**
 * `npm run library:sync`, as a function: uploads to MDE's live response library what differs from the
 * reviewed `library/` folder, then lists the library again and checks every file's SHA-256. Idempotent:
 * a second run finds nothing to do. Files MDE holds that `library/` does not are reported, never deleted.
 */
import { readFileSync } from "node:fs";
import type { MdeApi } from "../mde/api";
import type { LibraryFile } from "../mde/models";
import type { LocalLibraryFile } from "./libraryFiles";

/** What the sync does with one local file. */
export interface SyncStep {
  fileName: string;
  localSha256: string;
  /** MDE's SHA-256 before the sync, or null when MDE has no file of that name. */
  remoteSha256: string | null;
  /** `upload`: new in MDE; `replace`: MDE's differs (uploaded with OverrideIfExists); `unchanged`: already the reviewed bytes. */
  action: "upload" | "replace" | "unchanged";
}

/** One file's state after the sync, from the second listing. */
export interface SyncVerification {
  fileName: string;
  expectedSha256: string;
  /** What MDE lists after the sync, or null when the file is not there. */
  foundSha256: string | null;
  ok: boolean;
}

export interface SyncReport {
  steps: SyncStep[];
  /** Files MDE's library holds that `library/` does not: left alone. */
  onlyInMde: string[];
  dryRun: boolean;
  /** After a real run: every local file as MDE lists it afterwards. Empty on a dry run. */
  verified: SyncVerification[];
  /** Uploads MDE refused: file name and reason. */
  failures: { fileName: string; message: string }[];
  /** True when every local file is in MDE with its SHA-256 (a dry run: when nothing would change). */
  ok: boolean;
}

/** MDE's file of that name: exact spelling first, else any case (the library's names ignore case). */
function remoteOf(remote: readonly LibraryFile[], fileName: string): LibraryFile | undefined {
  return remote.find((f) => f.fileName === fileName) ?? remote.find((f) => f.fileName.toLowerCase() === fileName.toLowerCase());
}

/** Pure: what the sync would do, file by file, given MDE's current listing. */
export function planLibrarySync(
  local: readonly LocalLibraryFile[],
  remote: readonly LibraryFile[],
): { steps: SyncStep[]; onlyInMde: string[] } {
  const steps = local.map((file): SyncStep => {
    const found = remoteOf(remote, file.fileName);
    const remoteSha256 = found ? found.sha256.toLowerCase() : null;
    const action = remoteSha256 === null ? "upload" : remoteSha256 === file.sha256 ? "unchanged" : "replace";
    return { fileName: file.fileName, localSha256: file.sha256, remoteSha256, action };
  });
  const onlyInMde = remote.filter((r) => !local.some((l) => l.fileName.toLowerCase() === r.fileName.toLowerCase())).map((r) => r.fileName);
  return { steps, onlyInMde };
}

export interface SyncDeps {
  mde: Required<Pick<MdeApi, "listLibraryFiles" | "uploadLibraryFile">>;
  /** The reviewed files (readLibraryDirectory), already checked for names and sizes. */
  local: readonly LocalLibraryFile[];
  dryRun: boolean;
  /** The bytes of a local file. @default read from its path */
  read?: (file: LocalLibraryFile) => Uint8Array;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** The description MDE shows beside each synced file. */
const DESCRIPTION = "Reviewed in Git; uploaded by npm run library:sync (mde-live-response-collector)";

/**
 * Lists MDE's library, uploads what is missing or differs (OverrideIfExists only for a file that
 * differs, so a file created meanwhile by someone else is never silently replaced), lists again and
 * checks every local file's SHA-256.
 * @throws what the MDE client throws for the listings (the sync cannot decide anything without them)
 */
export async function runLibrarySync(deps: SyncDeps): Promise<SyncReport> {
  const log = deps.log ?? (() => {});
  const read = deps.read ?? ((file: LocalLibraryFile) => readFileSync(file.path));
  const { steps, onlyInMde } = planLibrarySync(deps.local, await deps.mde.listLibraryFiles());
  const pending = steps.filter((s) => s.action !== "unchanged");
  if (deps.dryRun) return { steps, onlyInMde, dryRun: true, verified: [], failures: [], ok: pending.length === 0 };

  const failures: SyncReport["failures"] = [];
  for (const step of pending) {
    const file = deps.local.find((f) => f.fileName === step.fileName)!;
    const content = read(file);
    try {
      await deps.mde.uploadLibraryFile({
        fileName: file.fileName,
        content,
        description: DESCRIPTION,
        overrideIfExists: step.action === "replace",
      });
      log(`${step.action === "replace" ? "replaced" : "uploaded"} ${file.fileName}`);
    } catch (e) {
      failures.push({ fileName: file.fileName, message: e instanceof Error ? e.message : String(e) });
    }
  }
  const after = pending.length === 0 ? null : await deps.mde.listLibraryFiles();
  const verified = deps.local.map((file): SyncVerification => {
    const found = after ? remoteOf(after, file.fileName) : undefined;
    const foundSha256 = after ? (found?.sha256.toLowerCase() ?? null) : steps.find((s) => s.fileName === file.fileName)!.remoteSha256;
    return { fileName: file.fileName, expectedSha256: file.sha256, foundSha256, ok: foundSha256 === file.sha256 };
  });
  return { steps, onlyInMde, dryRun: false, verified, failures, ok: failures.length === 0 && verified.every((v) => v.ok) };
}
