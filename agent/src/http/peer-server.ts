/**
 * The peer port: /healthz, /readyz, /metrics and /mirror/conflicts (mirror mode's hosts.toml files
 * the agent left alone, the metric's registries with path and reason) without a token; the peer
 * piece API (added by the swarm) behind the peer token. Everything else is 404.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import {
  MIRROR_CONFLICTS_PATH,
  MirrorConflict,
  MirrorConflictsBody,
} from "../../../protocol/mirror-conflicts";
import type { SendQueueTuning } from "./send-queue";
import { boundConnections, boundedServerOptions } from "./server-limits";

export type PeerRoute = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface PeerServerDeps {
  metricsRegistry: Registry;
  isReady: () => boolean;
  log: Logger;
  /** Mirror mode's current conflicts; absent when the agent writes no hosts.toml. */
  mirrorConflicts?: () => MirrorConflict[];
  /** Handles the request and resolves true when the path was its own. */
  peerApi?: PeerRoute;
  /** Caps each connection's kernel send queue, so upload slots bound what is on the wire. */
  sendQueue?: SendQueueTuning;
}

/** The peer port's share of the open-file limit (the registry port has its own). */
const CONNECTION_SHARE = 0.25;

export function createPeerServer(deps: PeerServerDeps): Server {
  const server = createServer(boundedServerOptions(), (req, res) => {
    route(req, res, deps).catch(err => {
      deps.log.error({ err, url: req.url }, "peer port error");
      if (!res.headersSent) text(res, 500, "internal error\n");
      else res.destroy();
    });
  });
  if (deps.sendQueue) server.on("connection", socket => deps.sendQueue!.limit(socket));
  boundConnections(server, CONNECTION_SHARE);
  return server;
}

async function route(req: IncomingMessage, res: ServerResponse, deps: PeerServerDeps): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  if (path === "/healthz") return text(res, 200, "ok\n");
  if (path === "/readyz") return deps.isReady() ? text(res, 200, "ready\n") : text(res, 503, "not ready\n");
  if (path === "/metrics") {
    const body = await deps.metricsRegistry.metrics();
    res.writeHead(200, { "content-type": deps.metricsRegistry.contentType });
    res.end(body);
    return;
  }
  if (path === MIRROR_CONFLICTS_PATH && (req.method === "GET" || req.method === "HEAD")) {
    const body: MirrorConflictsBody = {
      mirror: deps.mirrorConflicts !== undefined,
      conflicts: deps.mirrorConflicts?.() ?? [],
    };
    const json = JSON.stringify(body);
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(json) });
    res.end(req.method === "HEAD" ? undefined : json);
    return;
  }
  if (deps.peerApi && (await deps.peerApi(req, res))) return;
  text(res, 404, "not found\n");
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}
