import { AnnounceRequest, encodeBitfield } from "../../protocol/tracker-api";
import { announce, AnnounceOptions } from "./announce";
import { createProofSigner } from "./proof-signer";
import { emptyBitfield, hasPiece, setPiece, unionOf } from "./bitfield";
import { Lease, LeaseInput, decideLeases } from "./lease-policy";
import { SwarmStore } from "./swarm-store";

const DIGEST = "sha256:" + "ab".repeat(32);
const SIGNER = createProofSigner();
const OPTIONS: AnnounceOptions = {
  leaseTimeoutMs: 15_000,
  maxOriginStreams: 4,
  announceIntervalMs: 10_000,
  maxPeers: 100,
  minPieceSize: 1024,
};

function input(overrides: Partial<LeaseInput>): LeaseInput {
  return {
    pieceCount: 10,
    isHeld: () => false,
    leases: [],
    members: new Set(["a", "b", "c"]),
    requester: "a",
    eligible: true,
    now: 0,
    leaseTimeoutMs: 1000,
    maxOriginStreams: 2,
    ...overrides,
  };
}

const lease = (
  holder: string,
  start: number,
  end: number,
  lastProgressAt = 0,
  fetchEnd = Math.min(end, start + 2),
  fetched = 0,
): Lease => ({ holder, start, end, fetchEnd, grantedAt: 0, lastProgressAt, fetched });
const heldSet =
  (...indices: number[]) =>
  (i: number) =>
    indices.includes(i);
const span = (l?: Lease) => (l ? [l.holder, l.start, l.end] : undefined);

describe("decideLeases", () => {
  const cases: {
    name: string;
    input: Partial<LeaseInput>;
    granted?: (string | number)[];
    leases: (string | number)[][];
  }[] = [
    { name: "first member gets every piece", input: {}, granted: ["a", 0, 10], leases: [["a", 0, 10]] },
    {
      name: "first member skips held pieces and takes the first free run",
      input: { isHeld: heldSet(0, 1, 5) },
      granted: ["a", 2, 5],
      leases: [["a", 2, 5]],
    },
    {
      name: "second member takes the back half of the largest lease",
      input: { requester: "b", leases: [lease("a", 0, 10)] },
      granted: ["b", 5, 10],
      leases: [
        ["a", 0, 5],
        ["b", 5, 10],
      ],
    },
    {
      name: "split counts only unheld pieces and never cuts below what the holder may have requested",
      input: { requester: "b", leases: [lease("a", 0, 10, 0, 8)], isHeld: heldSet(0, 1, 2, 3, 4) },
      granted: ["b", 8, 10],
      leases: [
        ["a", 0, 8],
        ["b", 8, 10],
      ],
    },
    {
      name: "no split for a member still holding five pieces nobody else has (its upload is the queue)",
      input: { requester: "b", leases: [lease("a", 0, 10)], isHeld: heldSet(0, 1), requesterUnshared: 5 },
      leases: [["a", 0, 10]],
    },
    {
      name: "a member holding four pieces nobody else has may still split",
      input: { requester: "b", leases: [lease("a", 0, 10)], isHeld: heldSet(0, 1), requesterUnshared: 4 },
      granted: ["b", 6, 10],
      leases: [
        ["a", 0, 6],
        ["b", 6, 10],
      ],
    },
    {
      name: "no grant beyond maxOriginStreams holders",
      input: { requester: "c", leases: [lease("a", 0, 5), lease("b", 5, 10)] },
      leases: [
        ["a", 0, 5],
        ["b", 5, 10],
      ],
    },
    {
      name: "a holder keeps its own lease",
      input: { requester: "a", leases: [lease("a", 0, 5), lease("b", 5, 10)] },
      granted: ["a", 0, 5],
      leases: [
        ["a", 0, 5],
        ["b", 5, 10],
      ],
    },
    {
      name: "a lease whose unheld pieces are all but one below its fetchEnd is not split",
      input: { requester: "b", leases: [lease("a", 0, 10, 0, 9)], isHeld: i => i < 6 },
      leases: [["a", 0, 10]],
    },
    {
      name: "a lease with one unheld piece is not split",
      input: { requester: "b", leases: [lease("a", 0, 10)], isHeld: i => i !== 9 },
      leases: [["a", 0, 10]],
    },
    {
      name: "a finished lease frees its holder for a new run",
      input: { requester: "a", leases: [lease("a", 0, 5)], isHeld: i => i < 5 },
      granted: ["a", 5, 10],
      leases: [["a", 5, 10]],
    },
    {
      name: "a stalled lease expires and goes to the next member",
      input: { requester: "b", now: 1000, leases: [lease("a", 0, 10, 0)], isHeld: heldSet(0) },
      granted: ["b", 1, 10],
      leases: [["b", 1, 10]],
    },
    {
      name: "a stalled holder does not get its own pieces back while others exist",
      input: { requester: "a", now: 1000, leases: [lease("a", 0, 10, 0)], isHeld: heldSet(0) },
      leases: [],
    },
    {
      name: "a stalled holder alone gets its pieces back",
      input: { requester: "a", now: 1000, members: new Set(["a"]), leases: [lease("a", 0, 10, 0)] },
      granted: ["a", 0, 10],
      leases: [["a", 0, 10]],
    },
    {
      name: "a departed holder's lease is dropped",
      input: { requester: "b", members: new Set(["b"]), leases: [lease("gone", 0, 10)] },
      granted: ["b", 0, 10],
      leases: [["b", 0, 10]],
    },
    {
      name: "an ineligible requester gives its lease back",
      input: { requester: "a", eligible: false, leases: [lease("a", 0, 10)] },
      leases: [],
    },
  ];
  it.each(cases)("$name", ({ input: overrides, granted, leases }) => {
    const decision = decideLeases(input(overrides));
    expect(span(decision.granted)).toEqual(granted);
    expect(decision.leases.map(span)).toEqual(leases);
  });
});

