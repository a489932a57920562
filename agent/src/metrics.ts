/** Every agent metric (DESIGN 2.7), defined once on the agent's own registry. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export type BlobSource = "origin" | "peer" | "cache";

/**
 * Every value each labelled counter can take. The series exist at 0 from the start, so dashboards
 * and alerts see "none yet" as 0 rather than as no data, and the first increment is a visible rate.
 */
export const METRIC_LABEL_VALUES = {
  blobSources: ["origin", "peer", "cache"],
  evictionReasons: ["ttl", "size", "corrupt"],
  authResults: ["grant", "origin", "offline", "denied", "unreachable"],
  fallbackReasons: ["tracker", "no-peers", "stall", "digest"],
  banReasons: ["bad-piece", "failures"],
  fillSources: ["origin", "swarm"],
  havePushResults: ["sent", "failed", "received"],
} as const;

export type PeerBanReason = (typeof METRIC_LABEL_VALUES.banReasons)[number];
export type HavePushResult = Exclude<(typeof METRIC_LABEL_VALUES.havePushResults)[number], "received">;

/** Values read when Prometheus scrapes, bound after the parts that own them exist. */
export interface MetricSources {
  cacheUsage?: () => { bytes: number; blobs: number };
  ratelimitWaitedSeconds?: () => number;
}

export function createAgentMetrics(sources: MetricSources = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "peerpull_agent_" });
  const metrics = defineAgentMetrics(registry, sources);
  const v = METRIC_LABEL_VALUES;
  for (const source of v.blobSources) metrics.blobBytes.inc({ source }, 0);
  for (const reason of v.evictionReasons) metrics.cacheEvictions.inc({ reason }, 0);
  for (const result of v.authResults) metrics.authDecisions.inc({ result }, 0);
  for (const reason of v.fallbackReasons) metrics.fallbacks.inc({ reason }, 0);
  for (const reason of v.banReasons) metrics.peerBans.inc({ reason }, 0);
  for (const result of v.havePushResults) metrics.havePushes.inc({ result }, 0);
  for (const source of v.fillSources) metrics.blobFetchDuration.zero({ source });
  return { registry, ...metrics };
}

function defineAgentMetrics(registry: Registry, sources: MetricSources) {
  const r = [registry];
  return {
    blobBytes: new Counter({
      name: "peerpull_blob_bytes_total",
      help: "Blob bytes delivered to clients, by where they came from",
      labelNames: ["source"] as const,
      registers: r,
    }),
    originBytes: new Counter({
      name: "peerpull_origin_bytes_total",
      help: "Bytes fetched from origin registries",
      registers: r,
    }),
    peerUploadBytes: new Counter({
      name: "peerpull_peer_upload_bytes_total",
      help: "Piece bytes served to peers",
      registers: r,
    }),
    peerDownloadBytes: new Counter({
      name: "peerpull_peer_download_bytes_total",
      help: "Piece bytes fetched from peers",
      registers: r,
    }),
    requests: new Counter({
      name: "peerpull_requests_total",
      help: "Registry API requests by kind and status code",
      labelNames: ["kind", "code"] as const,
      registers: r,
    }),
    blobFetchDuration: new Histogram({
      name: "peerpull_blob_fetch_duration_seconds",
      help: "Time to fill a missing blob into the cache, by fill (origin: straight from the origin; swarm)",
      labelNames: ["source"] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: r,
    }),
    cacheBytes: new Gauge({
      name: "peerpull_cache_bytes",
      help: "Bytes of complete blobs in the cache",
      registers: r,
      collect() {
        if (sources.cacheUsage) this.set(sources.cacheUsage().bytes);
      },
    }),
    cacheBlobs: new Gauge({
      name: "peerpull_cache_blobs",
      help: "Complete blobs in the cache",
      registers: r,
      collect() {
        if (sources.cacheUsage) this.set(sources.cacheUsage().blobs);
      },
    }),
    cacheEvictions: new Counter({
      name: "peerpull_cache_evictions_total",
      help: "Blobs evicted from the cache, by reason",
      labelNames: ["reason"] as const,
      registers: r,
    }),
    ratelimitWait: new Counter({
      name: "peerpull_ratelimit_wait_seconds_total",
      help: "Seconds streams spent waiting for the node rate limit",
      registers: r,
      collect() {
        if (sources.ratelimitWaitedSeconds) this.inc(sources.ratelimitWaitedSeconds());
      },
    }),
    pieceVerifyFailures: new Counter({
      name: "peerpull_piece_verify_failures_total",
      help: "Pieces or blobs that failed digest verification",
      registers: r,
    }),
    authDecisions: new Counter({
      name: "peerpull_auth_decisions_total",
      help: "Authorization decisions by result",
      labelNames: ["result"] as const,
      registers: r,
    }),
    fallbacks: new Counter({
      name: "peerpull_fallback_total",
      help: "Swarm fetches that fell back to the origin, by reason",
      labelNames: ["reason"] as const,
      registers: r,
    }),
    peerBans: new Counter({
      name: "peerpull_peer_bans_total",
      help: "Peers banned for one blob's swarm: bad-piece (a piece failed its hash) or failures (requests kept failing)",
      labelNames: ["reason"] as const,
      registers: r,
    }),
    havePushes: new Counter({
      name: "peerpull_have_pushes_total",
      help: "HAVE pushes between swarm members: sent (answered), failed (fire and forget: never retried), received (taken)",
      labelNames: ["result"] as const,
      registers: r,
    }),
    mirrorHostsFiles: new Gauge({
      name: "peerpull_mirror_hosts_files",
      help: "containerd hosts.toml files this agent wrote and keeps current (mirror mode)",
      registers: r,
    }),
    mirrorHostsConflicts: new Gauge({
      name: "peerpull_mirror_hosts_conflicts",
      help: "1 for each accelerated registry whose hosts.toml the agent did not write and so leaves alone (mirror mode)",
      labelNames: ["registry"] as const,
      registers: r,
    }),
    mirrorHostsFailures: new Counter({
      name: "peerpull_mirror_hosts_failures_total",
      help: "Passes over the containerd hosts dir that failed (permissions, disk)",
      registers: r,
    }),
    mirrorCriIgnoresHostsDir: new Gauge({
      name: "peerpull_mirror_cri_ignores_hosts_dir",
      help: "1 when containerd's config.toml (--containerd-config) shows its CRI plugin does not read the hosts dir",
      registers: r,
    }),
  };
}

export type AgentMetrics = ReturnType<typeof createAgentMetrics>;
