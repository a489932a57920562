/**
 * In-memory soft state: swarms by blob digest, their members (with a TTL), bitfields, piece hashes
 * and origin leases. Nothing is persisted; after a restart the state rebuilds from announces.
 * No timers: callers pass the time (`sweep(now)`), so tests drive the clock.
 *
 * Bounded: every swarm and member is charged an estimate of the bytes it holds against
 * `maxStateBytes`; a new swarm or member past the budget is refused (TRACKER_FULL, and the agent
 * fetches from the origin), so a token holder announcing many large blobs cannot grow the tracker
 * without limit. A peer id is bound to the source address it first announced from while it is a
 * member anywhere, so no one else can announce, take leases or leave in its name.
 */
import { TrackerError } from "../../protocol/tracker-api";
import type { Lease } from "./lease-policy";
import { countPieces, emptyBitfield, unionOf } from "./bitfield";
import { HASH_BYTES, PieceHashes } from "./piece-hashes";

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
  hashes: PieceHashes;
  leases: Lease[];
}

export interface SwarmStoreOptions {
  peerTtlMs: number;
  /**
   * A member still downloading announces every second or so; one silent this long has died or lost
   * the tracker, so its pieces stop counting as held and its lease goes to someone else. Default:
   * peerTtlMs.
   */
  leecherTtlMs?: number;
  /** Budget for the state's estimated bytes (default DEFAULT_MAX_STATE_BYTES). */
  maxStateBytes?: number;
}

export const DEFAULT_MAX_STATE_BYTES = 256 * 1024 * 1024;
/** Rough fixed costs of a swarm and a member (objects, map entries, strings) beyond their arrays. */
const SWARM_OVERHEAD_BYTES = 1024;
const MEMBER_OVERHEAD_BYTES = 400;

export class SwarmStore {
  private readonly swarms = new Map<string, Swarm>();
  /** peerId -> the source address it announces from, and in how many swarms it is a member. */
  private readonly owners = new Map<string, { source: string; swarms: number }>();
  private stateBytes = 0;
  private readonly maxStateBytes: number;

  constructor(private readonly options: SwarmStoreOptions) {
    if (!(options.peerTtlMs > 0)) throw new RangeError("peerTtlMs must be positive");
    if (options.leecherTtlMs !== undefined && !(options.leecherTtlMs > 0))
      throw new RangeError("leecherTtlMs must be positive");
    this.maxStateBytes = options.maxStateBytes ?? DEFAULT_MAX_STATE_BYTES;
    if (!(this.maxStateBytes > 0)) throw new RangeError("maxStateBytes must be positive");
  }

  private ttlOf(member: Member): number {
    if (member.complete) return this.options.peerTtlMs;
    return Math.min(this.options.peerTtlMs, this.options.leecherTtlMs ?? this.options.peerTtlMs);
  }

  get(digest: string): Swarm | undefined {
    return this.swarms.get(digest);
  }

  /**
   * Throws FORBIDDEN when `peerId` is a member somewhere and announced from another source address.
   * A peer id never seen, or forgotten everywhere, may be claimed by anyone with the token.
   */
  checkOwner(peerId: string, source: string): void {
    const owner = this.owners.get(peerId);
    if (owner && owner.source !== source)
      throw new TrackerError(
        "FORBIDDEN",
        `peerId: ${peerId} belongs to a member announcing from another address`,
      );
  }

  /** The swarm for `digest`, created with this size and piece size when it is new. */
  ensure(digest: string, size: number, pieceSize: number): Swarm {
    const existing = this.swarms.get(digest);
    if (existing) return existing;
    const pieceCount = Math.ceil(size / pieceSize);
    this.charge(swarmCost(pieceCount), `a new swarm of ${pieceCount} pieces`);
    const swarm: Swarm = {
      digest,
      size,
      pieceSize,
      pieceCount,
      members: new Map(),
      hashes: new PieceHashes(pieceCount),
      leases: [],
    };
    this.swarms.set(digest, swarm);
    return swarm;
  }

