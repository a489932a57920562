import { Bitfield } from "../../../protocol/pieces";
import type { AnnounceResponse } from "../../../protocol/tracker-api";
import { missingRuns, SwarmView } from "./swarm-view";

function bits(count: number, pieces: number[]): Bitfield {
  const field = new Bitfield(count);
  for (const p of pieces) field.set(p);
  return field;
}

function response(over: Partial<AnnounceResponse>): AnnounceResponse {
  return {
    pieceSize: 4,
    pieceCount: 4,
    peers: [],
    pieceHashes: {},
    leases: [],
    leaseTimeoutMs: 1000,
    announceIntervalMs: 1000,
    ...over,
  };
}

describe("missingRuns", () => {
  it.each([
    { name: "none held", held: [], want: [{ start: 0, end: 6 }] },
    { name: "all held", held: [0, 1, 2, 3, 4, 5], want: [] },
    {
      name: "gaps",
      held: [1, 2, 5],
      want: [
        { start: 0, end: 1 },
        { start: 3, end: 5 },
      ],
    },
  ])("$name", ({ held, want }) => {
    expect(missingRuns(bits(6, held))).toEqual(want);
  });
});

describe("SwarmView", () => {
  const h = (c: string) => c.repeat(64);

  it("keeps its own origin hashes over the tracker's and drops leases when told", () => {
    const view = new SwarmView(4, 2);
    view.fetchedFromOrigin(0, h("a"));
    view.apply(
      response({ pieceHashes: { 0: h("b"), 1: h("c") }, leases: [{ start: 2, end: 4, fetchEnd: 4 }] }),
      true,
    );
    expect(view.hashes.get(0)).toBe(h("a"));
    expect(view.hashes.get(1)).toBe(h("c"));
    expect([view.inLease(1), view.inLease(2), view.inLease(3)]).toEqual([false, true, true]);
    view.apply(response({ leases: [{ start: 2, end: 4, fetchEnd: 4 }] }), false);
    expect(view.inLease(2)).toBe(false);
  });

  it("bans a peer after repeated failures, and keeps the ban across tracker answers", () => {
    const view = new SwarmView(4, 2);
    const peers = [
      { peerId: "p1", address: "127.0.0.1:1", have: bits(4, [0]).encode(), complete: false },
      { peerId: "p2", address: "127.0.0.1:2", have: bits(4, [1]).encode(), complete: false },
    ];
    view.apply(response({ peers }), true);
    expect(view.peerFailed("p1")).toBe(false);
    expect(view.peers.map(p => p.banned)).toEqual([false, false]);
    expect(view.peerFailed("p1")).toBe(true); // this failure banned it (counted once)
    expect(view.peerFailed("p1")).toBe(false);
    view.apply(response({ peers }), true);
    expect(view.peers.map(p => p.banned)).toEqual([true, false]);
    expect(view.noUsablePeer()).toBe(false);
    expect(view.ban("p2")).toBe(true);
    expect(view.ban("p2")).toBe(false);
    expect(view.noUsablePeer()).toBe(true);
  });

  it("says the swarm progressed only when the peers hold more pieces than ever seen", () => {
    const view = new SwarmView(4, 2);
    const peer = (id: string, pieces: number[]) => ({
      peerId: id,
      address: "127.0.0.1:1",
      have: bits(4, pieces).encode(),
      complete: false,
    });
    expect(view.apply(response({ peers: [] }), true)).toBe(false);
    expect(view.apply(response({ peers: [peer("p1", [0])] }), true)).toBe(true);
    expect(view.apply(response({ peers: [peer("p1", [0])] }), true)).toBe(false);
    // p1 leaves, p2 brings one piece: not more than seen before.
    expect(view.apply(response({ peers: [peer("p2", [3])] }), true)).toBe(false);
    expect(view.apply(response({ peers: [peer("p2", [2, 3])] }), true)).toBe(true);
  });

  it("reports all hashes only when every piece has one", () => {
    const view = new SwarmView(2, 2);
    view.fetchedFromOrigin(0, h("a"));
    expect(view.allHashes()).toBeUndefined();
    view.apply(response({ pieceCount: 2, pieceHashes: { 1: h("b") } }), true);
    expect(view.allHashes()).toEqual({ 0: h("a"), 1: h("b") });
  });
});
