/**
 * peerpull-agent: parse config, build the parts, start both servers, shut down gracefully.
 * The only place that wires things together.
 */
import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Authorizer } from "./access/authorizer";
import { GrantBook } from "./access/grants";
import { LoginVerdicts } from "./access/login-verdicts";
import { UnknownDigests } from "./access/unknown-digests";
import { CachedBlobProvider } from "./blobs/cached-blob-provider";
import { FsBlobStore } from "./cache/fs-blob-store";
import { InFlight } from "./cache/in-flight";
import { AgentConfig, helpText, parseAgentArgs } from "./config/load";
import { swarmConfigured } from "../../protocol/agent-config";
import { hostPort } from "../../protocol/config-parsers";
import { exitOnConfigError, startupConfig } from "../../service-kit/cli";
import { createLogger } from "../../service-kit/log";
import { readPeerTokenFile } from "../../service-kit/token-file";
import { createPeerServer } from "./http/peer-server";
import { createRegistryServer } from "./http/registry-server";
import { loadSendQueueTuning, SendQueueTuning } from "./http/send-queue";
import { RegistryHandler } from "./http/registry-handler";
import { ListingHandler } from "./http/listing-handler";
import { createAgentMetrics, MetricSources } from "./metrics";
import { ContainerdMirror, removeManagedHostsFiles } from "./mirror/containerd-mirror";
import { NodeLimiter } from "./ratelimit/node-limiter";
import { createSwarmNode, SwarmNode } from "./swarm/swarm-node";
import { UpstreamClient } from "./upstream/upstream-client";

const SHUTDOWN_GRACE_MS = 10_000;

