/**
 * DESIGN 2.2: no byte of a repository reaches a request unless the origin confirmed, within authTTL,
 * that the request's credentials may read exactly that (repository, digest). Manifests are always
 * proxied (the origin decides), and an image manifest's config and layers are granted to the
 * request's (credential, repository) because registries verify them on push (manifest-references.ts);
 * any other blob costs one HEAD at the origin with the same credentials.
 */
import { createHash } from "node:crypto";
import { OciError } from "../../../protocol/oci-error";
import { Upstream } from "../../../protocol/agent-config";
import { UpstreamStatusError } from "../upstream/errors";
import { ManifestResult, UpstreamClient } from "../upstream/upstream-client";
import { ClientCredentials } from "../credentials/client-credentials";
import { GrantBook } from "./grants";
import { UnknownDigests } from "./unknown-digests";
import { manifestReferences } from "./manifest-references";
import { isOriginVerdict, originErrorToOci } from "./origin-verdict";

export type AuthDecision = "grant" | "origin" | "offline" | "denied" | "unreachable";

export interface AuthorizerDeps {
  grants: GrantBook;
  /** Digests the origin recently said it lacks; absent = ask every time. */
  unknown?: UnknownDigests;
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
    const scope = scopeOf(req.upstream, req.repo);
    const fingerprint = req.credentials.fingerprint;
    if (req.isDigest && this.deps.unknown?.isUnknown(fingerprint, scope, req.reference, this.now()))
      throw new OciError("MANIFEST_UNKNOWN", "manifest unknown to the origin registry");
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
      if (req.isDigest && isNotFound(err))
        this.deps.unknown?.remember(fingerprint, scope, req.reference, this.now());
      throw originErrorToOci(err, "manifest");
    }
    const digest = manifestDigest(req, result);
    const references = result.body ? manifestReferences(result.body, result.contentType) : [];
    this.deps.grants.grant(fingerprint, scope, references, this.now());
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
    if (this.deps.unknown?.isUnknown(credentials.fingerprint, scope, digest, this.now())) {
      this.deps.onDecision?.("denied");
      throw new OciError("BLOB_UNKNOWN", "blob unknown to the origin registry");
    }
    try {
      const size = await this.deps.client.headBlob(upstream, repo, digest, credentials);
      this.deps.grants.grant(credentials.fingerprint, scope, [{ digest, size }], this.now());
      this.deps.onDecision?.("origin");
      return { size };
    } catch (err) {
      if (isOriginVerdict(err)) {
        this.deps.onDecision?.("denied");
        if (isNotFound(err)) this.deps.unknown?.remember(credentials.fingerprint, scope, digest, this.now());
        throw originErrorToOci(err, "blob");
      }
      const grace = this.deps.offlineGraceMs;
      const confirmed =
        grace > 0
          ? this.deps.grants.confirmedWithin(credentials.fingerprint, scope, digest, grace, this.now())
          : undefined;
      if (confirmed) {
        this.deps.onDecision?.("offline");
        return { size: confirmed.size };
      }
      this.deps.onDecision?.("unreachable");
      throw new OciError("UNAVAILABLE", "origin registry unreachable: access cannot be verified");
    }
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof UpstreamStatusError && err.statusCode === 404;
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
