import pino, { Logger } from "pino";
import type { LogLevel } from "./config";

/** Structured JSON logs on stdout, one line per event. */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: "peerpull-tracker" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: label => ({ level: label }) },
    redact: ["req.headers.authorization", "headers.authorization"],
  });
}
