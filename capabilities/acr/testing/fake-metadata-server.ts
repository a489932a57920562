/**
 * The ECS instance metadata service, as far as RAM-role credentials go, on 127.0.0.1 (port 0):
 * - `PUT /latest/api/token` with `X-aliyun-ecs-metadata-token-ttl-seconds` (1..21600) -> an IMDSv2 token;
 * - `GET /latest/meta-data/ram/security-credentials/` -> the role name;
 * - `GET /latest/meta-data/ram/security-credentials/<role>` -> the role's STS credentials
 *   (`AccessKeyId` "STS.…", `AccessKeySecret`, `SecurityToken`, `Expiration`, `LastUpdated`, `Code`).
 * In hardened mode (the default, what peerpull asks for) GETs without a valid token get 401.
 * `rotate()` issues new STS credentials, as ECS does ahead of expiry; `onIssue` lets the fake
 * Container Registry API learn each set so it can accept (and, once expired, refuse) them.
 */
import { randomBytes } from "node:crypto";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";

const CREDENTIALS_PATH = "/latest/meta-data/ram/security-credentials/";
const SIX_HOURS_MS = 6 * 60 * 60 * 1000;

export interface StsCredentials {
  AccessKeyId: string;
  AccessKeySecret: string;
  SecurityToken: string;
  Expiration: string;
  LastUpdated: string;
  Code: "Success";
}

export interface FakeMetadataOptions {
  now?: () => number;
  validityMs?: number;
  /** Refuse GETs without an IMDSv2 token (the service's hardened mode). */
  requireToken?: boolean;
  onIssue?: (credentials: StsCredentials, expiresAt: number) => void;
}

export class FakeMetadataServer {
  readonly requests: { method: string; path: string; token?: string; ttl?: string }[] = [];
  #server?: Server;
  #tokens = new Map<string, number>();
  #current?: StsCredentials;
  #issued = 0;
  #failNext = 0;
  readonly #now: () => number;

  constructor(
    readonly roleName: string,
    private readonly options: FakeMetadataOptions = {},
  ) {
    this.#now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.#serve(req, res));
    await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
    this.#server = server;
    this.rotate();
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>(resolve => server.close(() => resolve()));
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
  }

  get current(): StsCredentials {
    return this.#current!;
  }

  /** The next `count` requests get a 500. */
  failNext(count: number): void {
    this.#failNext = count;
  }

  rotate(): StsCredentials {
    this.#issued += 1;
    const now = this.#now();
    const expiresAt = now + (this.options.validityMs ?? SIX_HOURS_MS);
    const credentials: StsCredentials = {
      AccessKeyId: `STS.NUfake${String(this.#issued).padStart(4, "0")}`,
      AccessKeySecret: randomBytes(16).toString("hex"),
      SecurityToken: `CAIS${randomBytes(24).toString("base64url")}`,
      Expiration: utcSeconds(expiresAt),
      LastUpdated: utcSeconds(now),
      Code: "Success",
    };
    this.#current = credentials;
    this.options.onIssue?.(credentials, expiresAt);
    return credentials;
  }

  #serve(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? "").split("?")[0];
    const token = header(req, "x-aliyun-ecs-metadata-token");
    const ttl = header(req, "x-aliyun-ecs-metadata-token-ttl-seconds");
    this.requests.push({
      method: req.method ?? "",
      path,
      ...(token ? { token } : {}),
      ...(ttl ? { ttl } : {}),
    });
    if (this.#failNext > 0) {
      this.#failNext -= 1;
      return send(res, 500, "text/plain", "Internal Server Error");
    }
    if (req.method === "PUT" && path === "/latest/api/token") return this.#issueToken(res, ttl);
    if (req.method !== "GET") return send(res, 405, "text/plain", "Method Not Allowed");
    if ((this.options.requireToken ?? true) && !this.#tokenValid(token))
      return send(res, 401, "text/plain", "Unauthorized");
    if (path === CREDENTIALS_PATH) return send(res, 200, "text/plain", this.roleName);
    if (path === `${CREDENTIALS_PATH}${this.roleName}`)
      return send(res, 200, "text/plain", JSON.stringify(this.#current, null, 2));
    return send(res, 404, "text/html", "<html><body><h1>404 Not Found</h1></body></html>");
  }

  #issueToken(res: ServerResponse, ttl: string | undefined): void {
    const seconds = Number(ttl);
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 21600)
      return send(res, 400, "text/plain", "Bad Request");
    const token = randomBytes(24).toString("base64url");
    this.#tokens.set(token, this.#now() + seconds * 1000);
    send(res, 200, "text/plain", token);
  }

  #tokenValid(token: string | undefined): boolean {
    const until = token === undefined ? undefined : this.#tokens.get(token);
    return until !== undefined && this.#now() < until;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** "2024-08-30T07:03:06Z", the form the metadata service uses. */
function utcSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
