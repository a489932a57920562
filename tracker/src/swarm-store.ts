/**
 * In-memory soft state: swarms by blob digest, their members (with a TTL), bitfields, piece proofs
 * and origin leases. Nothing is persisted; after a restart the state rebuilds from announces.
 * No timers: callers pass the time (`sweep(now)`), so tests drive the clock.
 *
 * What an announce costs grows with the blob's piece count, not with the swarm: each swarm keeps
 * how many live members hold each piece (updated from the difference between a member's old and
 * new bitfield), so "is this piece held anywhere" and "which pieces does only this member have"
 * need no pass over the members, and members are kept in an order a rotating sample walks.
 *
 * Bounded: every swarm and member is charged an estimate of the bytes it holds against
 * `maxStateBytes`; a new swarm or member past the budget is refused (TRACKER_FULL, and the agent
 * fetches from the origin), so a token holder announcing many large blobs cannot grow the tracker
 * without limit. A peer id is bound to the source address it first announced from while it is a
 * member anywhere, so no one else can announce, take leases or leave in its name.
 */
import { PIECE_HASH_BYTES, PROOF_SIGNATURE_BYTES } from "../../protocol/piece-proof";
import { encodeBitfield, type PeerInfo, TrackerError } from "../../protocol/tracker-api";
import type { Lease } from "./lease-policy";
import { countPieces, hasPiece } from "./bitfield";
import { PieceProofs } from "./piece-proofs";

export interface Member {
  peerId: string;
  address: string;
  have: Uint8Array;
  /** `have` as it travels (base64): kept so a member sampled into many answers is encoded once. */
  haveWire: string;
  haveCount: number;
  complete: boolean;
  lastSeen: number;
  /** Its PeerInfo as JSON, made once per announce of its own: it goes into many others' answers. */
  peerJson: string;
}

export interface Swarm {
  digest: string;
  size: number;
  pieceSize: number;
  pieceCount: number;
  members: Map<string, Member>;
  /**
   * The members in a stable order (swap-removed), for the rotating peer sample and the sweep, and
   * each id's position. The objects themselves, not ids: a sample walks ~200 of them per announce,
   * and a Map lookup each was the tracker's largest cost at 10,000 members.
   */
  order: Member[];
  orderIndex: Map<string, number>;
  /** Live members holding each piece, and their sum (every copy of every piece in the swarm). */
  holders: Uint32Array;
  copies: number;
  proofs: PieceProofs;
  leases: Lease[];
  /** Where the next peer sample starts in `order`, and where the next partial sweep does. */
  sampleCursor: number;
  sweepCursor: number;
}

export interface SwarmStoreOptions {
  peerTtlMs: number;
  /**
   * A member still downloading announces every announce interval; one silent this long has died or
   * lost the tracker, so its pieces stop counting as held and its lease goes to someone else.
   * Default: peerTtlMs.
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
  private downloading = 0;
  private readonly maxStateBytes: number;
  /** Silence after which a downloading member is forgotten: the option's, or three of its intervals. */
  private leecherTtlMs: number;
  private readonly baseLeecherTtlMs: number;

  constructor(private readonly options: SwarmStoreOptions) {
    if (!(options.peerTtlMs > 0)) throw new RangeError("peerTtlMs must be positive");
    if (options.leecherTtlMs !== undefined && !(options.leecherTtlMs > 0))
      throw new RangeError("leecherTtlMs must be positive");
    this.maxStateBytes = options.maxStateBytes ?? DEFAULT_MAX_STATE_BYTES;
    if (!(this.maxStateBytes > 0)) throw new RangeError("maxStateBytes must be positive");
    this.baseLeecherTtlMs = options.leecherTtlMs ?? options.peerTtlMs;
    this.leecherTtlMs = this.baseLeecherTtlMs;
  }

  /** Downloading members now announce every `intervalMs`: forget one only after three missed. */
  setDownloadInterval(intervalMs: number): void {
    this.leecherTtlMs = Math.max(this.baseLeecherTtlMs, 3 * intervalMs);
  }

