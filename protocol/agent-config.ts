/**
 * The one table of agent settings: flag, config-file key, default, parser and help text side by
 * side, so flags, file and docs cannot drift apart, and the one function that turns settings into
 * an AgentConfig with the rules between fields. Pure, in protocol/ so the Pepr module checks the
 * agent ConfigMap it renders with exactly what the agent will do with it.
 */
import {
  absolutePath,
  boolean,
  byteRate,
  byteSize,
  duration,
  hostPort,
  httpUrl,
  integer,
  listOf,
  logLevel,
  oneOf,
  text,
  type HostPort,
  type LogLevel,
} from "./config-parsers";
import { parseSettings, settingName, type Field, type GivenSettings, type Naming } from "./config-table";
import { isRegistryHost } from "./distribution-path";

export type { HostPort, LogLevel } from "./config-parsers";

export interface Upstream {
  /** Registry host as clients name it, e.g. `registry.example.com` or `docker.io`. */
  host: string;
  /** Base URL the agent fetches from, e.g. `https://registry.example.com`. */
  origin: string;
}

export type DownloadPattern = "p2p" | "source";

/** `HOST` or `HOST=ORIGIN_URL`; docker.io maps to registry-1.docker.io, everything else to https://HOST. */
export function parseUpstream(value: unknown): Upstream {
  if (typeof value === "object" && value !== null) {
    const { host, origin } = value as Record<string, unknown>;
    return parseUpstream(origin === undefined ? host : `${text(host)}=${text(origin)}`);
  }
  const given = text(value);
  const eq = given.indexOf("=");
  const host = (eq < 0 ? given : given.slice(0, eq)).toLowerCase();
  if (!isRegistryHost(host)) throw new Error(`invalid registry host ${JSON.stringify(host)}`);
  const origin = eq < 0 ? defaultOrigin(host) : given.slice(eq + 1);
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new Error(`invalid origin URL ${JSON.stringify(origin)} for ${host}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(`origin for ${host} must be http or https, got ${url.protocol}`);
  if (url.pathname !== "/" || url.search || url.username)
    throw new Error(`origin for ${host} must be a bare base URL (no path, query or credentials)`);
  return { host, origin: url.origin };
}

function defaultOrigin(host: string): string {
  return host === "docker.io" ? "https://registry-1.docker.io" : `https://${host}`;
}

/** One tracker URL, or several separated by commas (replicas sharded by digest). */
function trackerUrls(value: unknown): string[] {
  const urls = text(value)
    .split(",")
    .map(part => part.trim())
    .filter(Boolean);
  if (urls.length === 0) throw new Error("needs at least one URL");
  return urls.map(httpUrl);
}

const positiveDuration = duration({ min: 1 });

export const FIELDS = {
  configFile: {
    flag: "config",
    help: "YAML or JSON file with these settings as camelCase keys; flags win",
    parse: text,
  },
  listen: {
    flag: "listen",
    key: "listen",
    help: "registry API address",
    default: "127.0.0.1:65001",
    parse: hostPort,
  },
  peerListen: {
    flag: "peer-listen",
    key: "peerListen",
    help: "peer API, /metrics and health address",
    default: "0.0.0.0:65002",
    parse: hostPort,
  },
  upstreams: {
    flag: "upstream",
    key: "upstreams",
    help: "accelerated registry HOST[=ORIGIN_URL]",
    multiple: true,
    parse: listOf(parseUpstream),
  },
  cacheDir: {
    flag: "cache-dir",
    key: "cacheDir",
    help: "blob cache directory",
    default: "/var/lib/peerpull",
    parse: text,
  },
  cacheTTL: {
    flag: "cache-ttl",
    key: "cacheTTL",
    help: "evict blobs unused for this long",
    default: "24h",
    parse: positiveDuration,
  },
  cacheMaxBytes: {
    flag: "cache-max-bytes",
    key: "cacheMaxBytes",
    help: "evict least recently used blobs above this size (0 = no limit)",
    default: "0",
    parse: byteSize(),
  },
  ratelimit: {
    flag: "ratelimit",
    key: "ratelimit",
    help: "node-wide limit on origin and peer bytes per second (K/M/G)",
    default: "512M",
    parse: byteRate,
  },
  authTTL: {
    flag: "auth-ttl",
    key: "authTTL",
    help: "how long an origin authorization holds",
    default: "5m",
    parse: positiveDuration,
  },
  authOfflineGrace: {
    flag: "auth-offline-grace",
    key: "authOfflineGrace",
    help: "when the origin is unreachable, allow pairs authorized this recently (0 = deny)",
    default: "0s",
    parse: duration(),
  },
  peerTokenFile: {
    flag: "peer-token-file",
    key: "peerTokenFile",
    help: "file with the cluster peer token (required with --tracker)",
    parse: text,
  },
  tracker: {
    flag: "tracker",
    key: "tracker",
    help: "tracker URL, or URLs separated by commas (replicas; each digest goes to one by rendezvous hashing); absent = no swarm",
    parse: trackerUrls,
  },
  downloadPattern: {
    flag: "download-pattern",
    key: "downloadPattern",
    help: "p2p (swarm) or source (caching mirror only)",
    default: "p2p",
    parse: oneOf<DownloadPattern>(["p2p", "source"]),
  },
  p2pMinBlobBytes: {
    flag: "p2p-min-blob-bytes",
    key: "p2pMinBlobBytes",
    help: "blobs smaller than this skip the swarm",
    default: "1M",
    parse: byteSize(),
  },
  peerAdvertise: {
    flag: "peer-advertise",
    key: "peerAdvertise",
    help: "HOST:PORT other peers use to reach the peer API (default: the bound --peer-listen address)",
    parse: hostPort,
  },
  peerUploadSlots: {
    flag: "peer-upload-slots",
    key: "peerUploadSlots",
    help: "pieces uploaded to peers at the same time; more requests are answered busy (503)",
    default: "3",
    parse: integer(1, 256),
  },
  stallTimeout: {
    flag: "stall-timeout",
    key: "stallTimeout",
    help: "swarm without progress this long (at least 1.5x the tracker's lease timeout) falls back to the origin",
    default: "10s",
    parse: positiveDuration,
  },
  upstreamTimeout: {
    flag: "upstream-timeout",
    key: "upstreamTimeout",
    help: "origin connect/headers/idle-body timeout",
    default: "30s",
    parse: positiveDuration,
  },
  upstreamRetries: {
    flag: "upstream-retries",
    key: "upstreamRetries",
    help: "retries of a failed origin request or broken blob stream",
    default: "4",
    parse: integer(0, 20),
  },
  containerdHostsDir: {
    flag: "containerd-hosts-dir",
    key: "containerdHostsDir",
    help: "mirror mode: write <dir>/<registry>/hosts.toml for each --upstream, sending containerd's pulls to this agent first and the registry second (unset = none written)",
    parse: absolutePath,
  },
  containerdConfig: {
    flag: "containerd-config",
    key: "containerdConfig",
    help: "containerd's config.toml (e.g. /etc/containerd/config.toml), read at start to warn when its CRI registry config_path does not list --containerd-hosts-dir",
    parse: text,
  },
  containerdHostsCleanup: {
    flag: "containerd-hosts-cleanup",
    key: "containerdHostsCleanup",
    help: "true: remove every hosts.toml this agent wrote under --containerd-hosts-dir and exit, opening no port (uninstall, leaving mirror mode)",
    default: "false",
    parse: boolean,
  },
  logLevel: {
    flag: "log-level",
    key: "logLevel",
    help: "one of trace, debug, info, warn, error, fatal, silent",
    default: "info",
    parse: logLevel,
  },
} satisfies Record<string, Field>;

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

/**
 * The AgentConfig for these settings (flags and file merged), or every problem, each named as a
 * flag or as a file key. Problems between fields are reported once every field parses.
 */
export function resolveAgentConfig(
  given: GivenSettings<typeof FIELDS>,
  naming: Naming,
): { config: AgentConfig; problems: [] } | { config?: undefined; problems: string[] } {
  const { settings: s, problems } = parseSettings(FIELDS, given, naming);
  if (problems.length > 0) return { problems };
  const config: AgentConfig = {
    listen: s.listen,
    peerListen: s.peerListen,
    upstreams: s.upstreams,
    cache: { dir: s.cacheDir, ttlMs: s.cacheTTL, maxBytes: s.cacheMaxBytes },
    ratelimitBytesPerSec: s.ratelimit,
    auth: { ttlMs: s.authTTL, offlineGraceMs: s.authOfflineGrace },
    peerTokenFile: s.peerTokenFile,
    tracker: s.tracker,
    downloadPattern: s.downloadPattern,
    swarm: {
      minBlobBytes: s.p2pMinBlobBytes,
      stallTimeoutMs: s.stallTimeout,
      uploadSlots: s.peerUploadSlots,
      advertise: s.peerAdvertise,
    },
    upstream: { timeoutMs: s.upstreamTimeout, retries: s.upstreamRetries },
    mirror: {
      hostsDir: s.containerdHostsDir,
      containerdConfig: s.containerdConfig,
      cleanup: s.containerdHostsCleanup,
    },
    logLevel: s.logLevel,
  };
  const between = problemsBetweenFields(config, (name: keyof typeof FIELDS) =>
    settingName(FIELDS[name], naming),
  );
  return between.length > 0 ? { problems: between } : { config, problems: [] };
}

/** Whether the agent runs a swarm: a tracker is set and the download pattern is p2p. */
export function swarmConfigured(config: Pick<AgentConfig, "tracker" | "downloadPattern">): boolean {
  return config.tracker !== undefined && config.downloadPattern === "p2p";
}

function problemsBetweenFields(config: AgentConfig, name: (field: keyof typeof FIELDS) => string): string[] {
  const problems: string[] = [];
  const { mirror } = config;
  if (mirror.cleanup && mirror.hostsDir === undefined)
    problems.push(`${name("containerdHostsCleanup")}: needs ${name("containerdHostsDir")}`);
  if (mirror.containerdConfig !== undefined && mirror.hostsDir === undefined)
    problems.push(`${name("containerdConfig")}: only used with ${name("containerdHostsDir")}`);
  if (config.upstreams.length === 0 && !mirror.cleanup)
    problems.push(`${name("upstreams")}: at least one upstream registry is required`);
  const hosts = new Set<string>();
  for (const { host } of config.upstreams) {
    if (hosts.has(host)) problems.push(`${name("upstreams")}: ${host} is configured twice`);
    hosts.add(host);
  }
  if (swarmConfigured(config) && config.peerTokenFile === undefined)
    problems.push(`${name("peerTokenFile")}: required with ${name("tracker")}`);
  return problems;
}
