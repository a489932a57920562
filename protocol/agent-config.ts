/**
 * The one table of agent settings: flag name, config-file key, default, parser and help text side by
 * side, so flags, file and docs cannot drift apart.
 * Pure, in protocol/ so the Pepr module renders the agent ConfigMap through the same parsers.
 */
import { isRegistryHost } from "./distribution-path";
import { parseByteRate, parseByteSize, parseDuration } from "./units";

export interface HostPort {
  host: string;
  port: number;
}

export interface Upstream {
  /** Registry host as clients name it, e.g. `registry.example.com` or `docker.io`. */
  host: string;
  /** Base URL the agent fetches from, e.g. `https://registry.example.com`. */
  origin: string;
}

export type DownloadPattern = "p2p" | "source";
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Field<T> {
  flag: string;
  key: string;
  help: string;
  default?: T;
  multiple?: boolean;
  parse(value: unknown): T;
}

export function parseHostPort(value: unknown): HostPort {
  const text = asString(value);
  const at = text.lastIndexOf(":");
  const host = text.slice(0, at).replace(/^\[(.*)\]$/, "$1");
  const port = Number(text.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`expected HOST:PORT, got ${JSON.stringify(text)}`);
  return { host, port };
}

/** `HOST` or `HOST=ORIGIN_URL`; docker.io maps to registry-1.docker.io, everything else to https://HOST. */
export function parseUpstream(value: unknown): Upstream {
  if (typeof value === "object" && value !== null) {
    const { host, origin } = value as Record<string, unknown>;
    return parseUpstream(origin === undefined ? host : `${asString(host)}=${asString(origin)}`);
  }
  const text = asString(value);
  const eq = text.indexOf("=");
  const host = (eq < 0 ? text : text.slice(0, eq)).toLowerCase();
  if (!isRegistryHost(host)) throw new Error(`invalid registry host ${JSON.stringify(host)}`);
  const origin = eq < 0 ? defaultOrigin(host) : text.slice(eq + 1);
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

export function asString(value: unknown): string {
  if (typeof value === "string" && value.length > 0) return value;
  if (typeof value === "number") return String(value);
  throw new Error(`expected a non-empty string, got ${JSON.stringify(value)}`);
}

function oneOf<T extends string>(choices: readonly T[]) {
  return (value: unknown): T => {
    const text = asString(value);
    if (!choices.includes(text as T))
      throw new Error(`must be one of ${choices.join(", ")}, got ${JSON.stringify(text)}`);
    return text as T;
  };
}

function httpUrl(text: string): string {
  const url = new URL(text);
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("must be an http(s) URL");
  return text.replace(/\/+$/, "");
}

/** One tracker URL, or several separated by commas (replicas sharded by digest). */
function trackerUrls(value: unknown): string[] {
  const urls = asString(value)
    .split(",")
    .map(part => part.trim())
    .filter(Boolean);
  if (urls.length === 0) throw new Error("needs at least one URL");
  return urls.map(httpUrl);
}

const bytes = (value: unknown) => parseByteSize(asString(value));
const duration = (value: unknown) => parseDuration(asString(value));

export const FIELDS = {
  listen: {
    flag: "listen",
    key: "listen",
    help: "registry API address",
    default: "127.0.0.1:65001",
    parse: parseHostPort,
  },
  peerListen: {
    flag: "peer-listen",
    key: "peerListen",
    help: "peer API, /metrics and health address",
    default: "0.0.0.0:65002",
    parse: parseHostPort,
  },
  upstreams: {
    flag: "upstream",
    key: "upstreams",
    help: "accelerated registry HOST[=ORIGIN_URL] (repeatable)",
    multiple: true,
    parse: parseUpstream,
  },
  cacheDir: {
    flag: "cache-dir",
    key: "cacheDir",
    help: "blob cache directory",
    default: "/var/lib/peerpull",
    parse: asString,
  },
  cacheTTL: {
    flag: "cache-ttl",
    key: "cacheTTL",
    help: "evict blobs unused for this long",
    default: "24h",
    parse: duration,
  },
  cacheMaxBytes: {
    flag: "cache-max-bytes",
    key: "cacheMaxBytes",
    help: "evict least recently used blobs above this size (0 = no limit)",
    default: "0",
    parse: bytes,
  },
  ratelimit: {
    flag: "ratelimit",
    key: "ratelimit",
    help: "node-wide limit on origin and peer bytes per second (K/M/G)",
    default: "512M",
    parse: (value: unknown) => parseByteRate(asString(value)),
  },
  authTTL: {
    flag: "auth-ttl",
    key: "authTTL",
    help: "how long an origin authorization holds",
    default: "5m",
    parse: duration,
  },
  authOfflineGrace: {
    flag: "auth-offline-grace",
    key: "authOfflineGrace",
    help: "when the origin is unreachable, allow pairs authorized this recently (0 = deny)",
    default: "0s",
    parse: duration,
  },
  peerTokenFile: {
    flag: "peer-token-file",
    key: "peerTokenFile",
    help: "file with the cluster peer token",
    parse: asString,
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
    parse: bytes,
  },
  peerAdvertise: {
    flag: "peer-advertise",
    key: "peerAdvertise",
    help: "HOST:PORT other peers use to reach the peer API (default: the bound --peer-listen address)",
    parse: parseHostPort,
  },
  peerUploadSlots: {
    flag: "peer-upload-slots",
    key: "peerUploadSlots",
    help: "pieces uploaded to peers at the same time; more requests are answered busy (503)",
    default: "4",
    parse: (value: unknown) => {
      const n = Number(asString(value));
      if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error("must be an integer 1-256");
      return n;
    },
  },
  stallTimeout: {
    flag: "stall-timeout",
    key: "stallTimeout",
    help: "swarm without progress this long (at least 1.5x the tracker's lease timeout) falls back to the origin",
    default: "10s",
    parse: duration,
  },
  upstreamTimeout: {
    flag: "upstream-timeout",
    key: "upstreamTimeout",
    help: "origin connect/headers/idle-body timeout",
    default: "30s",
    parse: duration,
  },
  upstreamRetries: {
    flag: "upstream-retries",
    key: "upstreamRetries",
    help: "retries of a failed origin request or broken blob stream",
    default: "4",
    parse: (value: unknown) => {
      const n = Number(asString(value));
      if (!Number.isInteger(n) || n < 0 || n > 20) throw new Error("must be an integer 0-20");
      return n;
    },
  },
  containerdHostsDir: {
    flag: "containerd-hosts-dir",
    key: "containerdHostsDir",
    help: "mirror mode: write <dir>/<registry>/hosts.toml for each --upstream, sending containerd's pulls to this agent first and the registry second (unset = none written)",
    parse: (value: unknown) => {
      const dir = asString(value);
      if (!dir.startsWith("/")) throw new Error(`must be an absolute path, got ${JSON.stringify(dir)}`);
      return dir;
    },
  },
  containerdConfig: {
    flag: "containerd-config",
    key: "containerdConfig",
    help: "containerd's config.toml (e.g. /etc/containerd/config.toml), read at start to warn when its CRI registry config_path does not list --containerd-hosts-dir",
    parse: asString,
  },
  containerdHostsCleanup: {
    flag: "containerd-hosts-cleanup",
    key: "containerdHostsCleanup",
    help: "true: remove every hosts.toml this agent wrote under --containerd-hosts-dir and exit, opening no port (uninstall, leaving mirror mode)",
    default: "false",
    parse: (value: unknown) => {
      if (value === true || value === "true") return true;
      if (value === false || value === "false") return false;
      throw new Error(`must be true or false, got ${JSON.stringify(value)}`);
    },
  },
  logLevel: {
    flag: "log-level",
    key: "logLevel",
    help: "log level",
    default: "info",
    parse: oneOf(LOG_LEVELS),
  },
} satisfies Record<string, Field<unknown>>;