describe("decideLeases: the fetch commitment (fetchEnd)", () => {
  const fetchCases: { name: string; input: Partial<LeaseInput>; fetchEnd: number | undefined }[] = [
    {
      name: "a fresh lease commits two pieces, even to a member alone",
      input: { members: new Set(["a"]) },
      fetchEnd: 2,
    },
    {
      name: "a holder among others is committed two pieces past its first unheld one",
      input: { leases: [lease("a", 0, 10)], isHeld: heldSet(0, 1, 2) },
      fetchEnd: 5,
    },
    {
      name: "a slow holder alone in the swarm stays splittable (a herd's others arrive a moment later)",
      input: {
        members: new Set(["a"]),
        now: 10_000,
        leases: [lease("a", 0, 100, 10_000, 2, 3)],
        isHeld: i => i < 3,
      },
      fetchEnd: 5,
    },
    {
      name: "a fast holder is committed about a second of its own throughput ahead",
      input: { now: 2_000, leases: [lease("a", 0, 100, 2_000, 2, 40)], isHeld: i => i < 40 },
      fetchEnd: 60, // 40 pieces in 2 s: 20 ahead of piece 40
    },
    {
      name: "a fast holder alone is committed about four seconds of its throughput ahead",
      input: {
        members: new Set(["a"]),
        now: 2_000,
        leases: [lease("a", 0, 200, 2_000, 2, 40)],
        isHeld: i => i < 40,
      },
      fetchEnd: 120, // 40 pieces in 2 s: 80 ahead of piece 40
    },
    {
      name: "a slow holder keeps the two-piece window",
      input: { now: 10_000, leases: [lease("a", 0, 100, 10_000, 2, 3)], isHeld: i => i < 3 },
      fetchEnd: 5,
    },
    {
      name: "the commitment never shrinks",
      input: { leases: [lease("a", 0, 10, 0, 9)], isHeld: heldSet(0) },
      fetchEnd: 9,
    },
    {
      name: "the commitment never passes the lease end",
      input: { leases: [lease("a", 0, 4)], isHeld: heldSet(0, 1, 2) },
      fetchEnd: 4,
    },
    {
      name: "the taker of a split starts with two pieces committed",
      input: { requester: "b", leases: [lease("a", 0, 10)] },
      fetchEnd: 7,
    },
  ];
  it.each(fetchCases)("$name", ({ input: overrides, fetchEnd }) => {
    expect(decideLeases(input(overrides)).granted?.fetchEnd).toBe(fetchEnd);
  });

  it("a split of a committed lease leaves every committed piece to its holder", () => {
    for (let committed = 0; committed <= 10; committed++) {
      const decision = decideLeases(input({ requester: "b", leases: [lease("a", 0, 10, 0, committed)] }));
      const taken = decision.granted;
      if (taken) expect(taken.start).toBeGreaterThanOrEqual(committed);
      const kept = decision.leases.find(l => l.holder === "a")!;
      expect(kept.fetchEnd).toBeLessThanOrEqual(kept.end);
      expect(kept.end).toBeGreaterThanOrEqual(Math.min(committed, 10));
    }
  });
});