  /** Records a member's state (`source`: the address it announced from). */
  upsertMember(swarm: Swarm, update: Omit<Member, "haveCount">, source = update.address): void {
    this.checkOwner(update.peerId, source);
    const isNew = !swarm.members.has(update.peerId);
    if (isNew) {
      this.charge(memberCost(swarm.pieceCount), `a new member of a ${swarm.pieceCount}-piece swarm`);
      const owner = this.owners.get(update.peerId) ?? { source, swarms: 0 };
      owner.swarms++;
      this.owners.set(update.peerId, owner);
    }
    swarm.members.set(update.peerId, { ...update, haveCount: countPieces(update.have) });
  }

  recordHashes(swarm: Swarm, hashes: Record<number, string>): void {
    for (const [index, hash] of Object.entries(hashes)) swarm.hashes.record(Number(index), hash);
  }

  /** Union of live members' bitfields. */
  held(swarm: Swarm): Uint8Array {
    if (swarm.members.size === 0) return emptyBitfield(swarm.pieceCount);
    return unionOf(
      [...swarm.members.values()].map(member => member.have),
      swarm.pieceCount,
    );
  }

  /** Drops `peerId` from one swarm or all; `source` must be its owner's when given. */
  removeMember(peerId: string, digest?: string, source?: string): number {
    if (source !== undefined) this.checkOwner(peerId, source);
    let removed = 0;
    const targets = digest
      ? [this.swarms.get(digest)].filter(s => s !== undefined)
      : [...this.swarms.values()];
    for (const swarm of targets) if (this.dropMember(swarm, peerId)) removed++;
    return removed;
  }

  /**
   * Forgets members silent for their TTL (peerTtl for seeders, leecherTtl for members still
   * downloading) and their leases, then empty swarms; one swarm or all.
   */
  sweep(now: number, digest?: string): { peers: number; swarms: number } {
    let peers = 0;
    const before = this.swarms.size;
    const targets = digest === undefined ? [...this.swarms.values()] : [this.swarms.get(digest)];
    for (const swarm of targets) {
      if (!swarm) continue;
      for (const member of [...swarm.members.values()])
        if (now - member.lastSeen >= this.ttlOf(member) && this.dropMember(swarm, member.peerId)) peers++;
      this.discardIfEmpty(swarm);
    }
    return { peers, swarms: before - this.swarms.size };
  }

  counts(): { swarms: number; peers: number; leases: number; stateBytes: number } {
    let peers = 0;
    let leases = 0;
    for (const swarm of this.swarms.values()) {
      peers += swarm.members.size;
      leases += swarm.leases.length;
    }
    return { swarms: this.swarms.size, peers, leases, stateBytes: this.stateBytes };
  }

  private dropMember(swarm: Swarm, peerId: string): boolean {
    if (!swarm.members.delete(peerId)) return false;
    this.stateBytes -= memberCost(swarm.pieceCount);
    swarm.leases = swarm.leases.filter(lease => lease.holder !== peerId);
    const owner = this.owners.get(peerId);
    if (owner && --owner.swarms <= 0) this.owners.delete(peerId);
    this.discardIfEmpty(swarm);
    return true;
  }

  /** Forgets a swarm without members (e.g. its first member was refused). */
  discardIfEmpty(swarm: Swarm): void {
    if (swarm.members.size > 0 || this.swarms.get(swarm.digest) !== swarm) return;
    this.swarms.delete(swarm.digest);
    this.stateBytes -= swarmCost(swarm.pieceCount);
  }

  private charge(bytes: number, what: string): void {
    if (this.stateBytes + bytes > this.maxStateBytes)
      throw new TrackerError(
        "TRACKER_FULL",
        `tracker state is at its budget of ${this.maxStateBytes} bytes: ${what} is not tracked; fetch from the origin`,
      );
    this.stateBytes += bytes;
  }
}

function swarmCost(pieceCount: number): number {
  return SWARM_OVERHEAD_BYTES + pieceCount * HASH_BYTES + Math.ceil(pieceCount / 8);
}

function memberCost(pieceCount: number): number {
  return MEMBER_OVERHEAD_BYTES + Math.ceil(pieceCount / 8);
}
