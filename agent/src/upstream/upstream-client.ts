/**
 * The agent's only client of origin registries: a pooled keep-alive undici Agent, origin auth,
 * bounded retries with backoff, and blob streams that resume with `Range` after a break.
 */
import { Agent, Dispatcher, interceptors, request } from "undici";
import { ClientCredentials } from "../credentials/client-credentials";
import { Upstream } from "../../../protocol/agent-config";
import { isRetryableStatus, UpstreamStatusError, UpstreamUnreachableError } from "./errors";
import { OriginAuth, TokenDeniedError } from "./origin-auth";
import { readBounded } from "./read-bounded";
import { parseChallenge } from "./www-authenticate";

export interface ByteLimiter {
  take(bytes: number): Promise<void>;
}

export interface UpstreamClientOptions {
  timeoutMs: number;
  retries: number;
  limiter?: ByteLimiter;
  onOriginBytes?: (bytes: number) => void;
  backoffBaseMs?: number;
  connectionsPerOrigin?: number;
}

export interface ManifestResult {
  contentType: string;
  digestHeader?: string;
  size: number;
  /** Undefined for HEAD. */
  body?: Buffer;
}

/** A small JSON answer of the pull API other than a manifest or blob (tags list, referrers). */
export interface ListingResult {
  contentType?: string;
  /** The origin's `Link` header, verbatim (pagination). */
  link?: string;
  /** The origin's `OCI-Filters-Applied` header. */
  filtersApplied?: string;
  body: Buffer;
}

type Method = "GET" | "HEAD";
const MAX_ERROR_BODY_BYTES = 64 * 1024;

interface OriginRequest {
  upstream: Upstream;
  repo: string;
  path: string;
  credentials: ClientCredentials;
  method: Method;
  headers: Record<string, string>;
  /** Overrides the client's idle-body timeout for this request. */
  bodyTimeoutMs?: number;
}
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

export class UpstreamClient {
  private readonly dispatcher: Dispatcher;
  private readonly auth: OriginAuth;
  private readonly backoffBaseMs: number;

