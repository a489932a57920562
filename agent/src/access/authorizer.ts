/**
 * DESIGN 2.2: no byte of a repository reaches a request unless the origin confirmed, within authTTL,
 * that the request's credentials may read it. Manifests are always proxied (the origin decides and
 * the digests they reference are granted); a blob outside the grants costs one HEAD at the origin.
 */
import { createHash } from "node:crypto";
import { OciError } from "../../../protocol/oci-error";
import { Upstream } from "../../../protocol/agent-config";
import { ManifestResult, UpstreamClient } from "../upstream/upstream-client";
import { ClientCredentials } from "./credentials";
import { GrantBook } from "./grants";
import { manifestReferences } from "./manifest-references";
import { isOriginVerdict, originErrorToOci } from "./origin-verdict";

export type AuthDecision = "grant" | "origin" | "offline" | "denied" | "unreachable";

export interface AuthorizerDeps {
  grants: GrantBook;
  client: Pick<UpstreamClient, "manifest" | "headBlob">;
  offlineGraceMs: number;
  now?: () => number;
  onDecision?: (decision: AuthDecision) => void;
}

export interface ManifestRequest {
  upstream: Upstream;
  repo: string;
  reference: string;
  isDigest: boolean;
  credentials: ClientCredentials;
  method: "GET" | "HEAD";
  accept?: string;
}

export interface VerifiedManifest extends ManifestResult {
  digest: string;
}

export class Authorizer {
  private readonly now: () => number;

  constructor(private readonly deps: AuthorizerDeps) {
    this.now = deps.now ?? Date.now;
  }

  async manifest(req: ManifestRequest): Promise<VerifiedManifest> {
    let result: ManifestResult;
    try {
      result = await this.deps.client.manifest(
        req.upstream,
        req.repo,
        req.reference,
        req.credentials,
        req.method,
        req.accept,
      );
    } catch (err) {
      this.deps.onDecision?.(isOriginVerdict(err) ? "denied" : "unreachable");
      throw originErrorToOci(err, "manifest");
    }
    const digest = manifestDigest(req, result);
    const references = result.body ? manifestReferences(result.body) : [];
    this.deps.grants.grant(
      req.credentials.fingerprint,
      scopeOf(req.upstream, req.repo),
      [{ digest, size: result.size }, ...references],
      this.now(),
    );
    this.deps.onDecision?.("origin");
    return { ...result, digest };
  }

  /** Resolves with the blob size when known; throws the OciError to answer otherwise. */
  async blob(
    upstream: Upstream,
    repo: string,
    digest: string,
    credentials: ClientCredentials,
  ): Promise<{ size?: number }> {
    const scope = scopeOf(upstream, repo);
    const grant = this.deps.grants.lookup(credentials.fingerprint, scope, digest, this.now());
    if (grant) {
      this.deps.onDecision?.("grant");
      return { size: grant.size };
    }
    try {
      const size = await this.deps.client.headBlob(upstream, repo, digest, credentials);
      this.deps.grants.grant(credentials.fingerprint, scope, [{ digest, size }], this.now());
      this.deps.onDecision?.("origin");
      return { size };
    } catch (err) {
      if (isOriginVerdict(err)) {
        this.deps.onDecision?.("denied");
        throw originErrorToOci(err, "blob");
      }
      const grace = this.deps.offlineGraceMs;
      if (grace > 0 && this.deps.grants.authorizedWithin(credentials.fingerprint, scope, grace, this.now())) {
        this.deps.onDecision?.("offline");
        return {};
      }
      this.deps.onDecision?.("unreachable");
      throw new OciError("UNAVAILABLE", "origin registry unreachable: access cannot be verified");
    }
  }
}

export function scopeOf(upstream: Upstream, repo: string): string {
  return `${upstream.host}/${repo}`;
}

function manifestDigest(req: ManifestRequest, result: ManifestResult): string {
  if (!result.body) return req.isDigest ? req.reference : (result.digestHeader ?? "");
  const computed = "sha256:" + createHash("sha256").update(result.body).digest("hex");
  if (req.isDigest && computed !== req.reference)
    throw new OciError(
      "MANIFEST_INVALID",
      "origin manifest does not match the requested digest",
      undefined,
      502,
    );
  return computed;
}
