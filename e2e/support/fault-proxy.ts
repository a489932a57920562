/**
 * An HTTP proxy in front of the real registry that injects origin faults on blob GETs (5xx
 * answers, connections cut mid-body) and counts the blob bytes the origin side delivered.
 */
import { createServer, IncomingMessage, request, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";

export interface FaultPlan {
  /** Answer this many blob GETs with 503 before passing any through. */
  fail5xx?: number;
  /** Cut this many blob GET bodies after `cutAfterBytes`. */
  cutBodies?: number;
  cutAfterBytes?: number;
  /** Refuse every request (connection destroyed): an unreachable origin. */
  down?: boolean;
}

export interface FaultProxy {
  readonly url: string;
  plan: FaultPlan;
  /** Blob GETs that reached the registry, and body bytes passed to the agent. */
  readonly counts: { blobGets: number; blobBytes: number; requests: number };
  stop(): Promise<void>;
}

const BLOB_GET = /\/blobs\/sha256:[0-9a-f]{64}$/;

export async function startFaultProxy(targetUrl: string, plan: FaultPlan = {}): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  const counts = { blobGets: 0, blobBytes: 0, requests: 0 };
  const proxy: { plan: FaultPlan } = { plan };
  const server: Server = createServer((req, res) => forward(req, res, target, proxy.plan, counts));
  await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(proxy, {
    url,
    counts,
    stop: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

function forward(
  req: IncomingMessage,
  res: ServerResponse,
  target: URL,
  plan: FaultPlan,
  counts: FaultProxy["counts"],
): void {
  counts.requests++;
  if (plan.down) return void req.socket.destroy();
  const isBlobGet = req.method === "GET" && BLOB_GET.test((req.url ?? "").split("?")[0]);
  if (isBlobGet && (plan.fail5xx ?? 0) > 0) {
    plan.fail5xx!--;
    return void res.writeHead(503, { "content-type": "text/plain" }).end("injected failure");
  }
  const cut = isBlobGet && (plan.cutBodies ?? 0) > 0;
  if (cut) plan.cutBodies!--;
  const upstream = request(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: target.host },
    },
    upstreamRes => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      if (isBlobGet && upstreamRes.statusCode && upstreamRes.statusCode < 300) counts.blobGets++;
      let sent = 0;
      upstreamRes.on("data", (chunk: Buffer) => {
        if (cut && sent + chunk.length > (plan.cutAfterBytes ?? 0)) {
          res.write(chunk.subarray(0, Math.max(0, (plan.cutAfterBytes ?? 0) - sent)), () => res.destroy());
          upstreamRes.destroy();
          return;
        }
        sent += chunk.length;
        if (isBlobGet) counts.blobBytes += chunk.length;
        if (!res.write(chunk)) {
          upstreamRes.pause();
          res.once("drain", () => upstreamRes.resume());
        }
      });
      upstreamRes.on("end", () => res.end());
    },
  );
  upstream.on("error", () => res.destroy());
  req.pipe(upstream);
}
