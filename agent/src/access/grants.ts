/**
 * What the origin confirmed it would serve: (credential fingerprint, registry/repo, digest) triples,
 * each with when it was confirmed and the blob size it told (DESIGN 2.2). A cached blob is served for
 * a triple confirmed within authTTL; with offline grace, for a triple confirmed within the grace.
 * One LRU over all triples bounds memory however many credentials and manifests pass through.
 * Time is passed in; the book holds no timers.
 */
import { LRUCache } from "lru-cache";

export interface Grant {
  confirmedAt: number;
  /** Size of the blob when the manifest descriptor or HEAD told it. */
  size?: number;
}

/** ~300 bytes each: 100,000 triples hold about 30 MB. */
export const DEFAULT_MAX_GRANTS = 100_000;

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
    for (const { digest, size } of digests)
      this.triples.set(tripleKey(fingerprint, scope, digest), { confirmedAt: now, size });
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
    const grant = this.triples.get(tripleKey(fingerprint, scope, digest));
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

/** Length-prefixed, so no choice of fields can collide with another triple's key. */
function tripleKey(fingerprint: string, scope: string, digest: string): string {
  return `${fingerprint.length}:${fingerprint}${scope.length}:${scope}${digest}`;
}
