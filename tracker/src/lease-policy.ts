/**
 * Pure origin-lease policy (DESIGN 2.4): each piece is fetched from the origin by exactly one member.
 * The first member gets a contiguous run of every unleased, unheld piece; later members split the
 * largest remaining lease (they take its back half, which the holder, fetching front to back,
 * reaches last; the holder keeps at least its next three unheld pieces), up to `maxOriginStreams`
 * live holders. No split goes to a member still holding several pieces nobody else has. A lease
 * whose holder reported no new piece
 * for `leaseTimeoutMs` expires and its unheld pieces go to another member.
 * One lease per holder, so "holders" and "origin streams" are the same count.
 */

/**
 * The holder's first unheld pieces may already be on their way: one it stored but has not announced
 * yet, and two Range requests running (the agent's origin pipeline). A split leaves those three with
 * the holder and gives the taker at least two, so no piece is fetched from the origin twice.
 */
const HOLDER_KEEPS = 3;
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
  grantedAt: number;
  lastProgressAt: number;
}

export interface LeaseInput {
  pieceCount: number;
  /** Pieces some live member holds (union of `have`). */
  isHeld: (index: number) => boolean;
  leases: readonly Lease[];
  /** Live members; leases of anyone else are dropped. */
  members: ReadonlySet<string>;
  requester: string;
  /** The requester may take a lease (wants one, not complete, not releasing). */
  eligible: boolean;
  now: number;
  leaseTimeoutMs: number;
  maxOriginStreams: number;
  /** Pieces the requester holds that no other live member holds. */
  requesterUnshared?: number;
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
  if (own || !input.eligible) {
    const kept = input.eligible ? live : live.filter(lease => lease.holder !== input.requester);
    if (own && !input.eligible) events.push({ event: "released", holder: own.holder });
    return { leases: kept, granted: input.eligible ? own : undefined, events };
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

function firstFreeRun(input: LeaseInput, live: readonly Lease[]): Lease | undefined {
  const free = (i: number) => !input.isHeld(i) && !isLeased(i, live);
  let start = 0;
  while (start < input.pieceCount && !free(start)) start++;
  if (start >= input.pieceCount) return undefined;
  let end = start + 1;
  while (end < input.pieceCount && free(end)) end++;
  return { holder: input.requester, start, end, grantedAt: input.now, lastProgressAt: input.now };
}

function splitLargest(input: LeaseInput, live: Lease[], events: LeaseDecision["events"]): LeaseDecision {
  if ((input.requesterUnshared ?? 0) > MAX_UNSHARED_FOR_SPLIT) return { leases: live, events };
  let best: { lease: Lease; unheld: number[] } | undefined;
  for (const lease of live) {
    const unheld = unheldIn(lease, input.isHeld);
    if (!best || unheld.length > best.unheld.length) best = { lease, unheld };
  }
  if (!best || best.unheld.length < HOLDER_KEEPS + MIN_TAKEN) return { leases: live, events };
  const cut = best.unheld[Math.max(HOLDER_KEEPS, Math.floor(best.unheld.length / 2))];
  const shrunk: Lease = { ...best.lease, end: cut };
  const taken: Lease = {
    holder: input.requester,
    start: cut,
    end: best.lease.end,
    grantedAt: input.now,
    lastProgressAt: input.now,
  };
  events.push({ event: "split", holder: best.lease.holder }, { event: "granted", holder: input.requester });
  const leases = live.map(lease => (lease === best!.lease ? shrunk : lease));
  return { leases: [...leases, taken], granted: taken, events };
}
