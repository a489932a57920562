/**
 * The tracker's own announce logic (tracker/src/announce.ts, SwarmStore, real Ed25519 proofs) behind
 * the agent's TrackerApi, in the test's process: for unit tests of the swarm runner that need a real
 * tracker's answers without a process and sockets. `down` makes every call fail as an unreachable
 * tracker does.
 */
import type { AnnounceRequest, AnnounceResponse } from "../../protocol/tracker-api";
import type { TrackerApi } from "../../agent/src/swarm/tracker-client";
import { announce, type AnnounceOptions } from "../../tracker/src/announce";
import { createProofSigner } from "../../tracker/src/proof-signer";
import { SwarmStore } from "../../tracker/src/swarm-store";

export interface InProcessTracker extends TrackerApi {
  readonly announces: AnnounceRequest[];
  down: boolean;
}

export function inProcessTracker(options: Partial<AnnounceOptions> = {}): InProcessTracker {
  const store = new SwarmStore({ peerTtlMs: 60_000, leecherTtlMs: 10_000 });
  const signer = createProofSigner();
  const settings: AnnounceOptions = {
    leaseTimeoutMs: 30_000,
    maxOriginStreams: 4,
    announceIntervalMs: 15_000,
    maxPeers: 48,
    ...options,
  };
  const tracker: InProcessTracker = {
    announces: [],
    down: false,
    async announce(request: AnnounceRequest): Promise<AnnounceResponse> {
      if (tracker.down) throw new Error("connect ECONNREFUSED (in-process tracker is down)");
      tracker.announces.push(request);
      return announce(store, request, settings, signer, Date.now(), request.address).response;
    },
    async leave(): Promise<void> {
      if (tracker.down) throw new Error("connect ECONNREFUSED (in-process tracker is down)");
    },
  };
  return tracker;
}
