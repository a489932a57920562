/**
 * What the origin confirmed it would serve: (credential fingerprint, registry/repo, digest) triples,
 * each with when it was confirmed and the blob size it told (DESIGN 2.2). A cached blob is served for
 * a triple confirmed within authTTL; with offline grace, for a triple confirmed within the grace.
 * One LRU over all triples bounds memory however many credentials and manifests pass through.
 * Time is passed in; the book holds no timers.
 */
import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";

export interface Grant {
  confirmedAt: number;
  /** Size of the blob when the manifest descriptor or HEAD told it. */
  size?: number;
}

/**
 * About 200 bytes each with their LRU bookkeeping (and as much again as garbage once evicted):
 * 20,000 triples hold about 4 MB. A node pulls far fewer distinct (credential, repository, layer)
 * triples within authTTL (100 pods, each with its own pull secret and a 50-layer image, are 5,000);
 * an evicted triple only costs its next request a HEAD.
 */
export const DEFAULT_MAX_GRANTS = 20_000;

export class GrantBook {
  private readonly triples: LRUCache<string, Grant>;

  constructor(
    private readonly ttlMs: number,
    maxTriples = DEFAULT_MAX_GRANTS,
  ) {
    if (!(ttlMs > 0)) throw new RangeError("GrantBook: ttlMs must be positive");
    if (!(maxTriples >= 1)) throw new RangeError("GrantBook: maxTriples must be at least 1");
    this.triples = new LRUCache({ max: maxTriples });
  }

  grant(fingerprint: string, scope: string, digests: { digest: string; size?: number }[], now: number): void {
    const pair = pairId(fingerprint, scope);
    for (const { digest, size } of digests)
      this.triples.set(tripleKey(pair, digest), { confirmedAt: now, size });
  }

  /** The grant for exactly this triple, when the origin confirmed it within authTTL. */
  lookup(fingerprint: string, scope: string, digest: string, now: number): Grant | undefined {
    return this.confirmedWithin(fingerprint, scope, digest, this.ttlMs, now);
  }

  /** The grant for exactly this triple, when the origin confirmed it within `withinMs`. */
  confirmedWithin(
    fingerprint: string,
    scope: string,
    digest: string,
    withinMs: number,
    now: number,
  ): Grant | undefined {
    const grant = this.triples.get(tripleKey(pairId(fingerprint, scope), digest));
    return grant && now - grant.confirmedAt < withinMs ? grant : undefined;
  }

  /** Drops grants confirmed longer than `keepMs` ago; call from a periodic sweep. */
  sweep(now: number, keepMs: number): void {
    for (const [key, grant] of this.triples.entries())
      if (now - grant.confirmedAt >= keepMs) this.triples.delete(key);
  }

  get size(): number {
    return this.triples.size;
  }
}

/**
 * The (credential, repository) pair as 96 bits of SHA-256 over its length-prefixed fields (so no
 * choice of fields collides with another pair's), then 128 bits of the digest: 48 characters per
 * key, one hash per grant call rather than per digest, and no collision short of breaking SHA-256.
 */
function pairId(fingerprint: string, scope: string): string {
  return createHash("sha256")
    .update(`${fingerprint.length}:${fingerprint}${scope}`)
    .digest("base64url")
    .slice(0, 16);
}

function tripleKey(pair: string, digest: string): string {
  return pair + digest.slice(digest.indexOf(":") + 1, digest.indexOf(":") + 33);
}
