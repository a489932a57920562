/**
 * Builds this node's swarm parts from the config (main.ts calls it once): the tracker and peer
 * clients, the book shared with the peer API, the fill chooser and the seed heartbeat.
 */
import { randomBytes } from "node:crypto";
import { LRUCache } from "lru-cache";
import { networkInterfaces } from "node:os";
import type { Logger } from "pino";
import type { BlobRequest } from "../blobs/blob-source";
import type { BlobStore } from "../cache/blob-store";
import type { FillFunction } from "../cache/in-flight";
import { PartialStore } from "../cache/partial-store";
import type { AgentConfig } from "../config/load";
import { HeldProofs } from "../peer/held-proofs";
import { createPeerApi } from "../peer/peer-api";
import type { PeerRoute } from "../http/peer-server";
import type { AgentMetrics } from "../metrics";
import type { UpstreamClient } from "../upstream/upstream-client";
import { Bitfield, sha256Hex } from "../../../protocol/pieces";
import { PeerClient } from "../peer/peer-client";
import { intoPieces } from "./piece-chunks";
import { SwarmBook } from "./swarm-book";
import { SwarmDownload } from "./swarm-download";
import { TrackerClient } from "./tracker-client";
import { ClosableTracker, ShardedTracker } from "./tracker-shards";

const SEED_HEARTBEAT_MS = 15_000;
const PEER_TIMEOUT_MS = 10_000;
/** How long a digest whose swarm hashes proved false goes straight to the origin. */
const DISTRUST_MS = 30 * 60_000;
const MAX_DISTRUSTED = 10_000;

export interface SwarmNode {
  peerApi: PeerRoute;
  /** The swarm fill for a blob, or undefined (no tracker, source mode, small blob). */
  fillFor(request: BlobRequest & { size: number }): FillFunction | undefined;
  /** Called once the peer port listens, with its bound "host:port". */
  start(peerAddress: string): void;
  close(): Promise<void>;
}