async function main(argv: string[]): Promise<void> {
  const config = startupConfig("peerpull-agent", () => parseAgentArgs(argv), helpText);
  if (config.mirror.cleanup) return cleanUpHostsDir(config);
  const token = readToken(config);
  const log = createLogger("peerpull-agent", config.logLevel);
  const metricSources: MetricSources = {};
  const metrics = createAgentMetrics(metricSources);
  const limiter = new NodeLimiter({ bytesPerSecond: config.ratelimitBytesPerSec });
  const client = new UpstreamClient({
    timeoutMs: config.upstream.timeoutMs,
    retries: config.upstream.retries,
    limiter,
    onOriginBytes: bytes => metrics.originBytes.inc(bytes),
  });
  const store = await FsBlobStore.open(config.cache.dir, {
    ttlMs: config.cache.ttlMs,
    maxBytes: config.cache.maxBytes,
    onEvict: (info, reason) => {
      metrics.cacheEvictions.inc({ reason });
      if (reason === "corrupt") metrics.pieceVerifyFailures.inc();
      log.info({ digest: info.digest, size: info.size, reason }, "blob evicted");
    },
  });
  metricSources.cacheUsage = () => store.usage();
  metricSources.ratelimitWaitedSeconds = () => limiter.takeWaitedSeconds();
  const grants = new GrantBook(config.auth.ttlMs);
  const authorizer = new Authorizer({
    grants,
    unknown: new UnknownDigests(),
    client,
    offlineGraceMs: config.auth.offlineGraceMs,
    onDecision: result => metrics.authDecisions.inc({ result }),
  });
  const inFlight = new InFlight(store);
  const swarm: SwarmNode | undefined =
    token === undefined
      ? undefined
      : await createSwarmNode(config, token, { store, client, metrics, limiter, log });
  const blobs = new CachedBlobProvider({
    store,
    inFlight,
    client,
    metrics,
    log,
    swarm: swarm && (request => swarm.fillFor(request)),
  });
  const handler = new RegistryHandler({
    upstreams: new Map(config.upstreams.map(upstream => [upstream.host, upstream])),
    authorizer,
    client,
    blobs,
    onBlobBytes: (source, bytes) => metrics.blobBytes.inc({ source }, bytes),
    listing: new ListingHandler({ client, onDecision: result => metrics.authDecisions.inc({ result }) }),
    logins: new LoginVerdicts(client, config.auth.ttlMs),
  });

  let ready = false;
  const registryServer = createRegistryServer(handler, metrics, log);
  const mirror =
    config.mirror.hostsDir === undefined
      ? undefined
      : new ContainerdMirror({
          hostsDir: config.mirror.hostsDir,
          containerdConfig: config.mirror.containerdConfig,
          upstreams: config.upstreams,
          metrics,
          log,
        });
  const peerServer = createPeerServer({
    metricsRegistry: metrics.registry,
    isReady: () => ready,
    log,
    mirrorConflicts: mirror && (() => mirror.currentConflicts()),
    peerApi: swarm?.peerApi,
    sendQueue: swarm && peerSendQueue(log),
  });
  const registryAddress = await listen(registryServer, config.listen);
  const peerAddress = await listen(peerServer, config.peerListen);
  swarm?.start(peerAddress);
  await mirror?.start(hostPort(registryAddress));

  const housekeeping = setInterval(() => {
    const now = Date.now();
    grants.sweep(now, Math.max(config.auth.offlineGraceMs, config.auth.ttlMs));
    store.evict(now).catch(err => log.error({ err }, "eviction failed"));
    void mirror?.reconcile();
  }, housekeepingIntervalMs(config));
  housekeeping.unref();
  ready = true;
  log.info(
    { registry: registryAddress, peer: peerAddress, upstreams: config.upstreams, cacheDir: config.cache.dir },
    "listening",
  );

  const stop = async (signal: string) => {
    log.info({ signal }, "shutting down");
    ready = false;
    clearInterval(housekeeping);
    await mirror?.stop(); // hosts.toml files stay: containerd falls back to the registry meanwhile
    const closing = Promise.all([close(registryServer), close(peerServer)]);
    const timer = setTimeout(() => {
      registryServer.closeAllConnections();
      peerServer.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    await closing;
    await inFlight.drain(SHUTDOWN_GRACE_MS);
    clearTimeout(timer);
    await swarm?.close();
    await client.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}

/** `--containerd-hosts-cleanup`: remove the agent's hosts.toml files and exit, opening no port. */
async function cleanUpHostsDir(config: AgentConfig): Promise<void> {
  const log = createLogger("peerpull-agent", config.logLevel);
  const hostsDir = config.mirror.hostsDir as string;
  const report = await removeManagedHostsFiles(hostsDir);
  log.info({ hostsDir, removed: report.removed }, "mirror mode: removed the agent's hosts.toml files");
  process.exit(0);
}

/** The peer token, read once, when the swarm is on (the config makes sure the file is named). */
function readToken(config: AgentConfig): string | undefined {
  if (!swarmConfigured(config) || config.peerTokenFile === undefined) return undefined;
  const file = config.peerTokenFile;
  return exitOnConfigError("peerpull-agent", () => readPeerTokenFile(file));
}

/** The peer port's send-queue cap, or a warning that uploads run with the kernel's deep queue. */
function peerSendQueue(log: ReturnType<typeof createLogger>): SendQueueTuning {
  const tuning = loadSendQueueTuning();
  if (tuning.unavailable)
    log.warn({ reason: tuning.unavailable }, "peer send queue not capped: upload slots are looser");
  return tuning;
}

function housekeepingIntervalMs(config: AgentConfig): number {
  return Math.max(1_000, Math.min(60_000, config.cache.ttlMs / 10));
}

async function listen(server: Server, address: { host: string; port: number }): Promise<string> {
  server.listen(address.port, address.host);
  await once(server, "listening");
  const bound = server.address() as AddressInfo;
  return `${bound.address}:${bound.port}`;
}

function close(server: Server): Promise<void> {
  return new Promise(resolve => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

main(process.argv.slice(2)).catch(err => {
  process.stderr.write(`peerpull-agent: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
