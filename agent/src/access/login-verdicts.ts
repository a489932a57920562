/**
 * `GET /v2/` with credentials: does any accelerated origin (or the one `?ns=` names) accept them?
 * A login against the agent then tells the truth instead of always succeeding. Verdicts are cached
 * per (credential fingerprint, registry) for authTTL in a bounded LRU; "cannot ask" is not cached.
 */
import { LRUCache } from "lru-cache";
import type { Upstream } from "../../../protocol/agent-config";
import type { UpstreamClient } from "../upstream/upstream-client";
import type { ClientCredentials } from "../credentials/client-credentials";

export type LoginVerdict = "accepted" | "rejected" | "unreachable";

interface Cached {
  accepted: boolean;
  at: number;
}

export class LoginVerdicts {
  private readonly cache: LRUCache<string, Cached>;

  constructor(
    private readonly client: Pick<UpstreamClient, "acceptsCredentials">,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    maxEntries = 10_000,
  ) {
    this.cache = new LRUCache({ max: maxEntries });
  }

  /** Accepted when any of `upstreams` accepts; unreachable when none accepted and one could not be asked. */
  async check(credentials: ClientCredentials, upstreams: readonly Upstream[]): Promise<LoginVerdict> {
    const verdicts = await Promise.all(upstreams.map(upstream => this.checkOne(credentials, upstream)));
    if (verdicts.includes("accepted")) return "accepted";
    return verdicts.includes("unreachable") ? "unreachable" : "rejected";
  }

  private async checkOne(credentials: ClientCredentials, upstream: Upstream): Promise<LoginVerdict> {
    const key = `${credentials.fingerprint}\u0000${upstream.host}`;
    const cached = this.cache.get(key);
    if (cached && this.now() - cached.at < this.ttlMs) return cached.accepted ? "accepted" : "rejected";
    try {
      const accepted = await this.client.acceptsCredentials(upstream, credentials);
      this.cache.set(key, { accepted, at: this.now() });
      return accepted ? "accepted" : "rejected";
    } catch {
      return "unreachable";
    }
  }
}
