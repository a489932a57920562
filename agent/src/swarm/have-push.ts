/**
 * The HAVE push (protocol/peer-wire.ts): when a download gains a piece (from a peer, or the
 * tracker's signature on one from its origin lease), it tells up to
 * HAVE_PUSH_PEERS of the peers it knows that lack something it can serve, so they see a new holder
 * at once instead of at their next tracker answer (every 1-5 s under load) or their next request to
 * it. Fire and forget: a push that fails costs nothing (no failure counted, no retry), and a peer
 * with a push still in flight is skipped (the next push carries the whole HAVE anyway).
 */
import type { Asker } from "../../../protocol/peer-wire";
import type { HavePushResult } from "../metrics";
import type { PeerApi } from "../peer/peer-client";
import type { KnownPeer } from "./swarm-view";

/**
 * Peers told of each piece gained. The simulation, 1,000 nodes at a 5 s announce interval (as
 * 10,000 get it): no push 2.23 S/B at p99, 8 peers 2.03, 16 peers 1.90, 32 peers 1.97 (BENCHMARKS.md).
 */
export const HAVE_PUSH_PEERS = 16;

export class HavePush {
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly peers: Pick<PeerApi, "pushHave">,
    private readonly digest: string,
    private readonly counted: (result: HavePushResult) => void = () => undefined,
  ) {}

  /** Pushes `asker` (this node: id, address, servable HAVE) to each target not already being told. */
  push(targets: readonly KnownPeer[], asker: Asker): void {
    for (const peer of targets) {
      if (this.inFlight.has(peer.id)) continue;
      this.inFlight.add(peer.id);
      this.peers
        .pushHave(peer.address, this.digest, asker)
        .then(
          () => this.counted("sent"),
          () => this.counted("failed"),
        )
        .finally(() => this.inFlight.delete(peer.id));
    }
  }

  get pending(): number {
    return this.inFlight.size;
  }
}
