/** Test helper: an app root in a temporary folder with the given files under it. */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** A GetFile playbook named `name`. */
export const getFilePlaybook = (name: string, filePath = "C:\\triage.zip") => ({
  name,
  commands: [{ type: "GetFile", params: [{ key: "Path", value: filePath }] }],
});

/**
 * Writes `files` (path relative to the root: an object is written as JSON, a string or Buffer as is)
 * under a new temporary folder holding a package.json.
 * @returns the folder (the app root)
 */
export function tempAppRoot(files: Record<string, unknown>): string {
  const root = mkdtempSync(path.join(tmpdir(), "config-files-"));
  writeFileSync(path.join(root, "package.json"), "{}");
  for (const [relative, content] of Object.entries(files)) {
    const full = path.join(root, relative);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, typeof content === "string" || Buffer.isBuffer(content) ? content : JSON.stringify(content, null, 2));
  }
  return root;
}
