/**
 * Which digests a (credential fingerprint, registry/repo) pair may read, learned from manifests
 * the origin served to that pair or from a successful HEAD, each until an expiry. Time is passed in;
 * the book holds no timers. Bounded: the oldest pairs are dropped past `maxPairs`.
 */

export interface Grant {
  expiresAt: number;
  /** Size of the blob when the manifest descriptor or HEAD told it. */
  size?: number;
}

interface PairRecord {
  digests: Map<string, Grant>;
  lastAuthorizedAt: number;
}

export class GrantBook {
  private readonly pairs = new Map<string, PairRecord>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxPairs = 10_000,
    private readonly maxDigestsPerPair = 10_000,
  ) {}

  grant(fingerprint: string, scope: string, digests: { digest: string; size?: number }[], now: number): void {
    const key = pairKey(fingerprint, scope);
    const record = this.pairs.get(key) ?? { digests: new Map(), lastAuthorizedAt: now };
    this.pairs.delete(key); // re-insert so Map order stays least-recently-authorized first
    record.lastAuthorizedAt = now;
    for (const { digest, size } of digests) {
      record.digests.delete(digest);
      record.digests.set(digest, { expiresAt: now + this.ttlMs, size });
    }
    trimOldest(record.digests, this.maxDigestsPerPair);
    this.pairs.set(key, record);
    trimOldest(this.pairs, this.maxPairs);
  }

  /** The live grant for this digest, if any. */
  lookup(fingerprint: string, scope: string, digest: string, now: number): Grant | undefined {
    const grant = this.pairs.get(pairKey(fingerprint, scope))?.digests.get(digest);
    return grant && grant.expiresAt > now ? grant : undefined;
  }

  /** True when the pair was authorized by the origin within `graceMs` (for the offline rule). */
  authorizedWithin(fingerprint: string, scope: string, graceMs: number, now: number): boolean {
    const record = this.pairs.get(pairKey(fingerprint, scope));
    return record !== undefined && now - record.lastAuthorizedAt <= graceMs;
  }

  /** Drops expired grants; call from a periodic sweep. */
  sweep(now: number, keepPairsForMs: number): void {
    for (const [key, record] of this.pairs) {
      for (const [digest, grant] of record.digests) if (grant.expiresAt <= now) record.digests.delete(digest);
      if (record.digests.size === 0 && now - record.lastAuthorizedAt > keepPairsForMs) this.pairs.delete(key);
    }
  }
}

function pairKey(fingerprint: string, scope: string): string {
  return `${fingerprint}\u0000${scope}`;
}

function trimOldest<K, V>(map: Map<K, V>, max: number): void {
  for (const key of map.keys()) {
    if (map.size <= max) return;
    map.delete(key);
  }
}
