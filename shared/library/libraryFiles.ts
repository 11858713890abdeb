/**
 * The live response library as files: the names MDE accepts, which library files a request uses,
 * and the reviewed copies kept in the repository's `library/` folder (deployed with the app).
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { LIBRARY_FILE_NAME_PATTERN, LIBRARY_UPLOAD_MAX_BYTES, type LiveResponseCommand } from "../mde/models";

/** The command params that name a library file: RunScript's ScriptName and PutFile's FileName (run-live-response, "Commands"). */
const LIBRARY_PARAM: Readonly<Record<string, string>> = { RunScript: "ScriptName", PutFile: "FileName" };

/** One file of the local `library/` folder. */
export interface LocalLibraryFile {
  fileName: string;
  /** Lowercase hex SHA-256 of the bytes. */
  sha256: string;
  size: number;
  /** Absolute path, for reading the bytes again at upload time. */
  path: string;
}

/**
 * Why MDE would refuse `name` as a library file name (letters, digits, '-', '_', '.' only:
 * https://learn.microsoft.com/defender-endpoint/live-response), or undefined when it is fine.
 * Dot-only names are refused too: they name folders, not files.
 */
export function libraryFileNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > 255) return "must be 1-255 characters";
  if (!LIBRARY_FILE_NAME_PATTERN.test(name)) return "may hold only letters, digits, '-', '_' and '.'";
  if (/^\.+$/.test(name)) return "must not be only dots";
  return undefined;
}

/** The library files a request's RunScript and PutFile commands name, each once, in command order. */
export function libraryFilesNamedBy(commands: readonly LiveResponseCommand[]): string[] {
  const names: string[] = [];
  for (const command of commands) {
    const key = LIBRARY_PARAM[command.type];
    const value = key ? command.params.find((p) => p.key === key)?.value : undefined;
    if (value !== undefined && !names.includes(value)) names.push(value);
  }
  return names;
}

/** Lowercase hex SHA-256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Reads and hashes every file of a library folder. MDE's library is flat and strict about names, so
 * a subfolder, a bad name or a file over the API's 20 MB is a problem (named), and such a file is left
 * out; dotfiles (.gitkeep, .gitattributes) are not library files and are skipped silently.
 */
export function readLibraryDirectory(directory: string): { files: LocalLibraryFile[]; problems: string[] } {
  const files: LocalLibraryFile[] = [];
  const problems: string[] = [];
  if (!existsSync(directory)) return { files, problems: [`${directory} does not exist`] };
  for (const name of readdirSync(directory).sort()) {
    if (name.startsWith(".")) continue;
    const full = path.join(directory, name);
    const stat = statSync(full);
    if (!stat.isFile()) {
      problems.push(`${name}: not a file (MDE's library has no folders)`);
      continue;
    }
    const nameProblem = libraryFileNameProblem(name);
    if (nameProblem) {
      problems.push(`${name}: the name ${nameProblem}`);
      continue;
    }
    if (stat.size > LIBRARY_UPLOAD_MAX_BYTES) {
      problems.push(`${name}: ${stat.size} bytes, over the 20 MB MDE accepts through the API`);
      continue;
    }
    files.push({ fileName: name, sha256: sha256Hex(readFileSync(full)), size: stat.size, path: full });
  }
  return { files, problems };
}

/**
 * The `library/` folder of the package this code runs from: the first ancestor holding a package.json
 * (the repository, or the deployed app's root beside dist/), whether run from source or from dist/.
 */
export function findLibraryDirectory(from: string = __dirname): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return path.join(dir, "library");
    if (path.dirname(dir) === dir) return path.join(path.resolve(from), "library");
  }
}

let deployed: ReadonlyMap<string, string> | undefined;

/**
 * The SHA-256 of each file in the deployed `library/` folder (file name → hex), hashed once per process:
 * the reviewed hashes a collection falls back on when its playbook pins none. A missing folder
 * is an empty library (every RunScript and PutFile then needs a pin, or is refused as unreviewed).
 */
export function deployedLibraryHashes(): ReadonlyMap<string, string> {
  deployed ??= new Map(readLibraryDirectory(findLibraryDirectory()).files.map((f) => [f.fileName, f.sha256]));
  return deployed;
}
