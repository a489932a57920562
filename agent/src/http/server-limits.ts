/**
 * Bounds for the agent's two HTTP servers, so slow or idle clients cannot hold sockets and file
 * descriptors: a connection must send its request headers within HEADERS_TIMEOUT_MS of opening (or
 * of the last response, under keep-alive), a whole request within REQUEST_TIMEOUT_MS, and a
 * connection silent in both directions for IDLE_TIMEOUT_MS is closed. Each server also takes at
 * most a share of the process's open-file limit, so a flood on the registry port cannot starve the
 * peer port (where /healthz is) or the cache of descriptors.
 */
import { readFileSync } from "node:fs";
import type { Server, ServerOptions } from "node:http";

export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;
/** Longer than keep-alive, so only a connection that stalled mid-request or mid-response hits it. */
export const IDLE_TIMEOUT_MS = 120_000;
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const CHECK_INTERVAL_MS = 1_000;
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_CONNECTIONS_CAP = 8_192;

export function boundedServerOptions(): ServerOptions {
  return {
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionsCheckingInterval: CHECK_INTERVAL_MS,
  };
}

/**
 * Applies the time bounds Node does not cover (a connection that never sends a byte) and the
 * connection cap: `share` of the open-file limit.
 */
export function boundConnections(server: Server, share: number, fileLimit = openFileLimit()): void {
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.timeout = IDLE_TIMEOUT_MS;
  server.maxConnections = Math.max(16, Math.min(MAX_CONNECTIONS_CAP, Math.floor(fileLimit * share)));
  // Node only times out a connection's headers once bytes arrive; one that never sends would sit
  // until IDLE_TIMEOUT_MS. Until its first request, a connection gets the headers timeout.
  server.on("connection", socket => socket.setTimeout(HEADERS_TIMEOUT_MS));
  server.on("request", req => req.socket.setTimeout(IDLE_TIMEOUT_MS));
}

/** The soft limit on open files (Linux /proc/self/limits); a generous default elsewhere. */
export function openFileLimit(): number {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find(l => l.startsWith("Max open files"));
    const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
    const n = Number(soft);
    return Number.isFinite(n) && n > 0 ? n : 65_536;
  } catch {
    return 65_536;
  }
}