export async function createSwarmNode(
  config: AgentConfig,
  token: string,
  deps: {
    store: BlobStore;
    client: Pick<UpstreamClient, "blob">;
    metrics: AgentMetrics;
    limiter: { take(n: number): Promise<void> };
    log: Logger;
  },
): Promise<SwarmNode> {
  const book = new SwarmBook();
  const peerApi = createPeerApi({
    token,
    store: deps.store,
    book,
    limiter: deps.limiter,
    onUpload: n => deps.metrics.peerUploadBytes.inc(n),
    onHavePush: () => deps.metrics.havePushes.inc({ result: "received" }),
    uploadSlots: config.swarm.uploadSlots,
  });
  const swarmOn = config.tracker !== undefined && config.downloadPattern === "p2p";
  const tracker = swarmOn ? trackerFor(config.tracker!, token, config.swarm.stallTimeoutMs) : undefined;
  const peers = new PeerClient({ token, timeoutMs: Math.min(PEER_TIMEOUT_MS, config.swarm.stallTimeoutMs) });
  const partials = await PartialStore.open(config.cache.dir, deps.store);
  const peerId = `agent-${randomBytes(8).toString("hex")}`;
  let address = "";
  let heartbeat: NodeJS.Timeout | undefined;
  // Blobs whose pieces matched false hashes go straight to the origin for a while (bounded, LRU).
  const distrusted = new LRUCache<string, true>({ max: MAX_DISTRUSTED, ttl: DISTRUST_MS });
  const isDistrusted = (digest: string) => distrusted.has(digest);

  /** One seed's heartbeat: hashed from the cache first if needed, re-signed if its proofs are void. */
  const announceSeed = async (seed: ReturnType<SwarmBook["seeding"]>[number]) => {
    const full = Bitfield.full(Math.ceil(seed.size / seed.pieceSize));
    let proofs = seed.proofs;
    if (!proofs) {
      try {
        proofs = await proofsOf(deps.store, seed.digest, seed.size, seed.pieceSize);
      } catch {
        book.forgetSeed(seed.digest); // evicted or unreadable
        return;
      }
      book.setSeedProofs(seed.digest, proofs);
    }
    const held = proofs;
    const announce = () =>
      tracker!.announce({
        digest: seed.digest,
        size: seed.size,
        pieceSize: seed.pieceSize,
        peerId,
        address,
        have: full.encode(),
        pieceHashes: held.unsigned(full),
        complete: true,
        wantLease: false,
        releaseLease: false,
      });
    const res = await announce();
    held.acceptSignatures(res.trackerKey, res.proofs);
    // A new tracker key (a restarted tracker) voided them: send the hashes again to get them re-signed.
    if (Object.keys(held.unsigned(full)).length > 0)
      held.acceptSignatures(res.trackerKey, (await announce()).proofs);
  };
  const announceSeeds = async () => {
    for (const seed of book.seeding().slice(0, 1_000))
      await announceSeed(seed).catch(err =>
        deps.log.debug({ err, digest: seed.digest }, "seed announce failed"),
      );
  };

  return {
    peerApi,
    fillFor(request) {
      if (!tracker || request.size < config.swarm.minBlobBytes || !address) return undefined;
      if (isDistrusted(request.digest)) return undefined;
      return (writer, sourced) =>
        new SwarmDownload(
          {
            tracker,
            peers,
            client: deps.client,
            partials,
            book,
            limiter: deps.limiter,
            counters: {
              peerBytes: n => deps.metrics.peerDownloadBytes.inc(n),
              verifyFailure: () => deps.metrics.pieceVerifyFailures.inc(),
              fallback: reason => deps.metrics.fallbacks.inc({ reason }),
              ban: reason => deps.metrics.peerBans.inc({ reason }),
              havePush: result => deps.metrics.havePushes.inc({ result }),
            },
            distrust: digest => distrusted.set(digest, true),
            log: deps.log,
            peerId,
            address,
            stallTimeoutMs: config.swarm.stallTimeoutMs,
          },
          request,
          writer,
          sourced,
        ).run();
    },
    start(peerAddress) {
      const advertise = config.swarm.advertise;
      address = advertise ? `${advertise.host}:${advertise.port}` : reachable(peerAddress);
      if (tracker) {
        deps.log.info({ peerId, address }, "swarm member");
        heartbeat = setInterval(() => void announceSeeds(), SEED_HEARTBEAT_MS);
        heartbeat.unref();
        // On start: every cached blob big enough for the swarm is seeded again (DESIGN 2.3).
        void deps.store
          .list()
          .then(blobs => {
            for (const blob of blobs)
              if (blob.size >= config.swarm.minBlobBytes) book.finished(blob.digest, { size: blob.size });
            return announceSeeds();
          })
          .catch(err => deps.log.warn({ err }, "announcing the cache failed"));
      }
    },
    async close() {
      if (heartbeat) clearInterval(heartbeat);
      if (tracker) await tracker.leave(peerId).catch(() => undefined);
      await tracker?.close();
      await peers.close();
    },
  };
}

/** One tracker client, or a sharded set when several replicas are configured. */
function trackerFor(urls: string[], token: string, stallTimeoutMs: number): ClosableTracker {
  const clientFor = (url: string) =>
    new TrackerClient({ url, token, timeoutMs: Math.min(5_000, stallTimeoutMs) });
  if (urls.length === 1) return clientFor(urls[0]);
  return new ShardedTracker(urls, urls.map(clientFor));
}

/** The hashes of every piece of a cached blob, read once from the cache (no proofs yet). */
async function proofsOf(
  store: BlobStore,
  digest: string,
  size: number,
  pieceSize: number,
): Promise<HeldProofs> {
  const count = Math.ceil(size / pieceSize);
  const proofs = new HeldProofs(count);
  const stream = await store.open(digest);
  try {
    for await (const { index, parts } of intoPieces(stream, 0, count, size, pieceSize))
      proofs.setHash(index, sha256Hex(parts));
  } finally {
    stream.destroy();
  }
  return proofs;
}

/** A wildcard bind address is not reachable: use the first non-internal IPv4 address instead. */
function reachable(bound: string): string {
  const at = bound.lastIndexOf(":");
  const host = bound.slice(0, at);
  if (host !== "0.0.0.0" && host !== "::") return host.includes(":") ? `[${host}]${bound.slice(at)}` : bound;
  const ip = Object.values(networkInterfaces())
    .flat()
    .find(i => i && i.family === "IPv4" && !i.internal)?.address;
  return `${ip ?? "127.0.0.1"}${bound.slice(at)}`;
}
