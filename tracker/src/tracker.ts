/**
 * Builds one tracker (store, metrics, HTTP server) from its settings; main.ts and the tests both use
 * it, so the tests run the real server.
 */
import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { createTrackerMetrics, TrackerMetrics } from "./metrics";
import { createTrackerServer } from "./http/router";
import { createProofSigner } from "./proof-signer";
import { SwarmStore } from "./swarm-store";
import type { AnnounceOptions } from "./announce";

export interface TrackerOptions extends AnnounceOptions {
  peerTtlMs: number;
  /** Silence after which a member still downloading is forgotten (default LEECHER_TTL_MS). */
  leecherTtlMs?: number;
  /** Budget for the swarm state (default DEFAULT_MAX_STATE_BYTES). */
  maxStateBytes?: number;
  token: string;
  log: Logger;
  now?: () => number;
  defaultMetrics?: boolean;
}

export interface Tracker {
  readonly server: Server;
  readonly store: SwarmStore;
  readonly metrics: TrackerMetrics;
  listen(host: string, port: number): Promise<AddressInfo>;
  /** Stops accepting, lets requests in flight finish for up to graceMs, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
  setReady(ready: boolean): void;
}

/**
 * A member still downloading announces about every second (agent/src/swarm/swarm-download.ts); ten
 * seconds of silence means it died or lost the tracker. Shorter than any sensible lease timeout,
 * which must also cover a slow origin (a piece per stream can take seconds when many blobs share it).
 */
export const LEECHER_TTL_MS = 10_000;
const SWEEP_INTERVAL_MS = 1_000;

export function createTracker(options: TrackerOptions): Tracker {
  const now = options.now ?? Date.now;
  const store = new SwarmStore({
    peerTtlMs: options.peerTtlMs,
    leecherTtlMs: options.leecherTtlMs ?? LEECHER_TTL_MS,
    maxStateBytes: options.maxStateBytes,
  });
  const metrics = createTrackerMetrics(() => {
    store.sweep(now());
    return store.counts();
  }, options.defaultMetrics);
  let ready = false;
  // Announces sweep only a slice of their swarm; everything silent goes within a second.
  const sweeper = setInterval(() => store.sweep(now()), SWEEP_INTERVAL_MS);
  sweeper.unref();
  const server = createTrackerServer({
    token: options.token,
    log: options.log,
    isReady: () => ready,
    store,
    metrics,
    now,
    signer: createProofSigner(),
    options: {
      leaseTimeoutMs: options.leaseTimeoutMs,
      maxOriginStreams: options.maxOriginStreams,
      announceIntervalMs: options.announceIntervalMs,
      maxPeers: options.maxPeers,
      maxAnnounceRate: options.maxAnnounceRate,
      minPieceSize: options.minPieceSize,
    },
  });
  return {
    server,
    store,
    metrics,
    setReady: value => {
      ready = value;
    },
    async listen(host, port) {
      server.listen(port, host);
      await once(server, "listening");
      ready = true;
      return server.address() as AddressInfo;
    },
    close: graceMs => {
      clearInterval(sweeper);
      return closeServer(server, graceMs ?? 5_000);
    },
  };
}

function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise(resolve => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
