/**
 * The one character policy for text that callers, alerts and settings hand the collector (comments,
 * paths, params, idempotency keys, playbook parameters, filters) and for the messages it shows.
 * Unsafe are:
 * - C0 controls, DEL and C1 controls (U+0000–U+001F, U+007F–U+009F): line breaks, escapes, NEL;
 * - the line and paragraph separators U+2028 and U+2029: line breaks to JavaScript and many log viewers;
 * - bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): they reorder
 *   what a reader sees ("Trojan Source", CVE-2021-42574), so a path or comment would read as another;
 * - UTF-16 surrogates without their pair: not text, they become U+FFFD or break encoders downstream.
 * Pure, no imports: orchestrators reach it through shared/publicMessage.ts.
 */

const UNSAFE_SOURCE =
  "[\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]" +
  "|[\\ud800-\\udbff](?![\\udc00-\\udfff])" +
  "|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]";

const UNSAFE = new RegExp(UNSAFE_SOURCE);
const UNSAFE_RUNS = new RegExp(`(?:${UNSAFE_SOURCE})+`, "g");
const UNSAFE_EACH = new RegExp(UNSAFE_SOURCE, "g");

/** What a validation problem says about a value holding an unsafe character. */
export const UNSAFE_CHARACTERS_MESSAGE =
  "must not contain control characters (C0, C1), line or paragraph separators (U+2028, U+2029), " +
  "bidirectional overrides or isolates (U+202A-U+202E, U+2066-U+2069) or unpaired surrogates";

/** True when `text` holds a character of the policy (see the module comment). */
export function hasUnsafeCharacters(text: string): boolean {
  return UNSAFE.test(text);
}

/** `text` with each run of unsafe characters replaced by `replacement` (for one-line messages). */
export function replaceUnsafeCharacters(text: string, replacement: string): string {
  return text.replace(UNSAFE_RUNS, replacement);
}

/** `text` with each unsafe character written as a visible `\uXXXX` escape (for echoing caller input). */
export function escapeUnsafeCharacters(text: string): string {
  return text.replace(UNSAFE_EACH, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
