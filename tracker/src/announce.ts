/**
 * One announce: record the member, sign the piece hashes it may report, decide its origin lease,
 * and build the response (a bounded peer sample, its proofs, its lease). Sequencing over the store
 * and the pure lease policy; the only clock is `now`. Its cost grows with the blob's piece count and
 * the sample size, not with the number of members.
 */
import { choosePieceSize, DEFAULT_PIECE_SIZE } from "../../protocol/pieces";
import { proofPayload } from "../../protocol/piece-proof";
import { AnnounceRequest, AnnounceResponse, TrackerError, decodeBitfield } from "../../protocol/tracker-api";
import { hasPiece } from "./bitfield";
import { LeaseEvent, decideLeases } from "./lease-policy";
import { toPeerInfo, type Member, type Swarm, type SwarmStore } from "./swarm-store";

export interface AnnounceOptions {
  leaseTimeoutMs: number;
  maxOriginStreams: number;
  /** Heartbeat of members that hold the whole blob (seeders). */
  announceIntervalMs: number;
  /** Peers in each answer's sample. */
  maxPeers: number;
  /** Announces per second the tracker aims to receive from downloading members (it stretches their interval). */
  maxAnnounceRate?: number;
  /** The protocol's smallest piece (DEFAULT_PIECE_SIZE); tests use small ones. */
  minPieceSize?: number;
}

/** Signs proof payloads with the tracker's key; `publicKey` is its wire form. */
export interface ProofSigner {
  readonly publicKey: string;
  sign(payload: Buffer): Buffer;
}

export interface AnnounceResult {
  response: AnnounceResponse;
  /** `response` as JSON, built from the sampled members' cached JSON (the HTTP answer). */
  responseJson(): string;
  leaseEvents: LeaseEvent[];
  /** This announce started the blob's swarm (it had no live member). */
  newSwarm: boolean;
}

/** A member still downloading announces about this often when the tracker is not loaded. */
export const MIN_DOWNLOAD_INTERVAL_MS = 1_000;
const MAX_DOWNLOAD_INTERVAL_MS = 30_000;
export const DEFAULT_MAX_ANNOUNCE_RATE = 2_000;
/** Members an announce checks for silence (tracker.ts sweeps everything every second). */
const SWEEP_PER_ANNOUNCE = 8;

/**
 * `source` is the address the request came from: a peer id is bound to it (swarm-store.ts).
 * The piece size is a function of the blob size (protocol/pieces.ts), never a member's choice.
 */
export function announce(
  store: SwarmStore,
  request: AnnounceRequest,
  options: AnnounceOptions,
  signer: ProofSigner,
  now: number,
  source = "local",
): AnnounceResult {
  store.checkOwner(request.peerId, source);
  const pieceSize = choosePieceSize(request.size, options.minPieceSize ?? DEFAULT_PIECE_SIZE);
  // A different piece size: record nothing and say the right one, so the peer re-announces with it.
  if (request.pieceSize !== pieceSize) {
    const response = pieceSizeOnly(request.size, pieceSize, store, options, signer);
    return { response, responseJson: () => JSON.stringify(response), leaseEvents: [], newSwarm: false };
  }
  const newSwarm = store.get(request.digest) === undefined;
  const swarm = store.ensure(request.digest, request.size, pieceSize);
  // Members that went silent go before anything is decided: their pieces no longer count as held,
  // so the lease policy hands those pieces to the living. A slice per announce, the rest on a timer.
  store.sweepSome(now, swarm, SWEEP_PER_ANNOUNCE);
  store.sweepLeaseHolders(now, swarm);
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
      {
        peerId: request.peerId,
        address: request.address,
        have,
        complete: request.complete,
        lastSeen: now,
      },
      source,
    );
  } catch (err) {
    store.discardIfEmpty(swarm);
    throw err;
  }
  const member = swarm.members.get(request.peerId)!;
  const proofs = acceptHashes(swarm, member, request.pieceHashes, signer);
  markProgress(swarm, request.peerId, before, have, now);

  const decision = decideLeases({
    pieceCount: swarm.pieceCount,
    isHeld: index => store.isHeld(swarm, index),
    leases: swarm.leases,
    members: swarm.members,
    requester: request.peerId,
    eligible: request.wantLease && !request.releaseLease && !request.complete,
    now,
    leaseTimeoutMs: options.leaseTimeoutMs,
    maxOriginStreams: options.maxOriginStreams,
    requesterUnshared: () => store.onlyHeldBy(swarm, member), // only a split needs it: O(pieces)
  });
  swarm.leases = decision.leases;
  const granted = decision.granted;
  const leases = granted ? [{ start: granted.start, end: granted.end, fetchEnd: granted.fetchEnd }] : [];
  const sampled = samplePeers(swarm, member, options.maxPeers);
  const rest: Omit<AnnounceResponse, "peers"> = {
    pieceSize: swarm.pieceSize,
    pieceCount: swarm.pieceCount,
    swarmMembers: swarm.members.size,
    swarmCopies: swarm.copies,
    proofs,
    trackerKey: signer.publicKey,
    leases,
    ...intervals(store, options),
  };
  let response: AnnounceResponse | undefined;
  return {
    // Built only if asked for: the HTTP answer is made from the members' cached JSON instead.
    get response() {
      return (response ??= { ...rest, peers: sampled.map(toPeerInfo) });
    },
    responseJson: () => jsonWithPeers(rest, sampled),
    leaseEvents: decision.events.map(e => e.event),
    newSwarm,
  };
}

