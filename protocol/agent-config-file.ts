/**
 * Checks an agent `--config` file (camelCase keys, as the Pepr module renders it into the agent
 * ConfigMap) with the agent's own field table, so a value the agent would reject is never rendered.
 * Mirrors what `agent/src/config/load.ts` does with a file: unknown keys, each field's parser, and the
 * cross-field rules; `agent-config-file.test.ts` runs both on the same table to keep them in step.
 */
import { FIELDS, Upstream } from "./agent-config";

type FieldName = keyof typeof FIELDS;

/** Every problem with `doc`, named by config key; empty when the agent would accept it. */
export function agentConfigFileProblems(doc: Readonly<Record<string, unknown>>): string[] {
  const byKey = new Map(Object.entries(FIELDS).map(([name, field]) => [field.key, name as FieldName]));
  const problems: string[] = [];
  const parsed: Partial<Record<FieldName, unknown>> = {};
  for (const [key, value] of Object.entries(doc)) {
    const name = byKey.get(key);
    if (!name) {
      problems.push(`${key}: unknown field`);
      continue;
    }
    const field = FIELDS[name];
    try {
      parsed[name] =
        "multiple" in field
          ? (Array.isArray(value) ? value : [value]).map(item => field.parse(item))
          : field.parse(value);
    } catch (err) {
      problems.push(`${key}: ${(err as Error).message}`);
    }
  }
  problems.push(...crossFieldProblems(parsed, doc));
  return problems;
}

function crossFieldProblems(
  parsed: Partial<Record<FieldName, unknown>>,
  doc: Record<string, unknown>,
): string[] {
  const problems: string[] = [];
  const upstreams = (parsed.upstreams as Upstream[] | undefined) ?? [];
  if (!("upstreams" in doc) || (parsed.upstreams !== undefined && upstreams.length === 0))
    problems.push("upstreams: at least one upstream registry is required");
  const hosts = new Set<string>();
  for (const { host } of upstreams) {
    if (hosts.has(host)) problems.push(`upstreams: ${host} is configured twice`);
    hosts.add(host);
  }
  if (parsed.ratelimit !== undefined && (parsed.ratelimit as number) <= 0)
    problems.push("ratelimit: must be greater than 0");
  if (
    parsed.tracker !== undefined &&
    parsed.downloadPattern !== "source" &&
    parsed.peerTokenFile === undefined
  )
    problems.push("peerTokenFile: required with tracker");
  return problems;
}
