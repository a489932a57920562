/**
 * The tracker's HTTP server: route table, token check, one error serializer, per-route metrics and
 * logs. /healthz, /readyz and /metrics are open; everything else needs the peer token.
 */
import http, { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { TrackerError } from "../../../protocol/tracker-api";
import { AnnounceDeps, JsonReply, RawReply, handleAnnounce, handleLeave } from "./announce-handler";
import { tokenChecker } from "./auth";

export interface ServerDeps extends AnnounceDeps {
  token: string;
  log: Logger;
  isReady: () => boolean;
}

type Handler = (req: IncomingMessage, deps: ServerDeps) => Promise<JsonReply | RawReply>;

const OPEN: Record<string, Handler> = {
  "GET /healthz": async () => ({ status: 200, body: { ok: true } }),
  "GET /readyz": async (_req, deps) =>
    deps.isReady() ? { status: 200, body: { ok: true } } : { status: 503, body: { ok: false } },
  "GET /metrics": async (_req, deps) => ({
    status: 200,
    contentType: deps.metrics.registry.contentType,
    text: await deps.metrics.registry.metrics(),
  }),
};

const PROTECTED: Record<string, Handler> = {
  "POST /v1/announce": handleAnnounce,
  "POST /v1/leave": handleLeave,
};

export function createTrackerServer(deps: ServerDeps): http.Server {
  const checkToken = tokenChecker(deps.token);
  const server = http.createServer((req, res) => {
    void serve(req, res, deps, checkToken);
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return server;
}

function routeOf(req: IncomingMessage): { key: string; path: string } {
  const path = (req.url ?? "/").split("?")[0];
  return { key: `${req.method} ${path}`, path };
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  deps: ServerDeps,
  checkToken: (req: IncomingMessage) => void,
): Promise<void> {
  const { key, path } = routeOf(req);
  const started = Date.now();
  let route = "other";
  try {
    const open = OPEN[key];
    if (open) {
      route = path;
      send(res, await open(req, deps));
      return;
    }
    checkToken(req);
    const handler = PROTECTED[key];
    if (!handler) throw notFound(path);
    route = path;
    send(res, await handler(req, deps));
  } catch (err) {
    sendError(res, err, deps.log);
  } finally {
    deps.metrics.requests.inc({ route, code: String(res.statusCode) });
    if (route !== "/metrics" && route !== "/healthz" && route !== "/readyz")
      deps.log.debug(
        { method: req.method, path, status: res.statusCode, ms: Date.now() - started },
        "request",
      );
  }
}

function notFound(path: string): TrackerError {
  const known = Object.keys(PROTECTED).some(k => k.endsWith(` ${path}`));
  return known
    ? new TrackerError("METHOD_NOT_ALLOWED", `${path} accepts POST only`)
    : new TrackerError("NOT_FOUND", `no route ${path}`);
}

function send(res: ServerResponse, reply: JsonReply | RawReply): void {
  if ("text" in reply) {
    res.writeHead(reply.status, { "content-type": reply.contentType });
    res.end(reply.text);
    return;
  }
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** The only writer of error bodies; after headers are out it destroys the response instead. */
function sendError(res: ServerResponse, err: unknown, log: Logger): void {
  if (res.headersSent) {
    res.destroy(err instanceof Error ? err : undefined);
    return;
  }
  const error = err instanceof TrackerError ? err : new TrackerError("INTERNAL", "internal error");
  if (!(err instanceof TrackerError)) log.error({ err }, "request failed");
  const text = JSON.stringify(error.toBody());
  const headers: http.OutgoingHttpHeaders = {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  };
  if (error.status === 401) headers["www-authenticate"] = 'Bearer realm="peerpull-tracker"';
  if (error.status === 413) headers.connection = "close";
  res.writeHead(error.status, headers);
  res.end(text);
}
