/**
 * One announce: record the member, its hashes and its progress, decide its origin lease, and build
 * the response. Sequencing over the store and the pure lease policy; the only clock is `now`.
 */
import {
  AnnounceRequest,
  AnnounceResponse,
  PeerInfo,
  TrackerError,
  decodeBitfield,
  encodeBitfield,
} from "../../protocol/tracker-api";
import { choosePieceSize, DEFAULT_PIECE_SIZE } from "../../protocol/pieces";
import { countOnlyIn, hasPiece } from "./bitfield";
import { LeaseEvent, decideLeases } from "./lease-policy";
import type { Member, Swarm, SwarmStore } from "./swarm-store";

export interface AnnounceOptions {
  leaseTimeoutMs: number;
  maxOriginStreams: number;
  announceIntervalMs: number;
  maxPeers: number;
  /** The protocol's smallest piece (DEFAULT_PIECE_SIZE); tests use small ones. */
  minPieceSize?: number;
}

export interface AnnounceResult {
  response: AnnounceResponse;
  leaseEvents: LeaseEvent[];
  /** This announce started the blob's swarm (it had no live member). */
  newSwarm: boolean;
}

/**
 * `source` is the address the request came from: a peer id is bound to it (swarm-store.ts).
 * The piece size is a function of the blob size (protocol/pieces.ts), never a member's choice.
 */
export function announce(
  store: SwarmStore,
  request: AnnounceRequest,
  options: AnnounceOptions,
  now: number,
  source = "local",
): AnnounceResult {
  // Members that went silent are gone before anything is decided: their pieces no longer count as
  // held, so the lease policy hands those pieces to the living.
  store.sweep(now, request.digest);
  store.checkOwner(request.peerId, source);
  const pieceSize = choosePieceSize(request.size, options.minPieceSize ?? DEFAULT_PIECE_SIZE);
  // A different piece size: record nothing and say the right one, so the peer re-announces with it.
  if (request.pieceSize !== pieceSize)
    return { response: pieceSizeOnly(request.size, pieceSize, options), leaseEvents: [], newSwarm: false };
  const newSwarm = store.get(request.digest) === undefined;
  const swarm = store.ensure(request.digest, request.size, pieceSize);
  if (swarm.size !== request.size)
    throw new TrackerError(
      "SIZE_MISMATCH",
      `size: ${request.digest} is ${swarm.size} bytes in this swarm, the announce says ${request.size}`,
    );

  const have = decodeBitfield(request.have, swarm.pieceCount);
  const before = swarm.members.get(request.peerId)?.have;
  try {
    store.upsertMember(
      swarm,
      { peerId: request.peerId, address: request.address, have, complete: request.complete, lastSeen: now },
      source,
    );
  } catch (err) {
    store.discardIfEmpty(swarm);
    throw err;
  }
  store.recordHashes(swarm, request.pieceHashes);
  markProgress(swarm, request.peerId, before, have, now);

  const held = store.held(swarm);
  const decision = decideLeases({
    pieceCount: swarm.pieceCount,
    isHeld: index => hasPiece(held, index),
    leases: swarm.leases,
    members: new Set(swarm.members.keys()),
    requester: request.peerId,
    eligible: request.wantLease && !request.releaseLease && !request.complete,
    now,
    leaseTimeoutMs: options.leaseTimeoutMs,
    maxOriginStreams: options.maxOriginStreams,
    requesterUnshared: countOnlyIn(
      have,
      [...swarm.members.values()].filter(m => m.peerId !== request.peerId).map(m => m.have),
    ),
  });
  swarm.leases = decision.leases;
  const granted = decision.granted;
  const leases = granted ? [{ start: granted.start, end: granted.end, fetchEnd: granted.fetchEnd }] : [];
  return {
    response: respond(swarm, request, leases, options),
    leaseEvents: decision.events.map(e => e.event),
    newSwarm,
  };
}

/** Progress is a new piece inside the holder's own lease; pieces it got from peers elsewhere do not count. */
function markProgress(
  swarm: Swarm,
  holder: string,
  before: Uint8Array | undefined,
  have: Uint8Array,
  now: number,
): void {
  swarm.leases = swarm.leases.map(lease => {
    if (lease.holder !== holder) return lease;
    let fresh = 0;
    for (let i = lease.start; i < lease.end; i++)
      if (hasPiece(have, i) && !(before && hasPiece(before, i))) fresh++;
    return fresh === 0 ? lease : { ...lease, lastProgressAt: now, fetched: lease.fetched + fresh };
  });
}

function respond(
  swarm: Swarm,
  request: AnnounceRequest,
  leases: AnnounceResponse["leases"],
  options: AnnounceOptions,
): AnnounceResponse {
  return {
    pieceSize: swarm.pieceSize,
    pieceCount: swarm.pieceCount,
    peers: peersFor(swarm, request.peerId, options.maxPeers),
    pieceHashes: swarm.hashes.toRecord(),
    leases,
    leaseTimeoutMs: options.leaseTimeoutMs,
    announceIntervalMs: options.announceIntervalMs,
  };
}

function pieceSizeOnly(size: number, pieceSize: number, options: AnnounceOptions): AnnounceResponse {
  return {
    pieceSize,
    pieceCount: Math.ceil(size / pieceSize),
    peers: [],
    pieceHashes: {},
    leases: [],
    leaseTimeoutMs: options.leaseTimeoutMs,
    announceIntervalMs: options.announceIntervalMs,
  };
}

/** Other members, those holding the most first (seeders lead), at most `limit`. */
export function peersFor(swarm: Swarm, requester: string, limit: number): PeerInfo[] {
  return [...swarm.members.values()]
    .filter(member => member.peerId !== requester)
    .sort(byUsefulness)
    .slice(0, limit)
    .map(member => ({
      peerId: member.peerId,
      address: member.address,
      have: encodeBitfield(member.have),
      complete: member.complete,
    }));
}

function byUsefulness(a: Member, b: Member): number {
  return b.haveCount - a.haveCount || b.lastSeen - a.lastSeen || a.peerId.localeCompare(b.peerId);
}
