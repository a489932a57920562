/**
 * Pure origin-lease policy (DESIGN 2.4): each piece is fetched from the origin by exactly one member.
 * The first member gets a contiguous run of every unleased, unheld piece; later members split the
 * largest remaining lease (they take its back half, which the holder, fetching front to back,
 * reaches last), up to `maxOriginStreams` live holders. No split goes to a member still holding
 * several pieces nobody else has. A lease whose holder reported no new piece for `leaseTimeoutMs`
 * expires and its unheld pieces go to another member. One lease per holder, so "holders" and
 * "origin streams" are the same count.
 *
 * Fetch commitment: a holder may ask the origin only for pieces below its lease's `fetchEnd`, and a
 * split never cuts below it, so no piece a holder has requested is ever handed to another member
 * (each byte leaves the origin once, whatever is in flight). A fresh lease commits FETCH_AHEAD
 * pieces; each announce of the holder moves `fetchEnd` to FETCH_AHEAD (or about a second of its own
 * origin throughput, if more; four seconds' when it is alone) past its first unheld piece. A lone member on a fast origin is
 * committed more with each announce and streams like a plain mirror; a member alone on a slow link
 * stays splittable, so members that arrive seconds later (a herd never starts on the same
 * millisecond, a rollout spreads over seconds) still get leases of their own. Committing the whole
 * lease to a member found alone once left a 10-node herd with one origin stream and one source of
 * new pieces (3.4 S/B instead of 1.4).
 */

/** Pieces past the first unheld one a holder may always request (two Range requests in flight). */
export const FETCH_AHEAD = 2;
/**
 * Beyond FETCH_AHEAD, a holder is committed about this long of its own origin throughput ahead, so
 * a fast origin is streamed rather than paced by announce round trips; a slow one (a herd on a
 * shared link) keeps the small window and the lease stays splittable.
 */
const COMMIT_AHEAD_MS = 1_000;
/**
 * A member alone in the swarm is committed this long of its throughput ahead: nobody else wants a
 * split now, so a lone member on a fast origin needs fewer Range requests, and one that arrives
 * later still takes the back half of what is left (a split takes half of the unheld pieces when
 * that is more than the commitment).
 */
const COMMIT_AHEAD_ALONE_MS = 4_000;
/** Throughput is measured over at least this long, so one quick first piece does not count as a rate. */
const MIN_RATE_WINDOW_MS = 250;
/** A split gives the taker at least this many pieces. */
const MIN_TAKEN = 2;
/**
 * A member holding more than this many pieces no other member has yet is still busy uploading them
 * (every other member wants them, and its upload is the only source). A split would add origin
 * pieces to that queue and make it the swarm's bottleneck; the live holder keeps the pieces instead.
 */
const MAX_UNSHARED_FOR_SPLIT = 4;

export interface Lease {
  holder: string;
  start: number;
  /** exclusive */
  end: number;
  /** exclusive; start <= fetchEnd <= end: the holder may request pieces below it from the origin. */
  fetchEnd: number;
  grantedAt: number;
  lastProgressAt: number;
  /** Pieces of this lease the holder has reported since the grant (its origin throughput). */
  fetched: number;
}

export interface LeaseInput {
  pieceCount: number;
  /** Pieces some live member holds (union of `have`). */
  isHeld: (index: number) => boolean;
  leases: readonly Lease[];
  /** Live members; leases of anyone else are dropped. */
  members: { has(peerId: string): boolean; readonly size: number };
  requester: string;
  /** The requester may take a lease (wants one, not complete, not releasing). */
  eligible: boolean;
  now: number;
  leaseTimeoutMs: number;
  maxOriginStreams: number;
  /** Pieces the requester holds that no other live member holds. */
  requesterUnshared?: number | (() => number);
}

export type LeaseEvent = "granted" | "split" | "expired" | "finished" | "released" | "dropped";

export interface LeaseDecision {
  leases: Lease[];
  /** The requester's lease after this decision. */
  granted?: Lease;
  events: { event: LeaseEvent; holder: string }[];
}

export function unheldIn(lease: Pick<Lease, "start" | "end">, isHeld: (index: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = lease.start; i < lease.end; i++) if (!isHeld(i)) out.push(i);
  return out;
}

