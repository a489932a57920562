/** The logger of both services: JSON lines on stdout (pino), one per event, tokens redacted. */
import pino, { Logger } from "pino";
import type { LogLevel } from "../protocol/config-parsers";

export function createLogger(service: "peerpull-agent" | "peerpull-tracker", level: LogLevel): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: label => ({ level: label }) },
    redact: ["req.headers.authorization", "headers.authorization"],
  });
}