function request(
  peerId: string,
  pieceCount: number,
  have: Uint8Array,
  extra: Partial<AnnounceRequest> = {},
): AnnounceRequest {
  return {
    digest: DIGEST,
    size: pieceCount * 1024,
    pieceSize: 1024,
    peerId,
    address: `10.0.0.${peerId.slice(1)}:65002`,
    have: encodeBitfield(have),
    pieceHashes: {},
    complete: false,
    wantLease: true,
    releaseLease: false,
    ...extra,
  };
}

/** Throws (failing the test) when a piece has two live holders or there are too many holders. */
function assertNoOverlap(leases: readonly Lease[], maxHolders: number): void {
  const owner = new Map<number, string>();
  for (const l of leases)
    for (let i = l.start; i < l.end; i++) {
      if (owner.has(i)) throw new Error(`piece ${i} leased to ${owner.get(i)} and ${l.holder}`);
      owner.set(i, l.holder);
    }
  const holders = new Set(leases.map(l => l.holder)).size;
  if (holders > maxHolders) throw new Error(`${holders} holders, at most ${maxHolders} allowed`);
}

describe("herd of 10 joiners", () => {
  const PIECES = 200;
  const peers = Array.from({ length: 10 }, (_, i) => `p${i + 1}`);

  it("leases every piece to exactly one member, to at most maxOriginStreams holders", () => {
    const store = new SwarmStore({ peerTtlMs: 60_000 });
    const holders = new Map<string, [number, number]>();
    for (const peer of peers) {
      const { response } = announce(store, request(peer, PIECES, emptyBitfield(PIECES)), OPTIONS, SIGNER, 0);
      if (response.leases.length) holders.set(peer, [response.leases[0].start, response.leases[0].end]);
    }
    const swarm = store.get(DIGEST)!;
    assertNoOverlap(swarm.leases, OPTIONS.maxOriginStreams);
    expect(swarm.leases).toHaveLength(4);
    const covered = swarm.leases.reduce((n, l) => n + (l.end - l.start), 0);
    expect(covered).toBe(PIECES);
  });

  it("fetches each piece from the origin once when holders announce after every piece", () => {
    const store = new SwarmStore({ peerTtlMs: 60_000 });
    const have = new Map(peers.map(p => [p, emptyBitfield(PIECES)]));
    const originFetches = new Array<number>(PIECES).fill(0);
    let now = 0;
    for (let round = 0; round < 1000; round++) {
      now += 100;
      for (const peer of peers) {
        const bits = have.get(peer)!;
        const { response } = announce(store, request(peer, PIECES, bits), OPTIONS, SIGNER, now);
        assertNoOverlap(store.get(DIGEST)!.leases, OPTIONS.maxOriginStreams);
        const lease = response.leases[0];
        if (!lease) continue;
        const next = nextUnheld(store, lease.start, lease.fetchEnd);
        if (next === undefined) continue;
        originFetches[next]++;
        setPiece(bits, next);
      }
      // Peers copy each other's pieces between announces (the P2P part, idealised).
      const union = unionOf(have.values(), PIECES);
      if (fullyHeld(union, PIECES)) break;
      for (const peer of peers) have.set(peer, union.slice());
    }
    expect(originFetches.filter(n => n !== 1)).toEqual([]);
  });

  it("hands a stalled lease to another member after leaseTimeout", () => {
    const store = new SwarmStore({ peerTtlMs: 600_000 });
    const first = announce(store, request("p1", PIECES, emptyBitfield(PIECES)), OPTIONS, SIGNER, 0).response;
    expect(first.leases).toEqual([{ start: 0, end: PIECES, fetchEnd: 2 }]);
    const partial = emptyBitfield(PIECES);
    setPiece(partial, 0);
    announce(store, request("p1", PIECES, partial), OPTIONS, SIGNER, 5_000);
    // p1 goes quiet (alive, but no new piece) past the timeout; p2 arrives.
    const later = announce(
      store,
      request("p2", PIECES, emptyBitfield(PIECES)),
      OPTIONS,
      SIGNER,
      5_000 + OPTIONS.leaseTimeoutMs,
    );
    expect(later.response.leases).toEqual([{ start: 1, end: PIECES, fetchEnd: 3 }]);
    const again = announce(
      store,
      request("p1", PIECES, partial),
      OPTIONS,
      SIGNER,
      5_000 + OPTIONS.leaseTimeoutMs + 1,
    );
    // p1 may become a second origin stream, but only on pieces p2 does not hold.
    expect(again.response.leases).toEqual([{ start: 100, end: PIECES, fetchEnd: 102 }]);
    expect(store.get(DIGEST)!.leases.find(l => l.holder === "p2")).toMatchObject({ start: 1, end: 100 });
    assertNoOverlap(store.get(DIGEST)!.leases, OPTIONS.maxOriginStreams);
  });

  it("hands a stalled holder's pieces over even when every origin stream is taken", () => {
    const store = new SwarmStore({ peerTtlMs: 600_000 });
    const have = new Map(peers.map(p => [p, emptyBitfield(PIECES)]));
    for (const peer of peers) announce(store, request(peer, PIECES, have.get(peer)!), OPTIONS, SIGNER, 0);
    const stalled = store.get(DIGEST)!.leases[0];
    // Every other holder makes progress; the stalled one only copies pieces from peers (not progress).
    let now = 0;
    for (let step = 0; step < 3; step++) {
      now += OPTIONS.leaseTimeoutMs / 2;
      for (const l of store.get(DIGEST)!.leases) {
        const bits = have.get(l.holder)!;
        if (l.holder === stalled.holder)
          setPiece(bits, PIECES - 1 - step); // outside its lease? only if not in it
        else setPiece(bits, nextUnheld(store, l.start, l.end) ?? l.start);
        announce(store, request(l.holder, PIECES, bits), OPTIONS, SIGNER, now);
      }
    }
    const stolenBy = peers.find(
      p => p !== stalled.holder && !store.get(DIGEST)!.leases.some(l => l.holder === p),
    )!;
    const { response } = announce(
      store,
      request(stolenBy, PIECES, have.get(stolenBy)!),
      OPTIONS,
      SIGNER,
      now,
    );
    expect(response.leases).toHaveLength(1);
    expect(response.leases[0].start).toBeGreaterThanOrEqual(stalled.start);
    expect(response.leases[0].end).toBeLessThanOrEqual(stalled.end);
    expect(store.get(DIGEST)!.leases.some(l => l.holder === stalled.holder)).toBe(false);
    assertNoOverlap(store.get(DIGEST)!.leases, OPTIONS.maxOriginStreams);
  });

  it("a dead downloader's pieces count as held no longer: they are leased to the living", () => {
    const store = new SwarmStore({ peerTtlMs: 600_000, leecherTtlMs: OPTIONS.leaseTimeoutMs });
    announce(store, request("p1", PIECES, emptyBitfield(PIECES)), OPTIONS, SIGNER, 0);
    const fetched = emptyBitfield(PIECES);
    for (let i = 0; i < 5; i++) setPiece(fetched, i);
    announce(store, request("p1", PIECES, fetched), OPTIONS, SIGNER, 1_000);
    // p2 joins while p1 is alive: it takes the back of p1's lease, beyond what p1 was committed.
    const early = announce(
      store,
      request("p2", PIECES, emptyBitfield(PIECES)),
      OPTIONS,
      SIGNER,
      1_500,
    ).response;
    expect(early.leases).toEqual([expect.objectContaining({ end: PIECES })]);
    const p1Lease = store.get(DIGEST)!.leases.find(l => l.holder === "p1")!;
    expect(p1Lease).toMatchObject({ start: 0, end: early.leases[0].start });
    expect(p1Lease.fetchEnd).toBeLessThanOrEqual(early.leases[0].start);
    // p1 dies (no announce); p2 keeps announcing with nothing new of p1's range.
    const late = announce(
      store,
      request("p2", PIECES, emptyBitfield(PIECES)),
      OPTIONS,
      SIGNER,
      1_000 + OPTIONS.leaseTimeoutMs,
    ).response;
    expect(late.peers).toEqual([]);
    expect(store.get(DIGEST)!.members.has("p1")).toBe(false);
    const next = announce(
      store,
      request("p3", PIECES, emptyBitfield(PIECES)),
      OPTIONS,
      SIGNER,
      1_000 + OPTIONS.leaseTimeoutMs + 1,
    ).response;
    const leased = [...late.leases, ...next.leases];
    expect(leased.some(l => l.start < 5)).toBe(true);
    assertNoOverlap(store.get(DIGEST)!.leases, OPTIONS.maxOriginStreams);
  });

  it("splits a lease for a member whose pieces the others have, not for one whose they lack", () => {
    const store = new SwarmStore({ peerTtlMs: 60_000 });
    announce(store, request("p1", PIECES, emptyBitfield(PIECES)), OPTIONS, SIGNER, 0); // p1 leases all
    const pieces = (...indices: number[]) => {
      const bits = emptyBitfield(PIECES);
      for (const i of indices) setPiece(bits, i);
      return bits;
    };
    // p2 holds 90-95, which nobody else has (say, fetched from an expired lease).
    const busy = announce(store, request("p2", PIECES, pieces(90, 91, 92, 93, 94, 95)), OPTIONS, SIGNER, 10);
    expect(busy.response.leases).toEqual([]);
    // p3 holds the same pieces as p2: none of them is only its own, and p2's are shared now.
    const free = announce(store, request("p3", PIECES, pieces(90, 91, 92, 93, 94, 95)), OPTIONS, SIGNER, 20);
    expect(free.response.leases).toHaveLength(1);
    assertNoOverlap(store.get(DIGEST)!.leases, OPTIONS.maxOriginStreams);
  });

  it("gives no lease to a seeder or a peer that does not want one", () => {
    const store = new SwarmStore({ peerTtlMs: 60_000 });
    const full = emptyBitfield(PIECES).fill(0xff);
    const seeder = announce(
      store,
      request("p1", PIECES, full, { complete: true }),
      OPTIONS,
      SIGNER,
      0,
    ).response;
    const shy = announce(
      store,
      request("p2", PIECES, emptyBitfield(PIECES), { wantLease: false }),
      OPTIONS,
      SIGNER,
      0,
    ).response;
    expect(seeder.leases).toEqual([]);
    expect(shy.leases).toEqual([]);
    expect(shy.peers.map(p => p.peerId)).toEqual(["p1"]);
  });
});

function nextUnheld(store: SwarmStore, start: number, end: number): number | undefined {
  const swarm = store.get(DIGEST)!;
  for (let i = start; i < end; i++) if (!store.isHeld(swarm, i)) return i;
  return undefined;
}

function fullyHeld(bits: Uint8Array, pieceCount: number): boolean {
  for (let i = 0; i < pieceCount; i++) if (!hasPiece(bits, i)) return false;
  return true;
}
