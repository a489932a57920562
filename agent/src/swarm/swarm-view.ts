/**
 * What one download knows of its swarm: the peers it has heard of and their pieces (from the
 * tracker's rotating samples and from the HAVE bitfields peers send with every answer), bans and
 * busy peers, its origin lease, the tracker's key, and whether the swarm as a whole is moving.
 * Pure bookkeeping, no I/O.
 */
import type { KeyObject } from "node:crypto";
import { publicKeyFromWire } from "../../../protocol/piece-proof";
import { Bitfield } from "../../../protocol/pieces";
import type { AnnounceResponse, LeaseRange, PieceRange } from "../../../protocol/tracker-api";
import type { PeerView } from "./piece-picker";

export type KnownPeer = PeerView & {
  address: string;
  lastHeardMs: number;
  /** Known only from its own requests (its claim), not from the tracker. */
  asker?: boolean;
};

/** Peers remembered at once; the least recently heard of are forgotten first. */
export const MAX_KNOWN_PEERS = 64;
/**
 * Of those, how many may be known only from their requests: the rest stay for the tracker's sample,
 * which names holders of what this node lacks, while askers mostly lack what it holds. The
 * simulation (BENCHMARKS.md): 1,000 nodes finish at 1.66 S/B with 16 against 1.74 with 32 and 1.83
 * with all 64 places, 10,000 at 2.52 against 2.56; 100 nodes alike (1.52 / 1.53 over four seeds).
 */
export const MAX_ASKERS_KNOWN = 16;

/**
 * How often a busy peer's backoff doubles at most: with many peers to ask instead (a big swarm), a
 * peer that keeps answering busy is left alone for up to 16 s; with few (a small herd) for up to 4 s,
 * as waiting on the few holders there starves the download. The simulation at a 5 s interval, p99
 * over S/B with 3 upload slots (BENCHMARKS.md): 300 nodes, seeds 1-3, 1.64 / 1.56 / 1.59 with 8x
 * and 1.49 / 1.54 / 1.48 with 32x; 10 nodes, seeds 1-4, 1.19-1.21 with 8x and 1.25-1.33 with 32x.
 */
export const BUSY_DOUBLINGS = { few: 3, many: 5 };
export const MANY_PEERS_KNOWN = 32;

export class SwarmView {
  peers: KnownPeer[] = [];
  leases: LeaseRange[] = [];
  trackerKey?: { wire: string; key: KeyObject };
  private readonly banned = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly busyStreaks = new Map<string, number>();
  /** The most piece copies the swarm was seen holding (its progress, for the stall check). */
  private copiesSeen = -1;

  constructor(
    readonly pieceCount: number,
    private readonly failuresBeforeBan: number,
  ) {}

  /**
   * Takes in a tracker answer (for this piece size); `keepLeases: false` drops any lease. True when
   * the swarm holds more piece copies than ever seen before: it is making progress.
   */
  apply(res: AnnounceResponse, keepLeases: boolean, now: number): boolean {
    if (this.trackerKey?.wire !== res.trackerKey)
      this.trackerKey = { wire: res.trackerKey, key: publicKeyFromWire(res.trackerKey) };
    this.leases = keepLeases ? res.leases : [];
    for (const sampled of res.peers) {
      const have = Bitfield.decode(sampled.have, this.pieceCount);
      const known = this.peers.find(p => p.id === sampled.peerId);
      if (known) {
        known.have = union(known.have, have);
        known.address = sampled.address;
        known.lastHeardMs = now;
        known.asker = false;
      } else
        this.peers.push({
          id: sampled.peerId,
          address: sampled.address,
          have,
          banned: this.banned.has(sampled.peerId),
          lastHeardMs: now,
        });
    }
    this.forgetBeyondLimit();
    if (res.swarmCopies <= this.copiesSeen) return false;
    this.copiesSeen = res.swarmCopies;
    return true;
  }

  /** A peer we asked told us what it can serve (the HAVE bitfield on its answer). */
  learnHave(peerId: string, base64: string, now: number): void {
    const peer = this.peers.find(p => p.id === peerId);
    if (!peer) return;
    try {
      peer.have = Bitfield.decode(base64, this.pieceCount);
      peer.lastHeardMs = now;
    } catch {
      this.peerFailed(peerId);
    }
  }

