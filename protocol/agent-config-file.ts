/**
 * Checks an agent `--config` file (camelCase keys, as the Pepr module renders it into the agent
 * ConfigMap) with the agent's own table and rules (`agent-config.ts`), so a value the agent would
 * reject is never rendered.
 */
import { FIELDS, resolveAgentConfig } from "./agent-config";
import { settingsFromKeys } from "./config-table";

/** Every problem with `doc`, named by config key; empty when the agent would accept it. */
export function agentConfigFileProblems(doc: Readonly<Record<string, unknown>>): string[] {
  const { given, problems } = settingsFromKeys(FIELDS, doc);
  return [...problems, ...resolveAgentConfig(given, "key").problems];
}