/**
 * The answer as JSON, the peers spliced in from each member's cached JSON: serialising ~50 peers'
 * bitfields into every answer was a fifth of the tracker's CPU at 10,000 members.
 */
function jsonWithPeers(rest: Omit<AnnounceResponse, "peers">, sampled: readonly Member[]): string {
  return `${JSON.stringify(rest).slice(0, -1)},"peers":[${sampled.map(m => m.peerJson).join(",")}]}`;
}

/**
 * Signs and returns proofs for the request's hashes of pieces it holds. While a lease covers a
 * piece, its first hash is taken only from the lease holder (who fetched it from the origin) or a
 * seeder (who verified the whole blob), so no member can race a false hash in ahead of the holder;
 * a piece no lease covers (after a tracker restart, say) takes the first report. A hash equal to
 * the recorded one gets its proof; any other gets nothing.
 */
function acceptHashes(
  swarm: Swarm,
  member: Member,
  hashes: Record<number, string>,
  signer: ProofSigner,
): Record<number, string> {
  const out: Record<number, string> = {};
  const sign = (index: number, hashHex: string) =>
    signer.sign(proofPayload(swarm.digest, swarm.pieceSize, index, hashHex));
  for (const [key, hashHex] of Object.entries(hashes)) {
    const index = Number(key);
    if (!hasPiece(member.have, index)) continue;
    const lease = swarm.leases.find(l => index >= l.start && index < l.end);
    const mayFirstReport = member.complete || !lease || lease.holder === member.peerId;
    if (!mayFirstReport && !swarm.proofs.isKnown(index)) continue;
    if (swarm.proofs.record(index, hashHex, sign) !== "conflict") out[index] = swarm.proofs.signature(index)!;
  }
  return out;
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

/**
 * Up to `limit` other members: first those that can give the requester something (a seeder, or a
 * member holding a piece it lacks), then, to fill the sample, members still downloading, whom the
 * requester can tell of the pieces it gains (the HAVE push, protocol/peer-wire.ts): without them a
 * herd's first holders know nobody to tell and new pieces spread only at the pace of the announce
 * interval. Walks the swarm from where the last sample stopped, so successive answers show
 * different members and the work per answer is bounded whatever the swarm's size.
 */
export function samplePeers(swarm: Swarm, requester: Member, limit: number): Member[] {
  const out: Member[] = [];
  const n = swarm.order.length;
  const maxScan = Math.min(n, limit * 4 + 8);
  let at = n === 0 ? 0 : swarm.sampleCursor % n;
  const downloading: Member[] = [];
  for (let scanned = 0; scanned < maxScan && out.length < limit; scanned++) {
    const member = swarm.order[at];
    at = (at + 1) % n;
    if (member.peerId === requester.peerId) continue;
    if (member.complete || holdsMissing(member, requester)) out.push(member);
    else if (downloading.length < limit) downloading.push(member);
  }
  swarm.sampleCursor = at;
  for (const member of downloading) {
    if (out.length >= limit) break;
    out.push(member);
  }
  return out;
}

/** Whether `theirs` holds a piece `mine` lacks; the counts settle most pairs without the bitfields. */
function holdsMissing(theirs: Member, mine: Member): boolean {
  if (theirs.haveCount === 0) return false;
  if (theirs.haveCount > mine.haveCount) return true;
  const [a, b] = [theirs.have, mine.have];
  for (let i = 0; i < a.length; i++) if (a[i] & ~b[i]) return true;
  return false;
}

/**
 * The seeders' heartbeat, and the downloading members' interval, stretched so that all downloading
 * members together announce about `maxAnnounceRate` times a second; a member silent for three of
 * its intervals is forgotten.
 */
function intervals(store: SwarmStore, options: AnnounceOptions) {
  const rate = options.maxAnnounceRate ?? DEFAULT_MAX_ANNOUNCE_RATE;
  const stretched = Math.ceil((1000 * store.downloadingMembers) / rate);
  const downloadIntervalMs = Math.min(
    MAX_DOWNLOAD_INTERVAL_MS,
    Math.max(MIN_DOWNLOAD_INTERVAL_MS, stretched),
  );
  store.setDownloadInterval(downloadIntervalMs);
  return {
    leaseTimeoutMs: options.leaseTimeoutMs,
    announceIntervalMs: options.announceIntervalMs,
    downloadIntervalMs,
  };
}

function pieceSizeOnly(
  size: number,
  pieceSize: number,
  store: SwarmStore,
  options: AnnounceOptions,
  signer: ProofSigner,
): AnnounceResponse {
  return {
    pieceSize,
    pieceCount: Math.ceil(size / pieceSize),
    peers: [],
    swarmMembers: 0,
    swarmCopies: 0,
    proofs: {},
    trackerKey: signer.publicKey,
    leases: [],
    ...intervals(store, options),
  };
}
