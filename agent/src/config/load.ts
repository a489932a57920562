/**
 * Builds the frozen AgentConfig from flags and an optional YAML/JSON `--config` file (flags win).
 * Every bad field is reported together, by name, before any port opens.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { DownloadPattern, FIELDS, HostPort, LogLevel, Upstream } from "../../../protocol/agent-config";

export interface AgentConfig {
  listen: HostPort;
  peerListen: HostPort;
  upstreams: readonly Upstream[];
  cache: { dir: string; ttlMs: number; maxBytes: number };
  ratelimitBytesPerSec: number;
  auth: { ttlMs: number; offlineGraceMs: number };
  peerTokenFile?: string;
  /** Tracker replicas; each blob's swarm lives on one of them (rendezvous hashing by digest). */
  tracker?: string[];
  downloadPattern: DownloadPattern;
  swarm: {
    minBlobBytes: number;
    stallTimeoutMs: number;
    uploadSlots: number;
    advertise?: HostPort;
  };
  upstream: { timeoutMs: number; retries: number };
  /** Mirror mode: containerd hosts.toml files; no hostsDir = none written. */
  mirror: { hostsDir?: string; containerdConfig?: string; cleanup: boolean };
  logLevel: LogLevel;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("; "));
    this.name = "ConfigError";
  }
}

type FieldName = keyof typeof FIELDS;
type Raw = Partial<Record<FieldName, unknown>>;

export type CliResult = { help: true } | { help: false; config: AgentConfig };

export function parseAgentArgs(argv: string[]): CliResult {
  const flags = readFlags(argv);
  if (flags.help) return { help: true };
  const file = flags.config === undefined ? {} : readConfigFile(flags.config);
  return { help: false, config: resolve({ ...file, ...flags.values }) };
}

export function helpText(): string {
  const lines = Object.values(FIELDS).map(field => {
    const name = `--${field.flag}${"multiple" in field ? " (repeatable)" : ""}`;
    const def = "default" in field ? ` [default: ${field.default}]` : "";
    return `  ${name.padEnd(34)} ${field.help}${def}`;
  });
  return [
    "Usage: peerpull-agent [--config FILE] [flags]",
    "",
    "The node agent: an authorizing OCI pull mirror with a verified cache and a peer swarm.",
    "Flags override the same keys (camelCase) in the YAML/JSON --config file.",
    "",
    `  ${"--config FILE".padEnd(34)} YAML or JSON config file`,
    ...lines,
    `  ${"--help".padEnd(34)} show this help`,
  ].join("\n");
}

function readFlags(argv: string[]): { help: boolean; config?: string; values: Raw } {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = {
    config: { type: "string" },
    help: { type: "boolean" },
  };
  for (const field of Object.values(FIELDS))
    options[field.flag] = { type: "string", multiple: "multiple" in field };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new ConfigError([(err as Error).message.split("\n")[0]]);
  }
  const values: Raw = {};
  for (const [name, field] of Object.entries(FIELDS) as [FieldName, (typeof FIELDS)[FieldName]][]) {
    const value = parsed.values[field.flag];
    if (value !== undefined) values[name] = value;
  }
  const config = parsed.values.config;
  return {
    help: parsed.values.help === true,
    config: typeof config === "string" ? config : undefined,
    values,
  };
}

function readConfigFile(path: string): Raw {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ConfigError([`--config ${path}: ${(err as Error).message.split("\n")[0]}`]);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc))
    throw new ConfigError([`--config ${path}: must be a mapping`]);
  const known = new Map(Object.entries(FIELDS).map(([name, field]) => [field.key, name as FieldName]));
  const unknown = Object.keys(doc).filter(key => !known.has(key));
  if (unknown.length > 0) throw new ConfigError(unknown.map(key => `--config ${path}: unknown field ${key}`));
  return Object.fromEntries(Object.entries(doc).map(([key, value]) => [known.get(key), value]));
}

function resolve(raw: Raw): AgentConfig {
  const problems: string[] = [];
  const get = <N extends FieldName>(name: N): ReturnType<(typeof FIELDS)[N]["parse"]> => {
    const field = FIELDS[name];
    const value = raw[name] ?? ("default" in field ? field.default : undefined);
    try {
      if ("multiple" in field) return list(value).map(item => field.parse(item)) as never;
      return (value === undefined ? undefined : field.parse(value)) as never;
    } catch (err) {
      problems.push(`--${field.flag}: ${(err as Error).message}`);
      return undefined as never;
    }
  };
  const config: AgentConfig = {
    listen: get("listen"),
    peerListen: get("peerListen"),
    upstreams: get("upstreams") as unknown as Upstream[],
    cache: { dir: get("cacheDir"), ttlMs: get("cacheTTL"), maxBytes: get("cacheMaxBytes") },
    ratelimitBytesPerSec: get("ratelimit"),
    auth: { ttlMs: get("authTTL"), offlineGraceMs: get("authOfflineGrace") },
    peerTokenFile: get("peerTokenFile"),
    tracker: get("tracker"),
    downloadPattern: get("downloadPattern"),
    swarm: {
      minBlobBytes: get("p2pMinBlobBytes"),
      stallTimeoutMs: get("stallTimeout"),
      uploadSlots: get("peerUploadSlots"),
      advertise: get("peerAdvertise"),
    },
    upstream: { timeoutMs: get("upstreamTimeout"), retries: get("upstreamRetries") },
    mirror: {
      hostsDir: get("containerdHostsDir"),
      containerdConfig: get("containerdConfig"),
      cleanup: get("containerdHostsCleanup"),
    },
    logLevel: get("logLevel"),
  };
  problems.push(...crossFieldProblems(config));
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

function crossFieldProblems(config: AgentConfig): string[] {
  const problems: string[] = [];
  if (config.mirror.cleanup && config.mirror.hostsDir === undefined)
    problems.push("--containerd-hosts-cleanup: needs --containerd-hosts-dir");
  if (config.mirror.containerdConfig !== undefined && config.mirror.hostsDir === undefined)
    problems.push("--containerd-config: only used with --containerd-hosts-dir");
  if (config.upstreams && config.upstreams.length === 0 && !config.mirror.cleanup)
    problems.push("--upstream: at least one upstream registry is required");
  const hosts = new Set<string>();
  for (const upstream of config.upstreams ?? []) {
    if (hosts.has(upstream.host)) problems.push(`--upstream: ${upstream.host} is configured twice`);
    hosts.add(upstream.host);
  }
  if (config.ratelimitBytesPerSec !== undefined && config.ratelimitBytesPerSec <= 0)
    problems.push("--ratelimit: must be greater than 0");
  return problems;
}

function list(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
