/**
 * What a swarm download does next (DESIGN 2.4), decided from its whole state and the time: which
 * origin Range requests to start for its lease, which pieces to ask of which peers, whether to
 * announce, whether to give up on the swarm (and why), and when to look again if nothing happens
 * before. Pure: no I/O, no timers; swarm-download.ts carries the plan out and calls again on every
 * event (a piece stored, a request ended, a tracker answer) and at `wakeInMs`.
 *
 * - Origin: up to `originStreams` Range requests over the next runs of pieces that are neither held
 *   nor requested, never at or past the lease's `fetchEnd` (what the tracker committed to this node:
 *   no piece requested here is ever handed to another member).
 * - Peers: the piece picker's choice (rarest first, least-loaded holder, endgame) among pieces not
 *   held and not in the lease.
 * - Announce: when not already announcing, and something changed (a new origin piece: progress for
 *   the lease, a hash to sign) or the interval has passed.
 * - Give up: the swarm gained no piece for `stallMs` ("stall"), or there is no lease and every peer
 *   it knows is banned ("no-peers").
 */
import { Bitfield } from "../../../protocol/pieces";
import type { LeaseRange } from "../../../protocol/tracker-api";
import { pickPieces, PeerView, PieceRequest } from "./piece-picker";

export interface OriginRun {
  /** The piece the request is on: pieces next..end-1 are still to come. */
  next: number;
  end: number;
}

export interface DownloadState {
  pieceCount: number;
  have: Bitfield;
  lease?: LeaseRange;
  originRuns: readonly OriginRun[];
  peerRequests: readonly (PieceRequest & { startedMs: number })[];
  peers: readonly PeerView[];
  /** When the swarm (this node or any peer) last gained a piece. */
  lastProgressMs: number;
  stallMs: number;
  announce: { running: boolean; lastMs: number; intervalMs: number; dirty: boolean };
  /** Where this download starts among equally rare pieces (see the piece picker). */
  pickStartAt?: number;
}

export interface PlanLimits {
  originStreams: number;
  maxPerPeer: number;
  maxTotal: number;
  endgamePieces: number;
  endgameAfterMs: number;
}

/**
 * A download's request limits (the agent's; the swarm simulation uses the same). Requests in flight
 * beyond what peers' upload slots can serve only come back busy: in a herd every node has about as
 * many upload slots as it has requests out.
 */
export const PLAN_LIMITS: Omit<PlanLimits, "originStreams"> = {
  maxPerPeer: 2,
  maxTotal: 6,
  endgamePieces: 4,
  endgameAfterMs: 2_000,
};

/**
 * A peer that answered busy is left alone this long, doubled per busy answer in a row (SwarmView).
 * Longer than a slot takes to free: hammering the few holders of the freshest pieces starves the
 * rest of the swarm's uploads (the simulation: 100 nodes finish at 1.59 S/B with 250 ms, 1.50 with
 * 500 ms, 1.49 with 1 s, 1.58 with 2 s).
 */
export const PEER_BUSY_BACKOFF_MS = 500;

export type FallbackReason = "stall" | "no-peers";

export interface Plan {
  done: boolean;
  fallback?: FallbackReason;
  origin: { from: number; to: number }[];
  peers: PieceRequest[];
  announce: boolean;
  /** Call again after this long if no event comes first. */
  wakeInMs: number;
}

const MIN_WAKE_MS = 5;
const IDLE_WAKE_MS = 60_000;

export function planDownload(state: DownloadState, limits: PlanLimits, now: number): Plan {
  const none = { origin: [], peers: [], announce: false, wakeInMs: IDLE_WAKE_MS };
  if (state.have.isComplete()) return { ...none, done: true };
  if (now - state.lastProgressMs > state.stallMs) return { ...none, done: false, fallback: "stall" };
  const usable = state.peers.filter(peer => !peer.banned);
  if (!state.lease && state.peers.length > 0 && usable.length === 0)
    return { ...none, done: false, fallback: "no-peers" };
  return {
    done: false,
    origin: originRuns(state, limits.originStreams),
    peers: pickPieces({
      pieceCount: state.pieceCount,
      needed: neededFromPeers(state),
      peers: state.peers,
      inFlight: state.peerRequests,
      now,
      maxPerPeer: limits.maxPerPeer,
      maxTotal: limits.maxTotal,
      endgamePieces: limits.endgamePieces,
      endgameAfterMs: limits.endgameAfterMs,
      startAt: state.pickStartAt,
    }),
    announce:
      !state.announce.running &&
      (state.announce.dirty || now - state.announce.lastMs >= state.announce.intervalMs),
    wakeInMs: nextWake(state, limits, now),
  };
}

/** Pieces neither held nor in this node's origin lease. */
function neededFromPeers(state: DownloadState): Bitfield {
  const needed = new Bitfield(state.pieceCount);
  const { lease } = state;
  for (let piece = 0; piece < state.pieceCount; piece++)
    if (!state.have.has(piece) && !(lease && piece >= lease.start && piece < lease.end)) needed.set(piece);
  return needed;
}

/** New Range requests over unheld, unrequested runs below fetchEnd, up to `streams` running. */
function originRuns(state: DownloadState, streams: number): { from: number; to: number }[] {
  const lease = state.lease;
  if (!lease) return [];
  const requested = (piece: number) => state.originRuns.some(run => piece >= run.next && piece < run.end);
  const free = (piece: number) => !state.have.has(piece) && !requested(piece);
  const out: { from: number; to: number }[] = [];
  let from = lease.start;
  while (state.originRuns.length + out.length < streams) {
    while (from < lease.fetchEnd && !free(from)) from++;
    if (from >= lease.fetchEnd) break;
    let to = from + 1;
    while (to < lease.fetchEnd && free(to)) to++;
    out.push({ from, to });
    from = to;
  }
  return out;
}

/** The next moment the plan could change without an event: an announce due, a stall, a busy peer free again, an endgame. */
function nextWake(state: DownloadState, limits: PlanLimits, now: number): number {
  const times = [state.lastProgressMs + state.stallMs + 1];
  if (!state.announce.running) times.push(state.announce.lastMs + state.announce.intervalMs);
  for (const peer of state.peers) if ((peer.busyUntil ?? 0) > now) times.push(peer.busyUntil!);
  for (const request of state.peerRequests) times.push(request.startedMs + limits.endgameAfterMs);
  const soonest = Math.min(...times.filter(t => t > now));
  return Number.isFinite(soonest) ? Math.max(MIN_WAKE_MS, soonest - now) : IDLE_WAKE_MS;
}
