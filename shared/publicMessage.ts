/**
 * Text that leaves an activity (an output's message, a thrown fault the Durable runtime turns into
 * the orchestrator's failure message) ends in the status a caller reads and in the manifest. It
 * must be one line, carry MDE's code and correlation id, and hold no stack trace, server path,
 * SAS signature or bearer token.
 */
import { CollectorError, MdeApiError, redactText } from "./errors";
import { replaceUnsafeCharacters } from "./unsafeCharacters";

/** Longest message handed to the orchestrator; longer ones are cut and end with "…". */
export const MAX_PUBLIC_MESSAGE_LENGTH = 500;

/** A stack frame, real (`\n    at f (...)`) or inside a JSON string (`\\n    at ...`), and everything after it. */
const STACK_TAIL = /(?:\r?\n|\\(?:r\\)?n)\s*at\s[\s\S]*$/;
/** Source files of the app or the runtime, with an optional :line:column (a stack frame without its "at"). */
const SOURCE_FILE =
  /(?:file:\/\/)?(?<![\w.~-])(?:[A-Za-z]:)?[\\/](?:[^\s\\/'"()<>,;]+[\\/])*[^\s\\/'"()<>,;:]+\.(?:[cm]?[jt]s|node)(?!\w)(?::\d+){0,2}/g;
/** Absolute paths under the directories an app or its host lives in (Linux and Windows App Service, containers, CI). */
const SERVER_PATH =
  /(?:file:\/\/)?(?<![\w.~-])(?:\/(?:home|tmp|usr|var|opt|srv|root|work|workspace|app|mnt|proc|etc|private|Users)\/|[A-Za-z]:\\(?:home|local|Program Files[^\\]*|DWASFiles|Windows\\Temp)\\)[^\s'"()<>,;]*/g;
const NODE_INTERNAL = /\bnode:internal\/[^\s'"()<>,;]*/g;

/**
 * The text as one bounded line: SAS queries and bearer tokens redacted, stack frames and server
 * file paths removed (each path becomes `<path>`), unsafe characters (shared/unsafeCharacters.ts)
 * and runs of whitespace turned into one space, at most `maxLength` characters.
 * @param maxLength - @default MAX_PUBLIC_MESSAGE_LENGTH (500)
 */
export function publicMessage(text: string, maxLength: number = MAX_PUBLIC_MESSAGE_LENGTH): string {
  const withoutPaths = redactText(text)
    .replace(STACK_TAIL, "")
    .replace(NODE_INTERNAL, "<path>")
    .replace(SOURCE_FILE, "<path>")
    .replace(SERVER_PATH, "<path>");
  const oneLine = replaceUnsafeCharacters(withoutPaths, " ").replace(/\s+/g, " ").trim();
  return oneLine.length <= maxLength ? oneLine : `${oneLine.slice(0, Math.max(0, maxLength - 1)).trimEnd()}…`;
}

/**
 * A failure as one public line: for an MDE error `MDE <code> (HTTP <status>): <message>; correlation id <target>`,
 * for a collector error `<code>: <message>`, else the error's code or name (unless plain "Error") and message.
 */
export function describeFailure(e: unknown): string {
  if (e instanceof MdeApiError) {
    const status = e.statusCode === undefined ? "" : ` (HTTP ${e.statusCode})`;
    const target = e.target ? `; correlation id ${e.target}` : "";
    // The correlation id goes first when the message is long, so the cut never removes it.
    return withTail(`MDE ${e.code}${status}: `, e.message, target);
  }
  if (e instanceof CollectorError) return publicMessage(`${e.code}: ${e.message}`);
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    const label = typeof code === "string" && code ? code : e.name !== "Error" ? e.name : undefined;
    return publicMessage(label ? `${label}: ${e.message}` : e.message);
  }
  return publicMessage(String(e));
}

function withTail(head: string, message: string, tail: string): string {
  const room = MAX_PUBLIC_MESSAGE_LENGTH - head.length - tail.length;
  return publicMessage(`${head}${publicMessage(message, Math.max(room, 20))}${tail}`);
}

/**
 * What the orchestrator should show of an activity that failed after its retries. durable-functions
 * hands it `Error("<Reason> \n <Details>")`: the Reason is `Activity function '<name>' failed: <message>`
 * (the activity's one-line message, see activities/activityFault.ts), the Details the serialized exception
 * with its stack. Only the message is kept, made public.
 * @param failure - the error the orchestrator caught, or its message
 */
export function activityFailureMessage(failure: unknown): string {
  const text = failure instanceof Error ? failure.message : String(failure);
  const reason = text.split(/\r?\n/, 1)[0] ?? "";
  return publicMessage(reason.replace(/^\s*Activity function '[^']*' failed:\s*/, ""));
}
