/**
 * How every setting of the agent, the tracker and peerpull-render is read, whether it comes from a
 * flag (always a string), a YAML/JSON config file (strings, numbers, booleans, lists) or a table
 * default. Each parser returns the typed value or throws an Error whose message says what was
 * wrong; the config table (`config-table.ts`) prefixes it with the setting's name.
 */
import { parseByteRate, parseByteSize, parseDuration } from "./units";

export interface HostPort {
  host: string;
  port: number;
}

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type Parser<T> = (value: unknown) => T;

/** A non-empty string; numbers from a YAML file count as their decimal text. */
export function text(value: unknown): string {
  if (typeof value === "string" && value.length > 0) return value;
  if (typeof value === "number") return String(value);
  throw new Error(`expected a non-empty string, got ${JSON.stringify(value)}`);
}

/** `HOST:PORT` or `[IPv6]:PORT`; port 0 means "any free port". */
export function hostPort(value: unknown): HostPort {
  const given = text(value);
  const at = given.lastIndexOf(":");
  const portText = given.slice(at + 1);
  const port = Number(portText);
  if (at <= 0 || !/^\d{1,5}$/.test(portText) || port > 65535)
    throw new Error(`expected HOST:PORT with a port from 0 to 65535, got ${JSON.stringify(given)}`);
  return { host: given.slice(0, at).replace(/^\[(.*)\]$/, "$1"), port };
}

/** Milliseconds from "500ms", "30s", "1h30m" or a plain number of ms, within [min, max]. */
export function duration(limits: { min?: number; max?: number } = {}): Parser<number> {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = limits;
  return value => {
    const given = text(value);
    if (given.trim().startsWith("-")) throw new Error(`must not be negative, got ${JSON.stringify(given)}`);
    const ms = parseDuration(given);
    if (ms < min || ms > max) throw new Error(`${durationRange(min, max)}, got ${JSON.stringify(given)}`);
    return ms;
  };
}

/** Bytes from "512M", "10G", "100" (K/M/G/T binary), at least `min`. */
export function byteSize(limits: { min?: number } = {}): Parser<number> {
  const { min = 0 } = limits;
  return value => {
    const given = text(value);
    if (given.trim().startsWith("-")) throw new Error(`must not be negative, got ${JSON.stringify(given)}`);
    const bytes = parseByteSize(given);
    if (bytes < min) throw new Error(minimumMessage(min, given));
    return bytes;
  };
}

/** Bytes per second from "512M" or "512M/s"; never 0 (a rate of nothing moves nothing). */
export function byteRate(value: unknown): number {
  const given = text(value);
  if (given.trim().startsWith("-")) throw new Error(`must not be negative, got ${JSON.stringify(given)}`);
  const rate = parseByteRate(given);
  if (rate <= 0) throw new Error("must be greater than 0");
  return rate;
}

/** A whole number from `min` to `max`, written in decimal digits. */
export function integer(min: number, max: number): Parser<number> {
  return value => {
    const given = typeof value === "number" ? String(value) : text(value);
    const n = Number(given);
    if (!/^\d+$/.test(given.trim()) || n < min || n > max)
      throw new Error(`expected an integer from ${min} to ${max}, got ${JSON.stringify(given)}`);
    return n;
  };
}

export function oneOf<T extends string>(choices: readonly T[]): Parser<T> {
  return value => {
    const given = text(value);
    if (!choices.includes(given as T))
      throw new Error(`expected one of ${choices.join(", ")}, got ${JSON.stringify(given)}`);
    return given as T;
  };
}

export const logLevel: Parser<LogLevel> = oneOf(LOG_LEVELS);

/** true or false, as a boolean or its text. */
export function boolean(value: unknown): boolean {
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw new Error(`expected true or false, got ${JSON.stringify(value)}`);
}

export function absolutePath(value: unknown): string {
  const path = text(value);
  if (!path.startsWith("/")) throw new Error(`must be an absolute path, got ${JSON.stringify(path)}`);
  return path;
}

/** An http(s) URL, without trailing slashes. */
export function httpUrl(value: unknown): string {
  const given = text(value);
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new Error(`expected an http(s) URL, got ${JSON.stringify(given)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(`expected an http(s) URL, got ${JSON.stringify(given)}`);
  return given.replace(/\/+$/, "");
}

/** A repeatable setting: one value or a list of them (a repeated flag, a YAML list), each parsed. */
export function listOf<T>(item: Parser<T>): Parser<T[]> {
  return value => {
    if (value === undefined) return [];
    return (Array.isArray(value) ? value : [value]).map(one => item(one));
  };
}

function minimumMessage(min: number, given: string): string {
  return min === 1 ? "must be greater than 0" : `must be at least ${min} bytes, got ${JSON.stringify(given)}`;
}

function durationRange(min: number, max: number): string {
  if (max === Number.MAX_SAFE_INTEGER) return `must be at least ${formatMs(min)}`;
  return `must be from ${formatMs(min)} to ${formatMs(max)}`;
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
