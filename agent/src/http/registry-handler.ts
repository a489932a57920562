/**
 * GET/HEAD /v2/...: sequencing only. Parse, pick the upstream, authorize, then stream from the blob
 * provider or pass the origin's manifest through byte for byte.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { DistributionPath, parseDistributionPath } from "../../../protocol/distribution-path";
import { OciError } from "../../../protocol/oci-error";
import { ByteSpan, contentRange, resolveRange, spanLength } from "../../../protocol/range";
import { Authorizer } from "../access/authorizer";
import { ClientCredentials, parseAuthorization } from "../credentials/client-credentials";
import type { LoginVerdicts } from "../access/login-verdicts";
import { originErrorToOci } from "../access/origin-verdict";
import { BlobProvider, splitBySource } from "../blobs/blob-source";
import { Upstream } from "../../../protocol/agent-config";
import { BlobSource } from "../metrics";
import { UpstreamClient } from "../upstream/upstream-client";
import type { ListingHandler } from "./listing-handler";
import { API_VERSION_HEADER } from "./respond";
import { sendSlices } from "./send-slices";

export interface RegistryHandlerDeps {
  upstreams: ReadonlyMap<string, Upstream>;
  authorizer: Authorizer;
  client: Pick<UpstreamClient, "headBlob">;
  blobs: BlobProvider;
  onBlobBytes?: (source: BlobSource, bytes: number) => void;
  /** Tags list and referrers (always from the origin); without it they get 405 UNSUPPORTED. */
  listing?: ListingHandler;
  /** Checks credentials sent to `GET /v2/` at the origins; without it any credentials get 200. */
  logins?: Pick<LoginVerdicts, "check">;
}

export type RequestKind = DistributionPath["kind"];

export class RegistryHandler {
  constructor(private readonly deps: RegistryHandlerDeps) {}

