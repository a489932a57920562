/**
 * Tracker scale-out (DESIGN 2.5): several tracker replicas, each blob's swarm on exactly one of them,
 * chosen by rendezvous (highest random weight) hashing of the digest over the replica URLs. Every
 * agent computes the same choice from the same list, so members of a swarm meet at the same replica,
 * and adding or removing a replica moves only the swarms that hashed to it.
 */
import { createHash } from "node:crypto";
import type { AnnounceRequest, AnnounceResponse } from "../../../protocol/tracker-api";
import type { TrackerApi } from "./tracker-client";

export interface ClosableTracker extends TrackerApi {
  close(): Promise<void>;
}

/** The replica for `digest`: the URL with the highest sha256(url + "\n" + digest). */
export function rendezvousPick(urls: readonly string[], digest: string): number {
  let best = -1;
  let bestWeight = "";
  urls.forEach((url, i) => {
    const weight = createHash("sha256").update(`${url}\n${digest}`).digest("hex");
    if (best < 0 || weight > bestWeight) {
      best = i;
      bestWeight = weight;
    }
  });
  if (best < 0) throw new RangeError("no tracker URLs");
  return best;
}

export class ShardedTracker implements ClosableTracker {
  constructor(
    private readonly urls: readonly string[],
    private readonly clients: readonly ClosableTracker[],
  ) {
    if (urls.length === 0 || urls.length !== clients.length)
      throw new RangeError("one client per tracker URL, at least one");
  }

  announce(body: AnnounceRequest): Promise<AnnounceResponse> {
    return this.clients[rendezvousPick(this.urls, body.digest)].announce(body);
  }

  /** Leaving one swarm asks its replica; leaving all asks every replica. */
  async leave(peerId: string, digest?: string): Promise<void> {
    if (digest !== undefined) return this.clients[rendezvousPick(this.urls, digest)].leave(peerId, digest);
    await Promise.all(this.clients.map(client => client.leave(peerId)));
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map(client => client.close()));
  }
}