  constructor(private readonly options: UpstreamClientOptions) {
    const agent = new Agent({
      connections: options.connectionsPerOrigin ?? 32,
      keepAliveTimeout: 30_000,
      connect: { timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    // The redirect interceptor drops Authorization when a registry redirects to another origin (storage).
    this.dispatcher = agent.compose(interceptors.redirect({ maxRedirections: 5 }));
    this.auth = new OriginAuth(this.dispatcher, options.timeoutMs);
    this.backoffBaseMs = options.backoffBaseMs ?? 200;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  async manifest(
    upstream: Upstream,
    repo: string,
    reference: string,
    credentials: ClientCredentials,
    method: Method,
    accept?: string,
  ): Promise<ManifestResult> {
    const path = `/v2/${repo}/manifests/${reference}`;
    const headers = { accept: manifestAccept(accept) };
    const response = await this.send({ upstream, repo, path, credentials, method, headers });
    const contentType = header(response, "content-type") ?? "application/octet-stream";
    const digestHeader = header(response, "docker-content-digest");
    if (method === "HEAD") {
      await response.body.dump();
      return { contentType, digestHeader, size: Number(header(response, "content-length") ?? 0) };
    }
    const body = await readBounded(response.body, MAX_MANIFEST_BYTES);
    this.countOriginBytes(body.length);
    return { contentType, digestHeader, size: body.length, body };
  }

  /**
   * GET `path` (which must start with `/v2/<repo>/`, query included) with the client's credentials;
   * the body is read whole, up to `maxBytes` (more: UpstreamStatusError 413).
   */
  async listing(
    upstream: Upstream,
    repo: string,
    path: string,
    credentials: ClientCredentials,
    accept: string,
    maxBytes: number,
  ): Promise<ListingResult> {
    if (!path.startsWith(`/v2/${repo}/`)) throw new Error(`listing path ${path} is outside /v2/${repo}/`);
    const headers = { accept };
    const response = await this.send({ upstream, repo, path, credentials, method: "GET", headers });
    const body = await readBounded(response.body, maxBytes);
    this.countOriginBytes(body.length);
    return {
      contentType: header(response, "content-type"),
      link: header(response, "link"),
      filtersApplied: header(response, "oci-filters-applied"),
      body,
    };
  }

  /**
   * Whether the origin accepts these credentials at all (`GET /v2/`, with the token dance for no
   * repository): true or false, or an error when it cannot be asked.
   */
  async acceptsCredentials(upstream: Upstream, credentials: ClientCredentials): Promise<boolean> {
    try {
      const response = await this.send({
        upstream,
        repo: "",
        path: "/v2/",
        credentials,
        method: "GET",
        headers: {},
      });
      await response.body.dump();
      return true;
    } catch (err) {
      if (err instanceof UpstreamStatusError && (err.statusCode === 401 || err.statusCode === 403))
        return false;
      throw err;
    }
  }

  /** HEAD on a blob with the client's credentials: the authorization check and the size. */
  async headBlob(
    upstream: Upstream,
    repo: string,
    digest: string,
    credentials: ClientCredentials,
  ): Promise<number> {
    const path = `/v2/${repo}/blobs/${digest}`;
    const response = await this.send({ upstream, repo, path, credentials, method: "HEAD", headers: {} });
    await response.body.dump();
    const size = Number(header(response, "content-length"));
    if (!Number.isSafeInteger(size) || size < 0)
      throw new UpstreamStatusError(502, "origin sent no blob size");
    return size;
  }

  /**
   * The blob's bytes from `offset` (or the inclusive `end`), paced by the node limiter. A request that
   * fails, or a stream that breaks or sends nothing for `idleTimeoutMs` (default: the client's
   * timeout), is tried again (resumed with `Range` from the last byte received): `retries` times in
   * all, in this one loop.
   */
  async *blob(
    upstream: Upstream,
    repo: string,
    digest: string,
    credentials: ClientCredentials,
    span: { offset: number; end?: number; idleTimeoutMs?: number } = { offset: 0 },
  ): AsyncGenerator<Buffer> {
    let offset = span.offset;
    const wanted = span.end === undefined ? undefined : span.end + 1;
    for (let attempt = 0; ; attempt++) {
      try {
        const range = offset > 0 || span.end !== undefined ? `bytes=${offset}-${span.end ?? ""}` : undefined;
        const path = `/v2/${repo}/blobs/${digest}`;
        const headers: Record<string, string> = range ? { range } : {};
        const bodyTimeoutMs = span.idleTimeoutMs;
        const response = await this.sendAuthorized({
          upstream,
          repo,
          path,
          credentials,
          method: "GET",
          headers,
          bodyTimeoutMs,
        });
        let skip = rangeIgnored(response, offset) ? offset : 0;
        for await (const raw of response.body as AsyncIterable<Buffer>) {
          let chunk = raw;
          if (skip > 0) {
            const dropped = Math.min(skip, chunk.length);
            chunk = chunk.subarray(dropped);
            skip -= dropped;
          }
          if (wanted !== undefined && offset + chunk.length > wanted)
            chunk = chunk.subarray(0, wanted - offset);
          if (chunk.length === 0) continue;
          await this.options.limiter?.take(chunk.length);
          this.countOriginBytes(chunk.length);
          offset += chunk.length;
          yield chunk;
        }
        if (wanted === undefined || offset >= wanted) return;
        throw new UpstreamUnreachableError(`origin ended the blob early at byte ${offset}`);
      } catch (err) {
        await this.beforeRetry(err, attempt);
      }
    }
  }

  private countOriginBytes(bytes: number): void {
    this.options.onOriginBytes?.(bytes);
  }

  /** One origin request with auth and retries; resolves only with a 2xx response. */
  private async send(req: OriginRequest): Promise<Dispatcher.ResponseData> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.sendAuthorized(req);
      } catch (err) {
        await this.beforeRetry(err, attempt);
      }
    }
  }

  /**
   * The one retry rule of the client: rethrows `err` when it is final or `attempt` was the last one
   * allowed, else waits the backoff. Each call path has one loop around it (`send`, or `blob`'s loop
   * around the request and its stream), never a loop inside a loop: `retries` 4 means at most 5
   * attempts, whatever fails (an attempt is one request, two when a 401 challenge is answered).
   */
  private async beforeRetry(err: unknown, attempt: number): Promise<void> {
    if (!isRetryable(err) || attempt >= this.options.retries) throw err;
    await sleep(this.backoff(attempt));
  }

  /** One attempt: the request, and once more with fresh auth after a 401 challenge; 2xx or an error. */
  private async sendAuthorized(req: OriginRequest): Promise<Dispatcher.ResponseData> {
    let response = await this.sendOnce(req);
    if (response.statusCode === 401) {
      const challenge = parseChallenge(header(response, "www-authenticate"));
      await response.body.dump();
      if (!challenge || req.credentials.kind === "bearer")
        throw new UpstreamStatusError(401, "origin requires authorization");
      this.auth.rememberChallenge(req.upstream.origin, challenge);
      this.auth.invalidate(req.upstream.origin, req.credentials, req.repo);
      response = await this.sendOnce(req);
    }
    if (response.statusCode >= 200 && response.statusCode < 300) return response;
    throw new UpstreamStatusError(
      response.statusCode,
      `origin answered ${response.statusCode} for ${req.method} ${req.path}`,
      await errorCode(response),
    );
  }

  private async sendOnce({
    upstream,
    repo,
    path,
    credentials,
    method,
    headers,
    bodyTimeoutMs,
  }: OriginRequest) {
    let authorization: string | undefined;
    try {
      authorization = await this.auth.headerFor(upstream.origin, credentials, repo);
    } catch (err) {
      if (err instanceof TokenDeniedError) throw new UpstreamStatusError(401, err.message);
      throw new UpstreamUnreachableError(`origin token endpoint failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    try {
      return await request(upstream.origin + path, {
        dispatcher: this.dispatcher,
        method,
        headers: { ...headers, ...(authorization ? { authorization } : {}), "user-agent": "peerpull-agent" },
        ...(bodyTimeoutMs === undefined ? {} : { bodyTimeout: bodyTimeoutMs }),
      });
    } catch (err) {
      throw new UpstreamUnreachableError(`origin ${upstream.origin} unreachable: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  private backoff(attempt: number): number {
    const base = this.backoffBaseMs * 2 ** attempt;
    return Math.min(5_000, base / 2 + Math.random() * base);
  }
}

/** The client's Accept, unless it names no manifest type (e.g. a bare `*` + `/*`). */
function manifestAccept(accept: string | undefined): string {
  return accept && /application\/vnd\./.test(accept) ? accept : MANIFEST_ACCEPT;
}

/** The first `errors[].code` of an origin's error body (read up to 64 KiB, never throws). */
async function errorCode(response: Dispatcher.ResponseData): Promise<string | undefined> {
  try {
    if (!/json/.test(header(response, "content-type") ?? "")) return undefined;
    const body = await readBounded(response.body, MAX_ERROR_BODY_BYTES);
    const code = (JSON.parse(body.toString("utf8")) as { errors?: { code?: unknown }[] }).errors?.[0]?.code;
    return typeof code === "string" ? code : undefined;
  } catch {
    return undefined;
  } finally {
    await response.body.dump().catch(() => undefined);
  }
}

function isRetryable(err: unknown): boolean {
  if (err instanceof UpstreamStatusError) return isRetryableStatus(err.statusCode);
  return true; // network errors, timeouts, bodies cut short
}

function rangeIgnored(response: Dispatcher.ResponseData, offset: number): boolean {
  return offset > 0 && response.statusCode === 200;
}

function header(response: Dispatcher.ResponseData, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}
