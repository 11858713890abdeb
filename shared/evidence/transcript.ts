import type { RunScriptTranscript } from "../mde/models";

/** The transcript kept in the manifest; the blob always holds the whole result. */
export const TRANSCRIPT_FIELD_MAX_CHARS = 16 * 1024;
/** Only this much of a RunScript result is read to parse it (MDE transcripts are small JSON). */
export const TRANSCRIPT_MAX_BYTES = 1024 * 1024;

export type ParsedTranscript = { transcript: RunScriptTranscript & { truncated?: boolean } } | { error: string };

/**
 * Parses a RunScript result (`script_name`, `exit_code`, `script_output`, `script_errors`: the "Runscript
 * transcript properties" of https://learn.microsoft.com/defender-endpoint/api/get-live-response-result; older
 * revisions of that table call the first one `name`, so both are read).
 * @param head - the leading bytes of the result; `totalSize` tells whether they are the whole of it
 */
export function parseTranscript(head: Buffer, totalSize: number): ParsedTranscript {
  if (head.length < totalSize)
    return { error: `RunScript result is ${totalSize} bytes, more than the ${head.length} read for parsing; see the evidence blob` };
  let raw: unknown;
  try {
    raw = JSON.parse(head.toString("utf8").replace(/^\uFEFF/, ""));
  } catch {
    return { error: "RunScript result is not JSON; see the evidence blob" };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { error: "RunScript result is not a JSON object" };
  const o = raw as Record<string, unknown>;
  const str = (v: unknown): string | null => (typeof v === "string" ? v : v === undefined || v === null ? null : JSON.stringify(v));
  let truncated = false;
  const cap = (v: string | null): string | null => {
    if (v === null || v.length <= TRANSCRIPT_FIELD_MAX_CHARS) return v;
    truncated = true;
    return v.slice(0, TRANSCRIPT_FIELD_MAX_CHARS);
  };
  const exit =
    typeof o.exit_code === "number"
      ? o.exit_code
      : typeof o.exit_code === "string" && /^-?\d+$/.test(o.exit_code)
        ? Number(o.exit_code)
        : null;
  const transcript: RunScriptTranscript & { truncated?: boolean } = {
    script_name: str(o.script_name ?? o.name),
    exit_code: exit,
    script_output: cap(str(o.script_output)),
    script_errors: cap(str(o.script_errors ?? o.script_error)),
  };
  if (truncated) transcript.truncated = true;
  return { transcript };
}
