/**
 * A short memory of digests the origin said it does not have (404), per (credential fingerprint,
 * registry/repo, digest), so a client asking again and again for a missing blob or manifest costs
 * one origin request per UNKNOWN_TTL_MS instead of one each time. Short, because the digest may be
 * pushed a moment later; per credential, because some registries answer 404 for "not yours".
 */
import { LRUCache } from "lru-cache";

export const UNKNOWN_TTL_MS = 10_000;

export class UnknownDigests {
  private readonly seen: LRUCache<string, number>;

  constructor(
    private readonly ttlMs = UNKNOWN_TTL_MS,
    maxEntries = 10_000,
  ) {
    this.seen = new LRUCache({ max: maxEntries });
  }

  remember(fingerprint: string, scope: string, digest: string, now: number): void {
    this.seen.set(keyOf(fingerprint, scope, digest), now);
  }

  /** True while the origin's 404 for exactly this triple is fresh. */
  isUnknown(fingerprint: string, scope: string, digest: string, now: number): boolean {
    const at = this.seen.get(keyOf(fingerprint, scope, digest));
    return at !== undefined && now - at < this.ttlMs;
  }
}

function keyOf(fingerprint: string, scope: string, digest: string): string {
  return `${fingerprint.length}:${fingerprint}${scope.length}:${scope}${digest}`;
}
