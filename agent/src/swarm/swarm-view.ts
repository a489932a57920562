/**
 * What one download knows of its swarm, from the tracker's answers and its own results: peers and
 * their pieces, piece hashes, bans, its origin lease. Pure bookkeeping, no I/O.
 */
import { Bitfield } from "../../../protocol/pieces";
import type { AnnounceResponse, LeaseRange, PieceRange } from "../../../protocol/tracker-api";
import type { PeerView } from "./piece-picker";

export class SwarmView {
  readonly hashes = new Map<number, string>();
  /** Hashes of pieces this agent fetched from the origin (reported to the tracker). */
  readonly myHashes: Record<number, string> = {};
  peers: (PeerView & { address: string })[] = [];
  leases: LeaseRange[] = [];
  private readonly banned = new Set<string>();
  /** The most pieces the peers were seen holding in total (swarm progress, for the stall check). */
  private peerPiecesSeen = 0;
  private readonly failures = new Map<string, number>();
  private readonly busyUntil = new Map<string, number>();

  constructor(
    readonly pieceCount: number,
    private readonly failuresBeforeBan: number,
  ) {}

  /**
   * Takes in a tracker answer (for this piece size); `keepLeases: false` drops any lease. True when
   * the peers hold more pieces than ever seen before: the swarm is making progress.
   */
  apply(res: AnnounceResponse, keepLeases: boolean): boolean {
    for (const [piece, hash] of Object.entries(res.pieceHashes))
      if (!this.myHashes[Number(piece)]) this.hashes.set(Number(piece), hash);
    this.leases = keepLeases ? res.leases : [];
    this.peers = res.peers.map(p => ({
      id: p.peerId,
      address: p.address,
      have: Bitfield.decode(p.have, this.pieceCount),
      banned: this.banned.has(p.peerId),
      busyUntil: this.busyUntil.get(p.peerId),
    }));
    const peerPieces = this.peers.reduce((sum, peer) => sum + peer.have.count(), 0);
    if (peerPieces <= this.peerPiecesSeen) return false;
    this.peerPiecesSeen = peerPieces;
    return true;
  }

  fetchedFromOrigin(piece: number, hash: string): void {
    this.myHashes[piece] = hash;
    this.hashes.set(piece, hash);
  }

  inLease(piece: number): boolean {
    return this.leases.some(r => piece >= r.start && piece < r.end);
  }

  /** Bans the peer for this blob; true when it was not banned before. */
  ban(peerId: string): boolean {
    if (this.banned.has(peerId)) return false;
    this.banned.add(peerId);
    for (const peer of this.peers) if (peer.id === peerId) peer.banned = true;
    return true;
  }

  /** The peer answered busy: ask it nothing until `until` (not a failure). */
  peerBusy(peerId: string, until: number): void {
    this.busyUntil.set(peerId, until);
    for (const peer of this.peers) if (peer.id === peerId) peer.busyUntil = until;
  }

  /** A request to the peer failed; it is banned after a few failures. True when this one banned it. */
  peerFailed(peerId: string): boolean {
    const failures = (this.failures.get(peerId) ?? 0) + 1;
    this.failures.set(peerId, failures);
    return failures >= this.failuresBeforeBan && this.ban(peerId);
  }

  /** No lease and every known peer banned: nothing in the swarm can help any more. */
  noUsablePeer(): boolean {
    return this.leases.length === 0 && this.peers.length > 0 && this.peers.every(p => p.banned);
  }

  /** Every piece hash, when all are known (a seed reports them). */
  allHashes(): Record<number, string> | undefined {
    if (this.hashes.size !== this.pieceCount) return undefined;
    return Object.fromEntries(this.hashes);
  }
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
