/**
 * GET /v2/<name>/tags/list and GET /v2/<name>/referrers/<digest>: sequencing only. Always asked of
 * the origin with the caller's credentials (the origin decides, nothing is served from the cache),
 * bodies bounded, pagination links pointed back at the agent in the caller's naming.
 */
import type { ServerResponse } from "node:http";
import type { DistributionPath } from "../../../protocol/distribution-path";
import { OciError } from "../../../protocol/oci-error";
import type { ClientCredentials } from "../credentials/client-credentials";
import { isOriginVerdict } from "../access/origin-verdict";
import type { Upstream } from "../../../protocol/agent-config";
import { listingErrorToOci, ListingKind } from "../listing/listing-errors";
import { agentNextLink, ListingTarget, originNextQuery } from "../listing/next-link";
import {
  emptyReferrersIndex,
  INDEX_MEDIA_TYPE,
  originFilteredByArtifactType,
  parseIndex,
  ReferrersIndex,
  referrersFromIndex,
  referrersTag,
} from "../listing/referrers-index";
import { tagsPage } from "../listing/tags-page";
import { UpstreamStatusError, UpstreamUnreachableError } from "../upstream/errors";
import type { UpstreamClient } from "../upstream/upstream-client";
import { API_VERSION_HEADER } from "./respond";

/** A distribution 2.8 origin answers the whole list at once: ~300k tags. */
const MAX_TAGS_BYTES = 8 * 1024 * 1024;
const MAX_REFERRERS_BYTES = 4 * 1024 * 1024;

export interface ListingHandlerDeps {
  client: Pick<UpstreamClient, "listing" | "manifest">;
  onDecision?: (decision: "origin" | "denied" | "unreachable") => void;
}

type Listing<K extends ListingKind> = Extract<DistributionPath, { kind: K }> & {
  upstream: Upstream;
  credentials: ClientCredentials;
  method: "GET" | "HEAD";
};

export class ListingHandler {
  constructor(private readonly deps: ListingHandlerDeps) {}

  async handle(res: ServerResponse, listing: Listing<"tags"> | Listing<"referrers">): Promise<void> {
    if (listing.method !== "GET")
      throw new OciError("UNSUPPORTED", `${listing.method} is not supported on ${listing.kind}: use GET`);
    try {
      if (listing.kind === "tags") await this.tags(res, listing);
      else await this.referrers(res, listing);
      this.deps.onDecision?.("origin");
    } catch (err) {
      if (isOriginVerdict(err)) this.deps.onDecision?.("denied");
      else if (err instanceof UpstreamUnreachableError) this.deps.onDecision?.("unreachable");
      throw listingErrorToOci(err, listing.kind) ?? err;
    }
  }

  private async tags(res: ServerResponse, t: Listing<"tags">): Promise<void> {
    const originPath = `/v2/${t.repo}/tags/list`;
    const origin = await this.deps.client.listing(
      t.upstream,
      t.repo,
      withQuery(originPath, t.query),
      t.credentials,
      "application/json",
      MAX_TAGS_BYTES,
    );
    const page = tagsPage(origin.body, t, originNextQuery(origin.link, originPath));
    const link = page.next && agentNextLink(target(t, "tags/list"), page.next);
    send(res, "application/json", page.body, { ...(link ? { link } : {}) });
  }

  private async referrers(res: ServerResponse, r: Listing<"referrers">): Promise<void> {
    const originPath = `/v2/${r.repo}/referrers/${r.digest}`;
    let answer: ReferrersIndex;
    let next: URLSearchParams | undefined;
    try {
      const origin = await this.deps.client.listing(
        r.upstream,
        r.repo,
        withQuery(originPath, r.query),
        r.credentials,
        INDEX_MEDIA_TYPE,
        MAX_REFERRERS_BYTES,
      );
      const index = parseIndex(origin.body);
      if (!index)
        throw new OciError("UNKNOWN", "origin referrers answer is not an image index", undefined, 502);
      answer = referrersFromIndex(
        origin.body,
        index,
        r.artifactType,
        originFilteredByArtifactType(origin.filtersApplied),
      );
      next = originNextQuery(origin.link, originPath);
    } catch (err) {
      // A registry with the referrers API never answers 404 to it: this one has no such API.
      if (!(err instanceof UpstreamStatusError && err.statusCode === 404)) throw err;
      answer = await this.fallbackTag(r);
    }
    const link = next && agentNextLink(target(r, `referrers/${r.digest}`), next);
    send(res, INDEX_MEDIA_TYPE, answer.body, {
      ...(link ? { link } : {}),
      ...(answer.filtered ? { "oci-filters-applied": "artifactType" } : {}),
    });
  }

  /** The spec's fallback for registries without the API: the index tagged `<alg>-<ref>`, if any. */
  private async fallbackTag(r: Listing<"referrers">): Promise<ReferrersIndex> {
    try {
      const tagged = await this.deps.client.manifest(
        r.upstream,
        r.repo,
        referrersTag(r.digest),
        r.credentials,
        "GET",
        INDEX_MEDIA_TYPE,
      );
      const body = tagged.body ?? Buffer.alloc(0);
      const index = parseIndex(body);
      // Something else under that tag is not a referrers list: there are none to report.
      return index
        ? referrersFromIndex(body, index, r.artifactType, false)
        : emptyReferrersIndex(r.artifactType);
    } catch (err) {
      if (!(err instanceof UpstreamStatusError && err.statusCode === 404 && err.ociCode !== "NAME_UNKNOWN"))
        throw err;
    }
    // distribution answers MANIFEST_UNKNOWN for a tag of a repository it does not have either.
    if (!(await this.repositoryExists(r)))
      throw new OciError("NAME_UNKNOWN", "repository name not known to the origin registry");
    return emptyReferrersIndex(r.artifactType);
  }

  /** One tag is enough to know the repository exists; anything but a 404 is taken as yes. */
  private async repositoryExists(r: Listing<"referrers">): Promise<boolean> {
    try {
      await this.deps.client.listing(
        r.upstream,
        r.repo,
        `/v2/${r.repo}/tags/list?n=1`,
        r.credentials,
        "application/json",
        MAX_TAGS_BYTES,
      );
      return true;
    } catch (err) {
      return !(err instanceof UpstreamStatusError && err.statusCode === 404);
    }
  }
}

function target(l: Listing<ListingKind>, endpoint: string): ListingTarget {
  return { naming: l.naming, registry: l.registry, repo: l.repo, endpoint };
}

function withQuery(path: string, query: string): string {
  return query ? `${path}?${query}` : path;
}

function send(res: ServerResponse, contentType: string, body: Buffer, extra: Record<string, string>): void {
  res.writeHead(200, {
    ...API_VERSION_HEADER,
    "content-type": contentType,
    "content-length": body.length,
    ...extra,
  });
  res.end(body);
}
