/**
 * The settings table the agent, the tracker and peerpull-render are built on: one row per setting
 * (flag, config-file key, default, parser, help). From the same rows come the command-line options
 * (plus -h/--help and --version), the help text, the reading of a config file's keys, and the
 * checks: every bad setting is reported together, each named the way the user wrote it.
 * Pure (node:util's parseArgs is its only import): the Pepr module checks rendered agent configs
 * with it.
 */
import { parseArgs } from "node:util";
import type { Parser } from "./config-parsers";

export interface Field<T = unknown> {
  /** `--flag` on the command line. */
  flag: string;
  /** The key in a YAML/JSON config file (camelCase); a field without one is a flag only. */
  key?: string;
  /** A one-letter alias (`-f`). */
  short?: string;
  help: string;
  /** Used when the setting is not given; parsed like a given value. */
  default?: string;
  /** Not given and no default: a problem. */
  required?: boolean;
  /** A repeatable flag, or a list in a file; `parse` gets the list (see `listOf`). */
  multiple?: boolean;
  /** A flag that takes no value (`--mirror-cleanup`): given, `parse` gets `true`. */
  switch?: boolean;
  parse: Parser<T>;
}

export type Table = Readonly<Record<string, Field>>;
/** Settings as given, by table name: strings from flags, anything from a file. */
export type GivenSettings<T extends Table> = Partial<Record<keyof T, unknown>>;
/** Settings parsed, by table name; possibly undefined where a field has no default and is optional. */
export type Settings<T extends Table> = {
  [N in keyof T]: T[N] extends { default: string } | { required: true } | { multiple: true }
    ? ReturnType<T[N]["parse"]>
    : ReturnType<T[N]["parse"]> | undefined;
};

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("; "));
    this.name = "ConfigError";
  }
}

/** How a problem names its setting: as a flag (`--cache-ttl`) or as a config-file key (`cacheTTL`). */
export type Naming = "flag" | "key";

export function settingName(field: Field, naming: Naming): string {
  return naming === "key" && field.key !== undefined ? field.key : `--${field.flag}`;
}

export type Command<T extends Table> =
  | { action: "help" }
  | { action: "version" }
  | { action: "run"; given: GivenSettings<T> };

const BUILT_IN = {
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

/** Reads argv against the table; unknown flags, positionals and flags without a value are a ConfigError. */
export function readArgs<T extends Table>(argv: readonly string[], table: T): Command<T> {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {
    ...BUILT_IN,
  };
  for (const field of Object.values(table)) {
    if (field.flag in BUILT_IN) throw new Error(`config table: --${field.flag} is built in`);
    options[field.flag] = {
      type: field.switch ? "boolean" : "string",
      ...(field.short ? { short: field.short } : {}),
      ...(field.multiple ? { multiple: true } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: joinDashValues(argv, options),
      options,
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    // ERR_PARSE_ARGS_*: the user's words (unknown option, positional); anything else is our bug
    if (!String((err as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")) throw err;
    throw new ConfigError([argsProblem(err as Error & { code: string })]);
  }
  if (parsed.values.help === true) return { action: "help" };
  if (parsed.values.version === true) return { action: "version" };
  const given: GivenSettings<T> = {};
  for (const [name, field] of Object.entries(table) as [keyof T, Field][]) {
    const value = parsed.values[field.flag];
    if (value !== undefined) given[name] = value;
  }
  return { action: "run", given };
}

function argsProblem(err: Error & { code: string }): string {
  const quoted = /'([^']*)'/.exec(err.message)?.[1];
  if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `${quoted}: unknown flag (--help lists them)`;
  if (err.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL")
    return `${quoted}: unexpected argument (flags only)`;
  return err.message.split("\n")[0];
}

/**
 * parseArgs refuses a value that starts with "-" (`--cache-ttl -5s` is "ambiguous"), which would hide
 * the real problem behind a remark on syntax. A value that is not itself one of the options is joined
 * to its flag (`--cache-ttl=-5s`), so the setting's parser says what is wrong with it.
 */
function joinDashValues(
  argv: readonly string[],
  options: Record<string, { type: string; short?: string }>,
): string[] {
  const longFor = new Map<string, string>();
  for (const [flag, option] of Object.entries(options)) {
    longFor.set(`--${flag}`, flag);
    if (option.short) longFor.set(`-${option.short}`, flag);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = longFor.get(argv[i]);
    if (flag === undefined || options[flag].type !== "string") {
      out.push(argv[i]);
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || longFor.has(value.split("=")[0]))
      throw new ConfigError([`${argv[i]}: needs a value`]);
    out.push(`--${flag}=${value}`);
    i++;
  }
  return out;
}

/** Every field parsed: as given, else its default, else undefined (a problem when required). */
export function parseSettings<T extends Table>(
  table: T,
  given: GivenSettings<T>,
  naming: Naming,
): { settings: Settings<T>; problems: string[] } {
  const settings: Partial<Record<keyof T, unknown>> = {};
  const problems: string[] = [];
  for (const [name, field] of Object.entries(table) as [keyof T, Field][]) {
    const value = given[name] ?? field.default;
    if (value === undefined && !field.multiple) {
      if (field.required) problems.push(`${settingName(field, naming)}: required`);
      continue;
    }
    try {
      settings[name] = field.parse(value);
    } catch (err) {
      problems.push(`${settingName(field, naming)}: ${(err as Error).message}`);
    }
  }
  return { settings: settings as Settings<T>, problems };
}

/** A config file's mapping as settings by table name; a key the table does not have is a problem. */
export function settingsFromKeys<T extends Table>(
  table: T,
  doc: Readonly<Record<string, unknown>>,
): { given: GivenSettings<T>; problems: string[] } {
  const byKey = new Map<string, keyof T>();
  for (const [name, field] of Object.entries(table) as [keyof T, Field][])
    if (field.key !== undefined) byKey.set(field.key, name);
  const given: GivenSettings<T> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(doc)) {
    const name = byKey.get(key);
    if (name === undefined) problems.push(`${key}: unknown field`);
    else if (value !== undefined) given[name] = value;
  }
  return { given, problems };
}

/** `--help` output: usage, what the program is, then one line per flag with its default. */
export function helpText(table: Table, intro: { usage: string; about: readonly string[] }): string {
  const rows: [string, string][] = Object.values(table).map(field => [
    `${field.short ? `-${field.short}, ` : ""}--${field.flag}${field.switch ? "" : field.multiple ? " VALUE (repeatable)" : " VALUE"}`,
    field.help + (field.default === undefined ? "" : ` [default: ${field.default}]`),
  ]);
  rows.push(["-h, --help", "show this help and exit"], ["--version", "print the version and exit"]);
  const width = Math.min(36, Math.max(...rows.map(([label]) => label.length)));
  return [
    `Usage: ${intro.usage}`,
    "",
    ...intro.about,
    "",
    ...rows.map(([label, help]) => `  ${label.padEnd(width)}  ${help}`),
  ].join("\n");
}

/** What a binary does once its arguments are read. */
export type Startup<C> = { action: "help" } | { action: "version" } | { action: "run"; config: C };
