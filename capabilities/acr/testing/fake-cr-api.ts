/**
 * The fake Container Registry API over real HTTP on 127.0.0.1 (port 0): decodes the RPC request the
 * way the service receives it (query string, plus a form body on POST) and hands it to
 * `FakeCrService`. A connection reset by the network is injectable here; answers are the service's.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";
import { FakeCrService } from "./fake-cr-service";

export type NetworkFault = "reset";

export class FakeCrApi {
  readonly service: FakeCrService;
  #server?: Server;
  #endpoint = "";
  #faults: NetworkFault[] = [];
  /** Raw requests as received (method and full URL), for tests that look at the wire. */
  readonly wire: { method: string; url: string; headers: IncomingMessage["headers"] }[] = [];

  constructor(region: string, now: () => number = Date.now) {
    this.service = new FakeCrService(region, now);
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.#serve(req, res).catch(() => res.destroy()));
    await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
    this.#server = server;
    this.#endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>(resolve => server.close(() => resolve()));
  }

  /** host:port, as `@alicloud/openapi-client` takes an endpoint (still the same after stop()). */
  get endpoint(): string {
    return this.#endpoint;
  }

  /** The next requests (one per fault) fail at the network level instead of reaching the service. */
  failNext(...faults: NetworkFault[]): void {
    this.#faults.push(...faults);
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    this.wire.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    const fault = this.#faults.shift();
    if (fault === "reset") {
      req.socket.destroy();
      return;
    }
    const query = (req.url ?? "").split("?")[1] ?? "";
    let params: Record<string, string>;
    try {
      params = { ...decodeParams(query), ...decodeParams(isForm(req) ? body : "") };
    } catch {
      reply(res, 400, { HostId: this.service.hostId, Code: "InvalidParameter", Message: "Malformed query." });
      return;
    }
    const answer = this.service.handle({ method: req.method ?? "GET", params });
    reply(res, answer.status, answer.body);
  }
}

function isForm(req: IncomingMessage): boolean {
  return (req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
}

/** name=value pairs, each percent-decoded; `+` is not a space in the RPC protocol's encoding. */
export function decodeParams(encoded: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of encoded.split("&")) {
    if (!pair) continue;
    const at = pair.indexOf("=");
    const name = decodeURIComponent(at < 0 ? pair : pair.slice(0, at));
    params[name] = at < 0 ? "" : decodeURIComponent(pair.slice(at + 1));
  }
  return params;
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json;charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...(typeof body.RequestId === "string" ? { "x-acs-request-id": body.RequestId } : {}),
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