export function decideLeases(input: LeaseInput): LeaseDecision {
  const events: LeaseDecision["events"] = [];
  let requesterStalled = false;
  const live: Lease[] = [];
  for (const lease of input.leases) {
    const fate = fateOf(lease, input);
    if (fate === "live") {
      live.push(lease);
      continue;
    }
    events.push({ event: fate, holder: lease.holder });
    if (fate === "expired" && lease.holder === input.requester) requesterStalled = true;
  }
  const own = live.find(lease => lease.holder === input.requester);
  if (own && input.eligible) {
    const extended = extendFetch(own, input);
    return { leases: live.map(lease => (lease === own ? extended : lease)), granted: extended, events };
  }
  if (!input.eligible) {
    if (own) events.push({ event: "released", holder: own.holder });
    return { leases: live.filter(lease => lease.holder !== input.requester), events };
  }
  if (live.length >= input.maxOriginStreams) return { leases: live, events };
  // A holder that just stalled gets no new stream this time while another member can take over;
  // otherwise it would re-take a slot (by a split) before anyone else could pick up its pieces.
  if (requesterStalled && input.members.size > 1) return { leases: live, events };
  const fresh = firstFreeRun(input, live);
  if (fresh) {
    events.push({ event: "granted", holder: input.requester });
    return { leases: [...live, fresh], granted: fresh, events };
  }
  return splitLargest(input, live, events);
}

function fateOf(lease: Lease, input: LeaseInput): "live" | LeaseEvent {
  if (!input.members.has(lease.holder)) return "dropped";
  if (unheldIn(lease, input.isHeld).length === 0) return "finished";
  if (input.now - lease.lastProgressAt >= input.leaseTimeoutMs) return "expired";
  return "live";
}

function isLeased(index: number, leases: readonly Lease[]): boolean {
  return leases.some(lease => index >= lease.start && index < lease.end);
}

/** The holder's commitment after its announce: never shrinks, never past the lease end. */
function extendFetch(lease: Lease, input: LeaseInput): Lease {
  let firstUnheld = lease.start;
  while (firstUnheld < lease.end && input.isHeld(firstUnheld)) firstUnheld++;
  const alone = input.members.size === 1 && input.members.has(lease.holder);
  const horizonMs = alone ? COMMIT_AHEAD_ALONE_MS : COMMIT_AHEAD_MS;
  const elapsed = Math.max(MIN_RATE_WINDOW_MS, input.now - lease.grantedAt);
  const ahead = Math.max(FETCH_AHEAD, Math.ceil((lease.fetched * horizonMs) / elapsed));
  const wanted = Math.min(lease.end, firstUnheld + ahead);
  return wanted > lease.fetchEnd ? { ...lease, fetchEnd: wanted } : lease;
}

function newLease(input: LeaseInput, start: number, end: number): Lease {
  return {
    holder: input.requester,
    start,
    end,
    fetchEnd: Math.min(end, start + FETCH_AHEAD),
    grantedAt: input.now,
    lastProgressAt: input.now,
    fetched: 0,
  };
}

function firstFreeRun(input: LeaseInput, live: readonly Lease[]): Lease | undefined {
  const free = (i: number) => !input.isHeld(i) && !isLeased(i, live);
  let start = 0;
  while (start < input.pieceCount && !free(start)) start++;
  if (start >= input.pieceCount) return undefined;
  let end = start + 1;
  while (end < input.pieceCount && free(end)) end++;
  return newLease(input, start, end);
}

/**
 * Where a split of `lease` would cut: the back half of its unheld pieces, never below what the
 * holder may have requested; undefined when the taker would get fewer than MIN_TAKEN pieces.
 */
function splitPoint(
  lease: Lease,
  isHeld: (index: number) => boolean,
): { cut: number; taken: number } | undefined {
  const unheld = unheldIn(lease, isHeld);
  const committed = unheld.filter(index => index < lease.fetchEnd).length;
  const at = Math.max(committed, Math.floor(unheld.length / 2));
  const taken = unheld.length - at;
  return taken >= MIN_TAKEN ? { cut: unheld[at], taken } : undefined;
}

function splitLargest(input: LeaseInput, live: Lease[], events: LeaseDecision["events"]): LeaseDecision {
  const unshared = input.requesterUnshared;
  if ((typeof unshared === "function" ? unshared() : (unshared ?? 0)) > MAX_UNSHARED_FOR_SPLIT)
    return { leases: live, events };
  let best: { lease: Lease; cut: number; taken: number } | undefined;
  for (const lease of live) {
    const split = splitPoint(lease, input.isHeld);
    if (split && (!best || split.taken > best.taken)) best = { lease, ...split };
  }
  if (!best) return { leases: live, events };
  const { lease: split, cut } = best;
  const shrunk: Lease = { ...split, end: cut, fetchEnd: Math.min(split.fetchEnd, cut) };
  const taken = newLease(input, cut, split.end);
  events.push({ event: "split", holder: split.holder }, { event: "granted", holder: input.requester });
  const leases = live.map(lease => (lease === split ? shrunk : lease));
  return { leases: [...leases, taken], granted: taken, events };
}
