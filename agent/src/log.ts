import pino, { Logger } from "pino";
import type { LogLevel } from "../../protocol/agent-config";

/** Structured JSON logs on stdout, one line per event. */
export function createLogger(service: string, level: LogLevel): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: label => ({ level: label }) },
    redact: ["req.headers.authorization", "headers.authorization"],
  });
}
