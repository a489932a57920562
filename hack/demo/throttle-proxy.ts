/**
 * A rate-limited origin for the loopback demo: an HTTP proxy in front of the real registry whose
 * response bodies, all connections together, leave at most `bytesPerSecond` (what the registry's
 * shaped link is in the network-namespace demo). Requests and headers pass through unchanged.
 */
import { createServer, IncomingMessage, request, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { ByteBudget } from "./throttle";

const SLICE = 64 * 1024;

export interface ThrottleProxy {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startThrottleProxy(targetUrl: string, bytesPerSecond: number): Promise<ThrottleProxy> {
  const target = new URL(targetUrl);
  const budget = new ByteBudget(bytesPerSecond);
  const server: Server = createServer((req, res) => forward(req, res, target, budget));
  await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function forward(req: IncomingMessage, res: ServerResponse, target: URL, budget: ByteBudget): void {
  const upstream = request(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: target.host },
    },
    origin => {
      res.writeHead(origin.statusCode ?? 502, origin.headers);
      void sendThrottled(origin, res, budget).catch(() => res.destroy());
    },
  );
  upstream.on("error", () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
  req.on("aborted", () => upstream.destroy());
  res.on("close", () => upstream.destroy());
  req.pipe(upstream);
}

async function sendThrottled(
  origin: IncomingMessage,
  res: ServerResponse,
  budget: ByteBudget,
): Promise<void> {
  for await (const chunk of origin as AsyncIterable<Buffer>) {
    for (let at = 0; at < chunk.length; at += SLICE) {
      const slice = chunk.subarray(at, at + SLICE);
      const wait = budget.reserve(slice.length, performance.now());
      if (wait > 0) await sleep(wait);
      if (res.destroyed) return;
      if (!res.write(slice))
        await new Promise(resolve => {
          res.once("drain", resolve);
          res.once("close", resolve);
        });
    }
  }
  res.end();
}