  /** Parses the request; throws OciError for anything it will not serve. */
  parse(req: IncomingMessage): { path: DistributionPath; method: "GET" | "HEAD" } {
    const method = req.method;
    if (method !== "GET" && method !== "HEAD")
      throw new OciError("UNSUPPORTED", `method ${method} is not supported: this is a pull-only mirror`);
    return { path: parseDistributionPath(req.url ?? "/"), method };
  }

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: DistributionPath,
    method: "GET" | "HEAD",
  ): Promise<void> {
    if (path.kind === "base") {
      await this.base(req, path.registry);
      res.writeHead(200, { ...API_VERSION_HEADER, "content-type": "application/json", "content-length": 2 });
      res.end(method === "HEAD" ? undefined : "{}");
      return;
    }
    const upstream = this.deps.upstreams.get(path.registry);
    if (!upstream)
      throw new OciError("NAME_UNKNOWN", `registry ${path.registry} is not accelerated by this agent`);
    const credentials = parseAuthorization(req.headers.authorization);
    if (!credentials) throw new OciError("UNAUTHORIZED", "malformed Authorization header");
    if (path.kind === "tags" || path.kind === "referrers") {
      if (!this.deps.listing) throw new OciError("UNSUPPORTED", `${path.kind} is not served by this agent`);
      await this.deps.listing.handle(res, { ...path, upstream, credentials, method });
    } else if (path.kind === "manifest")
      await this.manifest(req, res, { ...path, upstream, credentials, method });
    else await this.blob(req, res, { ...path, upstream, credentials, method });
  }

  /** Throws unless `GET /v2/` may answer 200 for these credentials. */
  private async base(req: IncomingMessage, registry: string | undefined): Promise<void> {
    // Docker clients ping /v2/ to learn whether to send credentials; containerd never pings.
    // Without a challenge here they would never offer the pull secret for a private image.
    if (!req.headers.authorization) throw new OciError("UNAUTHORIZED", "send credentials if you have them");
    const credentials = parseAuthorization(req.headers.authorization);
    if (!credentials) throw new OciError("UNAUTHORIZED", "malformed Authorization header");
    if (credentials.kind === "anonymous" || !this.deps.logins) return;
    const upstream = registry === undefined ? undefined : this.deps.upstreams.get(registry);
    if (registry !== undefined && !upstream)
      throw new OciError("NAME_UNKNOWN", `registry ${registry} is not accelerated by this agent`);
    const upstreams = upstream ? [upstream] : [...this.deps.upstreams.values()];
    const verdict = await this.deps.logins.check(credentials, upstreams);
    if (verdict === "rejected")
      throw new OciError("UNAUTHORIZED", `credentials refused by ${upstreams.map(u => u.host).join(", ")}`);
    if (verdict === "unreachable")
      throw new OciError("UNAVAILABLE", "origin registry unreachable: the credentials cannot be checked");
  }

  private async manifest(
    req: IncomingMessage,
    res: ServerResponse,
    m: Extract<DistributionPath, { kind: "manifest" }> & {
      upstream: Upstream;
      credentials: ClientCredentials;
      method: "GET" | "HEAD";
    },
  ): Promise<void> {
    const manifest = await this.deps.authorizer.manifest({
      upstream: m.upstream,
      repo: m.repo,
      reference: m.reference,
      isDigest: m.isDigest,
      credentials: m.credentials,
      method: m.method,
      accept: req.headers.accept,
    });
    res.writeHead(200, {
      ...API_VERSION_HEADER,
      "content-type": manifest.contentType,
      "content-length": manifest.size,
      ...(manifest.digest ? { "docker-content-digest": manifest.digest } : {}),
    });
    res.end(m.method === "HEAD" ? undefined : manifest.body);
  }

  private async blob(
    req: IncomingMessage,
    res: ServerResponse,
    b: Extract<DistributionPath, { kind: "blob" }> & {
      upstream: Upstream;
      credentials: ClientCredentials;
      method: "GET" | "HEAD";
    },
  ): Promise<void> {
    const granted = await this.deps.authorizer.blob(b.upstream, b.repo, b.digest, b.credentials);
    const size = (await this.deps.blobs.cachedSize(b.digest)) ?? granted.size ?? (await this.originSize(b));
    const span = resolveRange(req.headers.range, size);
    writeBlobHead(res, b.digest, size, span);
    if (b.method === "HEAD") {
      res.end();
      return;
    }
    const blob = await this.deps.blobs.open({ ...b, size });
    const socket = res.socket; // detached from res once the response finishes
    const sentBefore = socket?.bytesWritten ?? 0;
    try {
      await sendSlices(res, blob.slices, span ?? { start: 0, end: size - 1 });
    } finally {
      await blob.slices.close();
      // Counted once per response from the socket, not per chunk: this is the hot path.
      const sent = (socket?.bytesWritten ?? sentBefore) - sentBefore;
      const delivered = Math.min(sent, span ? spanLength(span) : size);
      for (const [source, bytes] of splitBySource(blob, delivered)) this.deps.onBlobBytes?.(source, bytes);
    }
  }

  private async originSize(b: {
    upstream: Upstream;
    repo: string;
    digest: string;
    credentials: ClientCredentials;
  }) {
    try {
      return await this.deps.client.headBlob(b.upstream, b.repo, b.digest, b.credentials);
    } catch (err) {
      throw originErrorToOci(err, "blob");
    }
  }
}

function writeBlobHead(res: ServerResponse, digest: string, size: number, span: ByteSpan | undefined): void {
  const headers = {
    ...API_VERSION_HEADER,
    "content-type": "application/octet-stream",
    "docker-content-digest": digest,
    "accept-ranges": "bytes",
    etag: `"${digest}"`,
    "content-length": span ? spanLength(span) : size,
    ...(span ? { "content-range": contentRange(span, size) } : {}),
  };
  res.writeHead(span ? 206 : 200, headers);
}
