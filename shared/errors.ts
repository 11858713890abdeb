/**
 * The project's small error tree. Classes exist only where code branches on them; across the
 * activity boundary errors are rebuilt from their message, so activities return expected
 * outcomes as values and throw only transient or unknown faults.
 */
export class CollectorError extends Error {
  /** A stable code a SOC engineer can search for and act on. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CollectorError";
    this.code = code;
  }
}

/** One bad or missing setting; {@link ConfigError} carries all of them at once. */
export interface SettingProblem {
  setting: string;
  problem: string;
}

/** Thrown at startup when settings are missing or invalid; names every bad setting. */
export class ConfigError extends CollectorError {
  readonly problems: SettingProblem[];
  constructor(problems: SettingProblem[]) {
    super("InvalidConfiguration", `Invalid configuration: ${problems.map((p) => `${p.setting}: ${p.problem}`).join("; ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/**
 * An error answered by the MDE API, shaped like the Azure SDK's RestError.
 * Never carries a bearer token or a SAS signature.
 */
export class MdeApiError extends CollectorError {
  readonly statusCode: number | undefined;
  /** MDE's correlation id (`error.target`): what Microsoft support asks for. */
  readonly target: string | undefined;
  /** From the Retry-After header of a 429/503, when present. */
  readonly retryAfterInMs: number | undefined;
  constructor(init: { statusCode?: number; code: string; message: string; target?: string; retryAfterInMs?: number; cause?: unknown }) {
    super(init.code, init.message, { cause: init.cause });
    this.name = "MdeApiError";
    this.statusCode = init.statusCode;
    this.target = init.target;
    this.retryAfterInMs = init.retryAfterInMs;
  }
}

/** Removes the signature (and any other credential-like query) from a URL before it is logged or stored. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "<unparseable url>";
  }
}

/** A message safe to log: SAS query strings and bearer tokens stripped out. */
export function redactText(text: string): string {
  return text.replace(/(https?:\/\/[^\s"'?]+)\?[^\s"']*/g, "$1?<redacted>").replace(/Bearer\s+[A-Za-z0-9\-._~+/]+=*/g, "Bearer <redacted>");
}

export function errorMessage(e: unknown): string {
  return redactText(e instanceof Error ? e.message : String(e));
}
