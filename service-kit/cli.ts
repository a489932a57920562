/**
 * How both binaries start: --help and --version print and exit 0; a bad setting (any ConfigError
 * before the servers start) prints one line naming every bad field and exits 2, before any port opens.
 */
import { ConfigError, type Startup } from "../protocol/config-table";
import { PEERPULL_VERSION } from "../protocol/version";

export type Program = "peerpull-agent" | "peerpull-tracker";

/** The config to run with; help and version end the process here. */
export function startupConfig<C>(program: Program, read: () => Startup<C>, help: () => string): C {
  const startup = exitOnConfigError(program, read);
  if (startup.action === "help") exitWith(0, process.stdout, help());
  if (startup.action === "version") exitWith(0, process.stdout, `${program} ${PEERPULL_VERSION}`);
  return startup.config;
}

/** `step()`, or exit 2 with its ConfigError's message; any other error propagates. */
export function exitOnConfigError<T>(program: Program, step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof ConfigError) exitWith(2, process.stderr, `${program}: ${err.message}`);
    throw err;
  }
}

function exitWith(code: number, stream: NodeJS.WriteStream, line: string): never {
  stream.write(line + "\n");
  process.exit(code);
}
