/**
 * The tracker's one settings schema: flag, default, parser and help side by side. Every bad field is
 * reported together, by name, before any port opens.
 */
import { parseArgs } from "node:util";
import { parseByteSize, parseDuration } from "../../protocol/units";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface HostPort {
  host: string;
  port: number;
}

export interface TrackerConfig {
  listen: HostPort;
  peerTokenFile: string;
  peerTtlMs: number;
  leaseTimeoutMs: number;
  maxOriginStreams: number;
  announceIntervalMs: number;
  maxPeers: number;
  maxAnnounceRate: number;
  maxStateBytes: number;
  logLevel: LogLevel;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("; "));
    this.name = "ConfigError";
  }
}

interface Field<K extends keyof TrackerConfig> {
  key: K;
  help: string;
  default?: string;
  parse(text: string): TrackerConfig[K];
}

function field<K extends keyof TrackerConfig>(flag: string, spec: Field<K>): [string, Field<K>] {
  return [flag, spec];
}

export function parseHostPort(text: string): HostPort {
  const at = text.lastIndexOf(":");
  const host = text.slice(0, at).replace(/^\[(.*)\]$/, "$1");
  const port = Number(text.slice(at + 1));
  if (at <= 0 || !/^\d+$/.test(text.slice(at + 1)) || port > 65535)
    throw new Error(`expected HOST:PORT, got ${JSON.stringify(text)}`);
  return { host, port };
}

function durationIn(min: number, max: number) {
  return (text: string): number => {
    const ms = parseDuration(text);
    if (ms < min || ms > max) throw new Error(`must be between ${min}ms and ${max}ms, got ${text}`);
    return ms;
  };
}

function intIn(min: number, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || n < min || n > max)
      throw new Error(`expected an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
    return n;
  };
}

export const FIELDS = new Map<string, Field<keyof TrackerConfig>>([
  field("listen", {
    key: "listen",
    help: "address of the tracker API",
    default: "0.0.0.0:65010",
    parse: parseHostPort,
  }),
  field("peer-token-file", {
    key: "peerTokenFile",
    help: "file holding the cluster's peer token (required)",
    parse: text => {
      if (!text) throw new Error("must name a file");
      return text;
    },
  }),
  field("peer-ttl", {
    key: "peerTtlMs",
    help: "forget peers silent this long",
    default: "60s",
    parse: durationIn(1000, 86_400_000),
  }),
  field("lease-timeout", {
    key: "leaseTimeoutMs",
    help: "an origin lease with no new piece this long goes to another peer",
    default: "30s",
    parse: durationIn(100, 3_600_000),
  }),
  field("max-origin-streams", {
    key: "maxOriginStreams",
    help: "at most this many peers fetch one blob from the origin at once",
    default: "4",
    parse: intIn(1, 64),
  }),
  field("announce-interval", {
    key: "announceIntervalMs",
    help: "heartbeat interval told to peers (must be below --peer-ttl)",
    default: "15s",
    parse: durationIn(100, 3_600_000),
  }),
  field("max-peers", {
    key: "maxPeers",
    help: "peers in each announce answer's rotating sample",
    default: "32",
    parse: intIn(1, 1000),
  }),
  field("max-announce-rate", {
    key: "maxAnnounceRate",
    help: "announces per second to aim for from downloading members; their interval stretches beyond it",
    default: "2000",
    parse: intIn(10, 1_000_000),
  }),
  field("max-state-bytes", {
    key: "maxStateBytes",
    help: "budget for swarm state; new swarms or members past it are refused (agents use the origin)",
    default: "256M",
    parse: text => {
      const bytes = parseByteSize(text);
      if (bytes < 1024 * 1024) throw new Error(`must be at least 1M, got ${text}`);
      return bytes;
    },
  }),
  field("log-level", {
    key: "logLevel",
    help: `one of ${LOG_LEVELS.join(", ")}`,
    default: "info",
    parse: text => {
      if (!(LOG_LEVELS as readonly string[]).includes(text))
        throw new Error(`expected one of ${LOG_LEVELS.join(", ")}`);
      return text as LogLevel;
    },
  }),
]);

export type CliResult = { help: true } | { help: false; config: TrackerConfig };

export function parseTrackerArgs(argv: string[]): CliResult {
  const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const flag of FIELDS.keys()) options[flag] = { type: "string" };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new ConfigError([(err as Error).message.split("\n")[0]]);
  }
  if (parsed.values.help) return { help: true };
  const problems: string[] = [];
  const out: Partial<Record<keyof TrackerConfig, unknown>> = {};
  for (const [flag, spec] of FIELDS) {
    const text = (parsed.values[flag] as string | undefined) ?? spec.default;
    if (text === undefined) {
      problems.push(`--${flag}: required`);
      continue;
    }
    try {
      out[spec.key] = spec.parse(text);
    } catch (err) {
      problems.push(`--${flag}: ${(err as Error).message}`);
    }
  }
  const config = out as TrackerConfig;
  if (problems.length === 0 && config.announceIntervalMs >= config.peerTtlMs)
    problems.push(`--announce-interval: must be below --peer-ttl (${config.peerTtlMs}ms)`);
  if (problems.length > 0) throw new ConfigError(problems);
  return { help: false, config: Object.freeze(config) };
}

export function helpText(): string {
  const lines = [...FIELDS].map(([flag, spec]) => {
    const def = spec.default === undefined ? "" : ` [default: ${spec.default}]`;
    return `  ${`--${flag}`.padEnd(24)} ${spec.help}${def}`;
  });
  return [
    "Usage: peerpull-tracker --peer-token-file FILE [flags]",
    "",
    "The swarm tracker: membership, piece hashes and origin-fetch leases per blob (soft state).",
    "Durations accept ms, s, m, h (e.g. 500ms, 15s, 1m).",
    "",
    ...lines,
    `  ${"--help".padEnd(24)} show this help`,
  ].join("\n");
}