  private ttlOf(member: Member): number {
    return member.complete ? this.options.peerTtlMs : Math.min(this.options.peerTtlMs, this.leecherTtlMs);
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
      order: [],
      orderIndex: new Map(),
      holders: new Uint32Array(pieceCount),
      copies: 0,
      proofs: new PieceProofs(pieceCount),
      leases: [],
      sampleCursor: 0,
      sweepCursor: 0,
    };
    this.swarms.set(digest, swarm);
    return swarm;
  }

  /** Records a member's state (`source`: the address it announced from). */
  upsertMember(
    swarm: Swarm,
    update: Omit<Member, "haveCount" | "haveWire" | "peerJson">,
    source = update.address,
  ): void {
    this.checkOwner(update.peerId, source);
    const before = swarm.members.get(update.peerId);
    if (!before) {
      this.charge(memberCost(swarm.pieceCount), `a new member of a ${swarm.pieceCount}-piece swarm`);
      const owner = this.owners.get(update.peerId) ?? { source, swarms: 0 };
      owner.swarms++;
      this.owners.set(update.peerId, owner);
    }
    swarm.copies += countHolders(swarm.holders, before?.have, update.have);
    const wasDownloading = before ? !before.complete : false;
    if (wasDownloading !== !update.complete) this.downloading += update.complete ? -1 : 1;
    // Encoded from the decoded bitfield, never relayed as announced: other members read it.
    const haveWire = encodeBitfield(update.have);
    const member: Member = {
      ...update,
      haveWire,
      haveCount: countPieces(update.have),
      peerJson: "",
    };
    member.peerJson = JSON.stringify(toPeerInfo(member));
    swarm.members.set(update.peerId, member);
    const at = swarm.orderIndex.get(update.peerId);
    if (at === undefined) {
      swarm.orderIndex.set(update.peerId, swarm.order.length);
      swarm.order.push(member);
    } else swarm.order[at] = member;
  }

  isHeld(swarm: Swarm, index: number): boolean {
    return swarm.holders[index] > 0;
  }

  /** Pieces `member` holds that no other live member holds. */
  onlyHeldBy(swarm: Swarm, member: Member): number {
    let count = 0;
    for (let i = 0; i < swarm.pieceCount; i++)
      if (swarm.holders[i] === 1 && hasPiece(member.have, i)) count++;
    return count;
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

  /**
   * Checks the next `count` members of one swarm (a cursor walks its order) and forgets the silent
   * ones: a bounded slice of the sweep an announce can afford, so its cost does not grow with the
   * swarm. The full sweep runs on a timer (tracker.ts).
   */
  sweepSome(now: number, swarm: Swarm, count: number): void {
    for (let i = 0; i < count && swarm.order.length > 0; i++) {
      swarm.sweepCursor %= swarm.order.length;
      const member = swarm.order[swarm.sweepCursor];
      if (now - member.lastSeen >= this.ttlOf(member)) this.dropMember(swarm, member.peerId);
      else swarm.sweepCursor++;
    }
  }

  /** Forgets lease holders gone silent, so their pieces go to the living at once. */
  sweepLeaseHolders(now: number, swarm: Swarm): void {
    for (const lease of [...swarm.leases]) {
      const holder = swarm.members.get(lease.holder);
      if (holder && now - holder.lastSeen >= this.ttlOf(holder)) this.dropMember(swarm, holder.peerId);
    }
  }

  /** Members still downloading, in every swarm (what sets the announce rate). */
  get downloadingMembers(): number {
    return this.downloading;
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

  /** Forgets a swarm without members (e.g. its first member was refused). */
  discardIfEmpty(swarm: Swarm): void {
    if (swarm.members.size > 0 || this.swarms.get(swarm.digest) !== swarm) return;
    this.swarms.delete(swarm.digest);
    this.stateBytes -= swarmCost(swarm.pieceCount);
  }

  private dropMember(swarm: Swarm, peerId: string): boolean {
    const member = swarm.members.get(peerId);
    if (!member) return false;
    swarm.members.delete(peerId);
    swarm.copies += countHolders(swarm.holders, member.have, undefined);
    if (!member.complete) this.downloading--;
    const at = swarm.orderIndex.get(peerId)!;
    const last = swarm.order.pop()!;
    if (last.peerId !== peerId) {
      swarm.order[at] = last;
      swarm.orderIndex.set(last.peerId, at);
    }
    swarm.orderIndex.delete(peerId);
    this.stateBytes -= memberCost(swarm.pieceCount);
    swarm.leases = swarm.leases.filter(lease => lease.holder !== peerId);
    const owner = this.owners.get(peerId);
    if (owner && --owner.swarms <= 0) this.owners.delete(peerId);
    this.discardIfEmpty(swarm);
    return true;
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

/**
 * Moves holder counts from one bitfield of a member to another (either may be absent); returns the
 * change in copies.
 */
function countHolders(
  holders: Uint32Array,
  before: Uint8Array | undefined,
  after: Uint8Array | undefined,
): number {
  let delta = 0;
  const bytes = Math.max(before?.length ?? 0, after?.length ?? 0);
  for (let b = 0; b < bytes; b++) {
    const was = before?.[b] ?? 0;
    const now = after?.[b] ?? 0;
    if (was === now) continue;
    for (let bit = 0; bit < 8; bit++) {
      const mask = 0x80 >> bit;
      const index = b * 8 + bit;
      if (index >= holders.length) break;
      if (now & mask && !(was & mask)) {
        holders[index]++;
        delta++;
      } else if (was & mask && !(now & mask)) {
        holders[index]--;
        delta--;
      }
    }
  }
  return delta;
}

function swarmCost(pieceCount: number): number {
  return (
    SWARM_OVERHEAD_BYTES +
    pieceCount * (PIECE_HASH_BYTES + PROOF_SIGNATURE_BYTES + 4) +
    Math.ceil(pieceCount / 8)
  );
}

function memberCost(pieceCount: number): number {
  return MEMBER_OVERHEAD_BYTES + Math.ceil(pieceCount / 8);
}

/** A member as the peers in an announce answer describe it. */
export function toPeerInfo(member: Pick<Member, "peerId" | "address" | "haveWire" | "complete">): PeerInfo {
  return { peerId: member.peerId, address: member.address, have: member.haveWire, complete: member.complete };
}
