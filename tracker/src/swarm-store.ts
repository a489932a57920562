/**
 * In-memory soft state: swarms by blob digest, their members (with a TTL), bitfields, piece hashes
 * and origin leases. Nothing is persisted; after a restart the state rebuilds from announces.
 * No timers: callers pass the time (`sweep(now)`), so tests drive the clock.
 */
import type { Lease } from "./lease-policy";
import { countPieces, emptyBitfield, unionOf } from "./bitfield";

export interface Member {
  peerId: string;
  address: string;
  have: Uint8Array;
  haveCount: number;
  complete: boolean;
  lastSeen: number;
}

export interface Swarm {
  digest: string;
  size: number;
  pieceSize: number;
  pieceCount: number;
  members: Map<string, Member>;
  hashes: Map<number, string>;
  leases: Lease[];
  /** Hash reports that disagreed with the first one recorded for a piece. */
  hashConflicts: number;
}

export interface SwarmStoreOptions {
  peerTtlMs: number;
  /**
   * A member still downloading announces every second or so; one silent this long has died or lost
   * the tracker, so its pieces stop counting as held and its lease goes to someone else. Default:
   * peerTtlMs.
   */
  leecherTtlMs?: number;
}

export class SwarmStore {
  private readonly swarms = new Map<string, Swarm>();

  constructor(private readonly options: SwarmStoreOptions) {
    if (!(options.peerTtlMs > 0)) throw new RangeError("peerTtlMs must be positive");
    if (options.leecherTtlMs !== undefined && !(options.leecherTtlMs > 0))
      throw new RangeError("leecherTtlMs must be positive");
  }

  private ttlOf(member: Member): number {
    if (member.complete) return this.options.peerTtlMs;
    return Math.min(this.options.peerTtlMs, this.options.leecherTtlMs ?? this.options.peerTtlMs);
  }

  get(digest: string): Swarm | undefined {
    return this.swarms.get(digest);
  }

  /** The swarm for `digest`, created with this size and piece size when it is new. */
  ensure(digest: string, size: number, pieceSize: number): Swarm {
    let swarm = this.swarms.get(digest);
    if (!swarm) {
      const pieceCount = Math.ceil(size / pieceSize);
      swarm = {
        digest,
        size,
        pieceSize,
        pieceCount,
        members: new Map(),
        hashes: new Map(),
        leases: [],
        hashConflicts: 0,
      };
      this.swarms.set(digest, swarm);
    }
    return swarm;
  }

  /** Records a member's state; returns how many pieces it holds that it did not hold before. */
  upsertMember(swarm: Swarm, update: Omit<Member, "haveCount">): number {
    const before = swarm.members.get(update.peerId);
    const haveCount = countPieces(update.have);
    swarm.members.set(update.peerId, { ...update, haveCount });
    return Math.max(0, haveCount - (before?.haveCount ?? 0));
  }

  /** First report wins; a disagreeing later report is counted, not stored. */
  recordHashes(swarm: Swarm, hashes: Record<number, string>): void {
    for (const [index, hash] of Object.entries(hashes)) {
      const known = swarm.hashes.get(Number(index));
      if (known === undefined) swarm.hashes.set(Number(index), hash);
      else if (known !== hash) swarm.hashConflicts++;
    }
  }

  /** Union of live members' bitfields. */
  held(swarm: Swarm): Uint8Array {
    if (swarm.members.size === 0) return emptyBitfield(swarm.pieceCount);
    return unionOf(
      [...swarm.members.values()].map(member => member.have),
      swarm.pieceCount,
    );
  }

  removeMember(peerId: string, digest?: string): number {
    let removed = 0;
    const targets = digest
      ? [this.swarms.get(digest)].filter(s => s !== undefined)
      : [...this.swarms.values()];
    for (const swarm of targets) {
      if (!swarm.members.delete(peerId)) continue;
      removed++;
      swarm.leases = swarm.leases.filter(lease => lease.holder !== peerId);
      if (swarm.members.size === 0) this.swarms.delete(swarm.digest);
    }
    return removed;
  }

  /**
   * Forgets members silent for their TTL (peerTtl for seeders, leecherTtl for members still
   * downloading) and their leases, then empty swarms; one swarm or all.
   */
  sweep(now: number, digest?: string): { peers: number; swarms: number } {
    let peers = 0;
    let swarms = 0;
    const targets = digest === undefined ? [...this.swarms.values()] : [this.swarms.get(digest)];
    for (const swarm of targets) {
      if (!swarm) continue;
      for (const member of swarm.members.values()) {
        if (now - member.lastSeen < this.ttlOf(member)) continue;
        swarm.members.delete(member.peerId);
        swarm.leases = swarm.leases.filter(lease => lease.holder !== member.peerId);
        peers++;
      }
      if (swarm.members.size === 0) {
        this.swarms.delete(swarm.digest);
        swarms++;
      }
    }
    return { peers, swarms };
  }

  counts(): { swarms: number; peers: number; leases: number } {
    let peers = 0;
    let leases = 0;
    for (const swarm of this.swarms.values()) {
      peers += swarm.members.size;
      leases += swarm.leases.length;
    }
    return { swarms: this.swarms.size, peers, leases };
  }
}
