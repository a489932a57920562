/**
 * The tracker's settings table (the same kit and parsers as the agent's, `protocol/config-table.ts`):
 * flag, default, parser and help side by side. Every bad field is reported together, by name,
 * before any port opens.
 */
import { byteSize, duration, hostPort, integer, logLevel, text } from "../../protocol/config-parsers";
import type { HostPort, LogLevel } from "../../protocol/config-parsers";
import {
  ConfigError,
  Field,
  helpText as tableHelp,
  parseSettings,
  readArgs,
  Startup,
} from "../../protocol/config-table";

export { ConfigError } from "../../protocol/config-table";

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

export const FIELDS = {
  listen: { flag: "listen", help: "address of the tracker API", default: "0.0.0.0:65010", parse: hostPort },
  peerTokenFile: {
    flag: "peer-token-file",
    help: "file holding the cluster's peer token",
    required: true,
    parse: text,
  },
  peerTtlMs: {
    flag: "peer-ttl",
    help: "forget peers silent this long",
    default: "60s",
    parse: duration({ min: 1000, max: 86_400_000 }),
  },
  leaseTimeoutMs: {
    flag: "lease-timeout",
    help: "an origin lease with no new piece this long goes to another peer",
    default: "30s",
    parse: duration({ min: 100, max: 3_600_000 }),
  },
  maxOriginStreams: {
    flag: "max-origin-streams",
    help: "at most this many peers fetch one blob from the origin at once",
    default: "4",
    parse: integer(1, 64),
  },
  announceIntervalMs: {
    flag: "announce-interval",
    help: "heartbeat interval told to peers (must be below --peer-ttl)",
    default: "15s",
    parse: duration({ min: 100, max: 3_600_000 }),
  },
  maxPeers: {
    flag: "max-peers",
    help: "peers in each announce answer's rotating sample",
    default: "48",
    parse: integer(1, 1000),
  },
  maxAnnounceRate: {
    flag: "max-announce-rate",
    help: "announces per second to aim for from downloading members; their interval stretches beyond it",
    default: "2000",
    parse: integer(10, 1_000_000),
  },
  maxStateBytes: {
    flag: "max-state-bytes",
    help: "budget for swarm state; new swarms or members past it are refused (agents use the origin)",
    default: "256M",
    parse: byteSize({ min: 1024 * 1024 }),
  },
  logLevel: {
    flag: "log-level",
    help: "one of trace, debug, info, warn, error, fatal, silent",
    default: "info",
    parse: logLevel,
  },
} satisfies { [K in keyof TrackerConfig]: Field<TrackerConfig[K]> };

export function parseTrackerArgs(argv: readonly string[]): Startup<TrackerConfig> {
  const command = readArgs(argv, FIELDS);
  if (command.action !== "run") return command;
  const { settings, problems } = parseSettings(FIELDS, command.given, "flag");
  if (problems.length > 0) throw new ConfigError(problems);
  const config = settings as TrackerConfig;
  if (config.announceIntervalMs >= config.peerTtlMs)
    throw new ConfigError([`--announce-interval: must be below --peer-ttl (${config.peerTtlMs}ms)`]);
  return { action: "run", config: Object.freeze(config) };
}

export function helpText(): string {
  return tableHelp(FIELDS, {
    usage: "peerpull-tracker --peer-token-file FILE [flags]",
    about: [
      "The swarm tracker: membership, piece hashes and origin-fetch leases per blob (soft state).",
      "Durations: ms, s, m, h (500ms, 15s, 1m). Sizes: K, M, G, binary (256M = 256 MiB).",
    ],
  });
}
