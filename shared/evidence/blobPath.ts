/**
 * Pure helpers naming evidence blobs. Every segment is sanitised here, so a file path chosen by
 * an attacker on the device (GetFile) can never escape its action's folder or yield an
 * unreadable name.
 */

/** Longest sanitised segment kept (file names, ids, types); the whole name stays far below Azure's 1,024. */
export const MAX_SEGMENT_LENGTH = 120;
/** Longest extension kept when a long file name is shortened, so the type stays recognisable. */
const MAX_KEPT_EXTENSION = 16;
const FALLBACK_SEGMENT = "unnamed";

/** Where one command's result goes. */
export interface EvidenceBlobNameParts {
  /** Folder under the container; may be empty or contain `/`. */
  prefix: string;
  machineId: string;
  actionId: string;
  /** Command index in the live response request (0-based, as MDE counts). */
  index: number;
  /** Command type, e.g. `RunScript` or `GetFile`. */
  type: string;
  /** The script name, or the device path of a GetFile (only its base name is used). */
  name: string;
}

/**
 * `{prefix}/{machineId}/{actionId}/{index}-{type}-{name}`, every part sanitised.
 * @throws RangeError when `index` is not a non-negative integer.
 */
export function evidenceBlobName(parts: EvidenceBlobNameParts): string {
  if (!Number.isSafeInteger(parts.index) || parts.index < 0)
    throw new RangeError(`index must be a non-negative integer, got ${parts.index}`);
  const file = `${parts.index}-${sanitizeSegment(parts.type)}-${sanitizeSegment(baseName(parts.name))}`;
  return join(parts.prefix, parts.machineId, parts.actionId, file);
}

/** `{prefix}/{machineId}/{actionId}/manifest.json`. */
export function manifestBlobName(parts: { prefix: string; machineId: string; actionId: string }): string {
  return join(parts.prefix, parts.machineId, parts.actionId, "manifest.json");
}

/**
 * `{folder}/manifest-{instanceId}.json`: where a collection's manifest goes when its usual name is
 * already taken by a document the collection did not write (an integrity error, recorded in it).
 */
export function alternateManifestBlobName(manifestBlobName: string, instanceId: string): string {
  return manifestBlobName.replace(/manifest\.json$/, `manifest-${sanitizeSegment(instanceId)}.json`);
}

/** The last segment of a Windows or POSIX path (`C:\Temp\a.exe` and `/tmp/a.exe` both give `a.exe`). */
export function baseName(path: string): string {
  const segments = path.split(/[\\/]+/).filter((s) => s.length > 0);
  return segments.length > 0 ? segments[segments.length - 1] : "";
}

/**
 * A safe blob path segment: letters, digits, `.`, `-`, `_` kept, anything else (one per code
 * point) becomes `_`; dot-only names (`.`, `..`) are neutralised because URL normalisation would
 * resolve them; long names are shortened keeping the extension; never empty.
 */
export function sanitizeSegment(raw: string): string {
  let s = Array.from(raw, (ch) => (/^[A-Za-z0-9._-]$/.test(ch) ? ch : "_")).join("");
  if (/^\.+$/.test(s)) s = s.replace(/\./g, "_");
  if (s.length > MAX_SEGMENT_LENGTH) s = shorten(s);
  return s.length > 0 ? s : FALLBACK_SEGMENT;
}

function shorten(s: string): string {
  const dot = s.lastIndexOf(".");
  const ext = dot > 0 && s.length - dot <= MAX_KEPT_EXTENSION ? s.slice(dot) : "";
  return s.slice(0, MAX_SEGMENT_LENGTH - ext.length) + ext;
}

/** The prefix keeps its own folders (each sanitised); the fixed parts are single segments. */
function join(prefix: string, machineId: string, actionId: string, last: string): string {
  const prefixSegments = prefix
    .split("/")
    .filter((s) => s.length > 0)
    .map(sanitizeSegment);
  return [...prefixSegments, sanitizeSegment(machineId), sanitizeSegment(actionId), last].join("/");
}
