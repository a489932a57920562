/**
 * Which piece to request from which peer next (DESIGN 2.4). Pure: the caller passes the whole state
 * and gets back requests to start; it owns sending, receiving and time.
 *
 * - Only pieces we need, held by a peer that is neither banned nor busy (it answered 503 a moment
 *   ago). Each piece comes with its proof, so nothing has to be known about it in advance.
 * - Rarest first (fewest unbanned holders), ties by index from `startAt` (each download its own).
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
  /**
   * Among equally rare pieces, start from this index (then wrap): each download takes its own, so a
   * herd does not converge on the same pieces and holders. Default 0 (lowest index first).
   */
  startAt?: number;
}

/**
 * Cost: one pass over each usable peer's bitfield masked by `needed` (bytes, not bits), one pass
 * over the pieces, and a scan of the peers for each request made: it runs on every event of a
 * download, thousands of times per blob, and in the swarm simulation for every node.
 */
export function pickPieces(input: PickInput): PieceRequest[] {
  const peers = input.peers.filter(peer => !peer.banned && !((peer.busyUntil ?? 0) > input.now));
  const index = new Map<string, number>(peers.map((peer, k) => [peer.id, k]));
  const load = new Int32Array(peers.length);
  const asked = new Map<number, Set<string>>();
  const slow = new Set<number>();
  for (const request of input.inFlight) {
    if (input.now >= request.startedMs + input.endgameAfterMs) slow.add(request.piece); // as the plan's wake computes it
    const k = index.get(request.peerId);
    if (k !== undefined) load[k]++;
    const set = asked.get(request.piece) ?? new Set<string>();
    set.add(request.peerId);
    asked.set(request.piece, set);
  }
  const { holders, soleHolder } = countHolders(peers, input.needed);
  const { order, unique } = rarestFirst(holders, soleHolder, peers.length, input.startAt ?? 0);
  const endgame = input.needed.count() <= input.endgamePieces;

  const picked: PieceRequest[] = [];
  let total = input.inFlight.length;
  let open = 0;
  for (let k = 0; k < peers.length; k++) if (load[k] < input.maxPerPeer) open++;
  const pass = (duplicates: boolean) => {
    for (const piece of order) {
      if (total >= input.maxTotal || open === 0) break;
      const already = asked.get(piece);
      if (duplicates ? !already || already.size >= 2 || !slow.has(piece) : already) continue;
      const k = leastLoaded(peers, piece, load, unique, input.maxPerPeer, already);
      if (k < 0) continue;
      picked.push({ piece, peerId: peers[k].id });
      if (++load[k] === input.maxPerPeer) open--;
      total++;
    }
  };
  pass(false);
  // Duplicates only when every piece a peer can give is already asked for.
  if (endgame && order.every(piece => asked.has(piece))) pass(true);
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

/**
 * Pieces some peer holds, fewest holders first and by index within a count (a counting sort), and
 * per peer the needed pieces only it holds (fresh ones, e.g. from its origin lease).
 */
function rarestFirst(holders: Uint16Array, soleHolder: Int32Array, peerCount: number, startAt: number) {
  const unique = new Int32Array(peerCount);
  const offsets = new Int32Array(peerCount + 2);
  for (let piece = 0; piece < holders.length; piece++) {
    const count = holders[piece];
    if (count === 0) continue;
    offsets[count + 1]++;
    if (count === 1) unique[soleHolder[piece]]++;
  }
  for (let c = 1; c < offsets.length; c++) offsets[c] += offsets[c - 1];
  const order = new Array<number>(offsets[offsets.length - 1]);
  for (let j = 0; j < holders.length; j++) {
    const piece = (startAt + j) % holders.length;
    if (holders[piece] > 0) order[offsets[holders[piece]]++] = piece;
  }
  return { order, unique };
}

/**
 * The holder of `piece` with room under `maxPerPeer` and the least load; among equally loaded ones,
 * the one holding the fewest pieces nobody else has, then the lowest id. -1 when none.
 */
function leastLoaded(
  peers: readonly PeerView[],
  piece: number,
  load: Int32Array,
  unique: Int32Array,
  maxPerPeer: number,
  exclude: Set<string> | undefined,
): number {
  const byte = piece >> 3;
  const mask = 0x80 >> (piece & 7);
  let best = -1;
  for (let k = 0; k < peers.length; k++) {
    if (!(peers[k].have.bytes[byte] & mask) || load[k] >= maxPerPeer || exclude?.has(peers[k].id)) continue;
    if (
      best < 0 ||
      load[k] < load[best] ||
      (load[k] === load[best] &&
        (unique[k] < unique[best] || (unique[k] === unique[best] && peers[k].id < peers[best].id)))
    )
      best = k;
  }
  return best;
}