  /**
   * A peer asked us for a piece, saying who it is, where it serves and what it holds (its request's
   * HAVE): it may be new to us. A claim, so it never overrides what we know of that id at another
   * address, a malformed one is dropped without counting against the id (anyone could send it in
   * another's name), and claimed peers take at most MAX_ASKERS_KNOWN places.
   */
  learnAsker(peerId: string, address: string, base64: string, now: number): void {
    const known = this.peers.find(p => p.id === peerId);
    if (known && known.address !== address) return;
    if (!known && (this.banned.has(peerId) || this.peers.filter(p => p.asker).length >= MAX_ASKERS_KNOWN))
      return;
    let have: Bitfield;
    try {
      have = Bitfield.decode(base64, this.pieceCount);
    } catch {
      return;
    }
    if (known) {
      known.have = have;
      known.lastHeardMs = now;
      return;
    }
    this.peers.push({ id: peerId, address, have, banned: false, lastHeardMs: now, asker: true });
    this.forgetBeyondLimit();
  }

  /**
   * Whom to tell of a piece just gained (the HAVE push): up to `limit` peers, not banned, whose HAVE
   * as known lacks a piece of `servable`, the most recently heard of first.
   */
  pushTargets(servable: Bitfield, limit: number): KnownPeer[] {
    return this.peers
      .filter(peer => !peer.banned && servable.holdsAnyMissingFrom(peer.have))
      .sort((a, b) => b.lastHeardMs - a.lastHeardMs)
      .slice(0, limit);
  }

  inLease(piece: number): boolean {
    return this.leases.some(r => piece >= r.start && piece < r.end);
  }

  ban(peerId: string): boolean {
    const fresh = !this.banned.has(peerId);
    this.banned.add(peerId);
    for (const peer of this.peers) if (peer.id === peerId) peer.banned = true;
    return fresh;
  }

  /**
   * The peer answered busy (not a failure): ask it nothing for `backoffMs`, doubled for each busy
   * answer in a row up to 8x, or 32x when this node knows MANY_PEERS_KNOWN peers or more, so a
   * node does not spend its requests polling full peers (see BUSY_DOUBLINGS).
   */
  peerBusy(peerId: string, now: number, backoffMs: number): void {
    const streak = (this.busyStreaks.get(peerId) ?? 0) + 1;
    this.busyStreaks.set(peerId, streak);
    const doublings = this.peers.length >= MANY_PEERS_KNOWN ? BUSY_DOUBLINGS.many : BUSY_DOUBLINGS.few;
    const until = now + backoffMs * 2 ** Math.min(streak - 1, doublings);
    for (const peer of this.peers) if (peer.id === peerId) peer.busyUntil = until;
  }

  /** The peer sent a piece: its busy streak is over. */
  peerServed(peerId: string): void {
    this.busyStreaks.delete(peerId);
  }

  /** A request to the peer failed; it is banned after a few failures. True when that banned it. */
  peerFailed(peerId: string): boolean {
    const failures = (this.failures.get(peerId) ?? 0) + 1;
    this.failures.set(peerId, failures);
    return failures >= this.failuresBeforeBan && this.ban(peerId);
  }

  /** No lease and every known peer banned: nothing in the swarm can help any more. */
  noUsablePeer(): boolean {
    return this.leases.length === 0 && this.peers.length > 0 && this.peers.every(p => p.banned);
  }

  private forgetBeyondLimit(): void {
    if (this.peers.length <= MAX_KNOWN_PEERS) return;
    this.peers.sort((a, b) => Number(a.banned) - Number(b.banned) || b.lastHeardMs - a.lastHeardMs);
    this.peers.length = MAX_KNOWN_PEERS;
  }
}

function union(a: Bitfield, b: Bitfield): Bitfield {
  return new Bitfield(
    a.pieceCount,
    a.bytes.map((byte, i) => byte | b.bytes[i]),
  );
}

/** Runs of pieces not in `have`, as [start, end) ranges. */
export function missingRuns(have: Bitfield): PieceRange[] {
  const runs: PieceRange[] = [];
  for (let piece = 0; piece < have.pieceCount; piece++) {
    if (have.has(piece)) continue;
    const start = piece;
    while (piece < have.pieceCount && !have.has(piece)) piece++;
    runs.push({ start, end: piece });
  }
  return runs;
}
