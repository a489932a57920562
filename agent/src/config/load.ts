/**
 * Builds the frozen AgentConfig from flags and an optional YAML/JSON `--config` file (flags win),
 * with the table and rules of `protocol/agent-config.ts`. Every bad field is reported together, by
 * name, before any port opens. The only part that is the agent's own is reading the file.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { AgentConfig, FIELDS, resolveAgentConfig } from "../../../protocol/agent-config";
import {
  ConfigError,
  GivenSettings,
  helpText as tableHelp,
  readArgs,
  settingsFromKeys,
  Startup,
} from "../../../protocol/config-table";

export type { AgentConfig } from "../../../protocol/agent-config";
export { ConfigError } from "../../../protocol/config-table";

export function parseAgentArgs(argv: readonly string[]): Startup<AgentConfig> {
  const command = readArgs(argv, FIELDS);
  if (command.action !== "run") return command;
  const path = command.given.configFile;
  const file = typeof path === "string" ? readConfigFile(path) : {};
  const resolved = resolveAgentConfig({ ...file, ...command.given }, "flag");
  if (resolved.config === undefined) throw new ConfigError(resolved.problems);
  return { action: "run", config: deepFreeze(resolved.config) };
}

export function helpText(): string {
  return tableHelp(FIELDS, {
    usage: "peerpull-agent [--config FILE] [flags]",
    about: [
      "The node agent: an authorizing OCI pull mirror with a verified cache and a peer swarm.",
      "Durations: ms, s, m, h, d (500ms, 30s, 1h30m). Sizes and rates: K, M, G, T, binary (512M = 512 MiB).",
    ],
  });
}

function readConfigFile(path: string): GivenSettings<typeof FIELDS> {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ConfigError([`--config ${path}: ${(err as Error).message.split("\n")[0]}`]);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc))
    throw new ConfigError([`--config ${path}: must be a mapping`]);
  const { given, problems } = settingsFromKeys(FIELDS, doc as Record<string, unknown>);
  if (problems.length > 0) throw new ConfigError(problems.map(problem => `--config ${path}: ${problem}`));
  return given;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
