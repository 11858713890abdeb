/**
 * Structured logging: a constant message plus a properties object with fixed keys, so logs can
 * be queried (instanceId, machineId, actionId, commandIndex). Never pass SAS URLs, tokens or
 * evidence content as properties.
 */
export type LogProperties = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  info(message: string, properties?: LogProperties): void;
  warn(message: string, properties?: LogProperties): void;
  error(message: string, properties?: LogProperties): void;
}

/** Anything with Functions-style log methods (InvocationContext, console). */
export interface LogSink {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** Writes one JSON line per entry to the sink (the InvocationContext in Functions). */
export function jsonLogger(sink: LogSink, base: LogProperties = {}): Logger {
  const write =
    (level: "info" | "warn" | "error") =>
    (message: string, properties: LogProperties = {}) =>
      sink[level](JSON.stringify({ level, message, ...base, ...properties }));
  return { info: write("info"), warn: write("warn"), error: write("error") };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
