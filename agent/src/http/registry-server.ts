/** The registry API server: wraps every request once for metrics, logs and error responses. */
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { OciError } from "../../../protocol/oci-error";
import type { AgentMetrics } from "../metrics";
import { RegistryHandler, RequestKind } from "./registry-handler";
import { writeError } from "./respond";
import { boundConnections, boundedServerOptions } from "./server-limits";

/** The registry port's share of the open-file limit (the peer port has its own). */
const CONNECTION_SHARE = 0.4;

export function createRegistryServer(handler: RegistryHandler, metrics: AgentMetrics, log: Logger): Server {
  const server = createServer(boundedServerOptions(), (req, res) => {
    void serve(handler, req, res, metrics, log);
  });
  boundConnections(server, CONNECTION_SHARE);
  return server;
}

async function serve(
  handler: RegistryHandler,
  req: IncomingMessage,
  res: ServerResponse,
  metrics: AgentMetrics,
  log: Logger,
): Promise<void> {
  const started = process.hrtime.bigint();
  let kind: RequestKind | "invalid" = "invalid";
  res.on("close", () => {
    metrics.requests.inc({ kind, code: String(res.statusCode) });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    log.debug(
      { method: req.method, url: req.url, status: res.statusCode, ms, complete: res.writableFinished },
      "request",
    );
  });
  try {
    const { path, method } = handler.parse(req);
    kind = path.kind;
    await handler.handle(req, res, path, method);
  } catch (err) {
    if (err instanceof OciError) {
      if (err.status >= 500) log.warn({ url: req.url, code: err.code, msg: err.message }, "request failed");
      writeError(res, err, req.method);
    } else if (res.destroyed || isClientGone(err)) {
      log.debug({ url: req.url, err }, "client went away");
      res.destroy();
    } else {
      log.error({ url: req.url, err }, "unexpected error");
      writeError(res, new OciError("UNKNOWN", "internal error"), req.method);
    }
  }
}

function isClientGone(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === "ERR_STREAM_PREMATURE_CLOSE" || code === "ECONNRESET" || code === "EPIPE";
}
