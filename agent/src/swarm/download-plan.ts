/**
 * What a swarm download does next (DESIGN 2.4), decided from its whole state and the time: which
 * origin Range requests to start for its lease, which pieces to ask of which peers, whether to
 * announce, whether to give up on the swarm (and why), and when to look again if nothing happens
 * before. Pure: no I/O, no timers; swarm-download.ts carries the plan out and calls again on every
 * event (a piece stored, a request ended, a tracker answer) and at `wakeInMs`.
 *
 * - Origin: up to `originStreams` Range requests over the next runs of pieces that are neither held
 *   nor requested, never at or past the lease's `fetchEnd` (what the tracker committed to this node:
 *   no piece requested here is ever handed to another member); the next starts only when the
 *   running one is down to its last ORIGIN_OVERLAP_PIECES.
 * - Peers: the piece picker's choice (rarest first, least-loaded holder, endgame) among pieces not
 *   held and not in the lease.
 * - Announce: when not already announcing, and the interval has passed, or something changed (a new
 *   origin piece: progress for the lease, a hash to sign) at most every ANNOUNCE_MIN_GAP_MS, or the
 *   origin requests are about to reach fetchEnd.
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
/** Pieces left in a running origin request when the next one may start. */
export const ORIGIN_OVERLAP_PIECES = 2;
/** Least time between announces made because something changed (see announceDue). */
export const ANNOUNCE_MIN_GAP_MS = 100;
const IDLE_WAKE_MS = 60_000;

export function planDownload(state: DownloadState, limits: PlanLimits, now: number): Plan {
  const none = { origin: [], peers: [], announce: false, wakeInMs: IDLE_WAKE_MS };
  if (state.have.isComplete()) return { ...none, done: true };
  if (now > state.lastProgressMs + state.stallMs) return { ...none, done: false, fallback: "stall" };
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
    announce: announceDue(state, now),
    wakeInMs: nextWake(state, limits, now),
  };
}

/**
 * The interval has passed, or something changed: at most every ANNOUNCE_MIN_GAP_MS, or at once when
 * the origin requests are about to reach the lease's fetchEnd (an answer moves it on). An announce
 * per piece cost a lone member's pull a tenth of its time in its own and the tracker's CPU.
 */
function announceDue(state: DownloadState, now: number): boolean {
  const { announce } = state;
  if (announce.running) return false;
  // Each moment as nextWake computes it (lastMs + gap, never now - lastMs): with fractional times
  // the two forms can disagree, and a wake at the moment would then find nothing due and sleep on
  // to the stall timeout (it made simulated nodes fall back to the origin).
  if (now >= announce.lastMs + announce.intervalMs) return true;
  return announce.dirty && (now >= announce.lastMs + ANNOUNCE_MIN_GAP_MS || fetchEndNear(state));
}

/** The lease has more to commit, and few of the pieces committed so far are still to come. */
function fetchEndNear(state: DownloadState): boolean {
  const lease = state.lease;
  if (!lease || lease.fetchEnd >= lease.end) return false;
  let toCome = 0;
  for (let piece = lease.start; piece < lease.fetchEnd; piece++) if (!state.have.has(piece)) toCome++;
  return toCome <= 2 * ORIGIN_OVERLAP_PIECES;
}

/** Pieces neither held nor in this node's origin lease. */
function neededFromPeers(state: DownloadState): Bitfield {
  const needed = new Bitfield(state.pieceCount);
  const { lease } = state;
  for (let piece = 0; piece < state.pieceCount; piece++)
    if (!state.have.has(piece) && !(lease && piece >= lease.start && piece < lease.end)) needed.set(piece);
  return needed;
}

/**
 * New Range requests over unheld, unrequested runs below fetchEnd, up to `streams` running. Only one
 * at a time is in its body: the next starts when the running one is down to its last
 * ORIGIN_OVERLAP_PIECES, which hides a request's latency without two streams splitting the link and
 * landing pieces out of order (the client is fed in order: two interleaved streams made a lone
 * member's pull 1.4x the plain pull, issue 10).
 */
function originRuns(state: DownloadState, streams: number): { from: number; to: number }[] {
  const lease = state.lease;
  if (!lease) return [];
  const requested = (piece: number) => state.originRuns.some(run => piece >= run.next && piece < run.end);
  const free = (piece: number) => !state.have.has(piece) && !requested(piece);
  const inBody = (run: { from: number; to: number }) => run.to - run.from > ORIGIN_OVERLAP_PIECES;
  let bodies = state.originRuns.filter(run => inBody({ from: run.next, to: run.end })).length;
  const out: { from: number; to: number }[] = [];
  let from = lease.start;
  while (state.originRuns.length + out.length < streams && bodies === 0) {
    while (from < lease.fetchEnd && !free(from)) from++;
    if (from >= lease.fetchEnd) break;
    let to = from + 1;
    while (to < lease.fetchEnd && free(to)) to++;
    out.push({ from, to });
    if (inBody({ from, to })) bodies++;
    from = to;
  }
  return out;
}

/** The next moment the plan could change without an event: an announce due, a stall, a busy peer free again, an endgame. */
function nextWake(state: DownloadState, limits: PlanLimits, now: number): number {
  const times = [state.lastProgressMs + state.stallMs + 1];
  if (!state.announce.running) times.push(state.announce.lastMs + state.announce.intervalMs);
  if (!state.announce.running && state.announce.dirty)
    times.push(state.announce.lastMs + ANNOUNCE_MIN_GAP_MS);
  for (const peer of state.peers) if ((peer.busyUntil ?? 0) > now) times.push(peer.busyUntil!);
  for (const request of state.peerRequests) times.push(request.startedMs + limits.endgameAfterMs);
  const soonest = Math.min(...times.filter(t => t > now));
  return Number.isFinite(soonest) ? Math.max(MIN_WAKE_MS, soonest - now) : IDLE_WAKE_MS;
}
