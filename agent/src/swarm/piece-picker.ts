/**
 * Which piece to request from which peer next (DESIGN 2.4). Pure: the caller passes the whole state
 * and gets back requests to start; it owns sending, receiving and time.
 *
 * - Only pieces we need, held by a peer that is neither banned nor busy (it answered 503 a moment
 *   ago). Each piece comes with its proof, so nothing has to be known about it in advance.
 * - Rarest first (fewest unbanned holders), ties by lower index (helps the in-order client stream).
 * - For each piece, the least-loaded holder with room under `maxPerPeer`; among equally loaded ones,
 *   the holder of the fewest pieces nobody else has, so a holder of fresh pieces (a lease holder)
 *   keeps its upload slots for them. At most `maxTotal` requests.
 * - Endgame: once at most `endgamePieces` needed pieces are left and every one a peer holds is already
 *   requested, a piece whose request has run for `endgameAfterMs` may get one more request from a
 *   different peer (first answer wins).
 */
import type { Bitfield } from "../../../protocol/pieces";

export interface PeerView {
  id: string;
  have: Bitfield;
  banned: boolean;
  /** Busy until this time (ms): not asked before. */
  busyUntil?: number;
}

export interface PieceRequest {
  piece: number;
  peerId: string;
}

export interface PickInput {
  pieceCount: number;
  /** Pieces we still have to get from peers (not held, not ours to fetch from the origin). */
  needed: Bitfield;
  peers: readonly PeerView[];
  /** Requests already running, with when they started. */
  inFlight: readonly (PieceRequest & { startedMs: number })[];
  now: number;
  /** Endgame duplicates only requests running at least this long (a slow or stuck peer). */
  endgameAfterMs: number;
  maxPerPeer: number;
  maxTotal: number;
  endgamePieces: number;
}

/**
 * Cost: one pass over each usable peer's bitfield masked by `needed` (bytes, not bits), one pass
 * over the pieces, and a scan of the peers for each request made: it runs on every event of a
 * download, thousands of times per blob, and in the swarm simulation for every node.
 */
export function pickPieces(input: PickInput): PieceRequest[] {
  const peers = input.peers.filter(peer => !peer.banned && !((peer.busyUntil ?? 0) > input.now));
  const load = new Map<string, number>(peers.map(peer => [peer.id, 0]));
  const asked = new Map<number, Set<string>>();
  const slow = new Set<number>();
  for (const request of input.inFlight) {
    if (input.now - request.startedMs >= input.endgameAfterMs) slow.add(request.piece);
    if (load.has(request.peerId)) load.set(request.peerId, load.get(request.peerId)! + 1);
    const set = asked.get(request.piece) ?? new Set<string>();
    set.add(request.peerId);
    asked.set(request.piece, set);
  }
  const { holders, soleHolder } = countHolders(peers, input.needed);
  /** Per peer: needed pieces only it holds (fresh ones, e.g. from its origin lease). */
  const unique = new Map<string, number>(peers.map(peer => [peer.id, 0]));
  // Candidates in rarest-first order, ties by lower index (helps the in-order client stream).
  const buckets: number[][] = Array.from({ length: peers.length + 1 }, () => []);
  for (let piece = 0; piece < input.pieceCount; piece++) {
    const count = holders[piece];
    if (count === 0) continue;
    if (count === 1) unique.set(peers[soleHolder[piece]].id, unique.get(peers[soleHolder[piece]].id)! + 1);
    buckets[count].push(piece);
  }
  const candidates = buckets.flat();
  const endgame = input.needed.count() <= input.endgamePieces;

  const picked: PieceRequest[] = [];
  let total = input.inFlight.length;
  const pass = (duplicates: boolean) => {
    for (const piece of candidates) {
      if (total >= input.maxTotal) break;
      const already = asked.get(piece);
      if (duplicates ? !already || already.size >= 2 || !slow.has(piece) : already) continue;
      const peer = leastLoaded(peers, piece, load, unique, input.maxPerPeer, already);
      if (!peer) continue;
      picked.push({ piece, peerId: peer.id });
      load.set(peer.id, load.get(peer.id)! + 1);
      total++;
    }
  };
  pass(false);
  // Duplicates only when every piece a peer can give is already asked for.
  if (endgame && candidates.every(piece => asked.has(piece))) pass(true);
  return picked;
}

/** For each needed piece: how many usable peers hold it, and (when one does) which. */
function countHolders(peers: readonly PeerView[], needed: Bitfield) {
  const holders = new Uint16Array(needed.pieceCount);
  const soleHolder = new Int32Array(needed.pieceCount);
  const want = needed.bytes;
  peers.forEach((peer, k) => {
    const have = peer.have.bytes;
    for (let b = 0; b < want.length; b++) {
      let bits = have[b] & want[b];
      while (bits) {
        const bit = 31 - Math.clz32(bits); // lowest piece index = highest bit of the byte
        bits &= ~(1 << bit);
        const piece = b * 8 + (7 - bit);
        holders[piece]++;
        soleHolder[piece] = k;
      }
    }
  });
  return { holders, soleHolder };
}

function leastLoaded(
  peers: readonly PeerView[],
  piece: number,
  load: Map<string, number>,
  unique: Map<string, number>,
  maxPerPeer: number,
  exclude: Set<string> | undefined,
): PeerView | undefined {
  const rank = (peer: PeerView) => [load.get(peer.id)!, unique.get(peer.id)!];
  let best: PeerView | undefined;
  for (const peer of peers) {
    if (!peer.have.has(piece)) continue;
    if (load.get(peer.id)! >= maxPerPeer || exclude?.has(peer.id)) continue;
    if (!best) {
      best = peer;
      continue;
    }
    const [n, u] = rank(peer);
    const [bn, bu] = rank(best);
    if (n < bn || (n === bn && (u < bu || (u === bu && peer.id < best.id)))) best = peer;
  }
  return best;
}
