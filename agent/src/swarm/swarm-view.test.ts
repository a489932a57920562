import { generateKeyPairSync } from "node:crypto";
import { publicKeyToWire } from "../../../protocol/piece-proof";
import { Bitfield } from "../../../protocol/pieces";
import type { AnnounceResponse } from "../../../protocol/tracker-api";
import { MANY_PEERS_KNOWN, MAX_ASKERS_KNOWN, missingRuns, SwarmView } from "./swarm-view";

function bits(count: number, pieces: number[]): Bitfield {
  const field = new Bitfield(count);
  for (const p of pieces) field.set(p);
  return field;
}

const KEY = Buffer.from(publicKeyToWire(generateKeyPairSync("ed25519").publicKey), "base64").toString(
  "base64",
);

function response(over: Partial<AnnounceResponse>): AnnounceResponse {
  return {
    pieceSize: 4,
    pieceCount: 4,
    peers: [],
    swarmMembers: 1,
    swarmCopies: 0,
    proofs: {},
    trackerKey: KEY,
    leases: [],
    leaseTimeoutMs: 1000,
    announceIntervalMs: 1000,
    downloadIntervalMs: 1000,
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

const peerInfo = (id: string, pieces: number[]) => ({
  peerId: id,
  address: "127.0.0.1:1",
  have: bits(4, pieces).encode(),
  complete: false,
});

describe("SwarmView", () => {
  it("takes the lease and the tracker key, and drops leases when told", () => {
    const view = new SwarmView(4, 2);
    view.apply(response({ leases: [{ start: 2, end: 4, fetchEnd: 4 }] }), true, 0);
    expect([view.inLease(1), view.inLease(2), view.inLease(3)]).toEqual([false, true, true]);
    expect(view.trackerKey?.wire).toBe(KEY);
    view.apply(response({ leases: [{ start: 2, end: 4, fetchEnd: 4 }] }), false, 0);
    expect(view.inLease(2)).toBe(false);
  });

  it("bans a peer after repeated failures, and keeps the ban across tracker answers", () => {
    const view = new SwarmView(4, 2);
    const peers = [peerInfo("p1", [0]), peerInfo("p2", [1])];
    view.apply(response({ peers }), true, 0);
    expect(view.peerFailed("p1")).toBe(false);
    expect(view.peers.map(p => p.banned)).toEqual([false, false]);
    expect(view.peerFailed("p1")).toBe(true); // this failure banned it (counted once)
    expect(view.peerFailed("p1")).toBe(false);
    view.apply(response({ peers }), true, 0);
    expect(view.peers.map(p => p.banned)).toEqual([true, false]);
    expect(view.noUsablePeer()).toBe(false);
    expect(view.ban("p2")).toBe(true);
    expect(view.ban("p2")).toBe(false);
    expect(view.noUsablePeer()).toBe(true);
  });

  it("remembers peers across rotating samples and learns their pieces from HAVE bitfields", () => {
    const view = new SwarmView(4, 2);
    view.apply(response({ peers: [peerInfo("p1", [0])] }), true, 0);
    view.apply(response({ peers: [peerInfo("p2", [1])] }), true, 1);
    expect(view.peers.map(p => p.id).sort()).toEqual(["p1", "p2"]);
    view.learnHave("p1", bits(4, [0, 2]).encode(), 2);
    expect(view.peers.find(p => p.id === "p1")!.have.count()).toBe(2);
    view.learnHave("p1", "not base64!", 3); // a malformed bitfield counts as a failure
    view.learnHave("p1", "also bad", 3);
    expect(view.peers.find(p => p.id === "p1")!.banned).toBe(true);
  });

  it("says the swarm progressed only when it holds more piece copies than ever seen", () => {
    const view = new SwarmView(4, 2);
    expect(view.apply(response({ swarmCopies: 0 }), true, 0)).toBe(true);
    expect(view.apply(response({ swarmCopies: 3 }), true, 0)).toBe(true);
    expect(view.apply(response({ swarmCopies: 3 }), true, 0)).toBe(false);
    expect(view.apply(response({ swarmCopies: 2 }), true, 0)).toBe(false); // a member left
    expect(view.apply(response({ swarmCopies: 4 }), true, 0)).toBe(true);
  });
});

describe("SwarmView.learnAsker: a peer's own claim, from its request", () => {
  const have = (pieces: number[]) => bits(4, pieces).encode();

  it("adds an asker it did not know, with what it holds", () => {
    const view = new SwarmView(4, 2);
    view.learnAsker("a", "10.0.0.1:65002", have([0, 2]), 5);
    expect(view.peers).toEqual([
      expect.objectContaining({ id: "a", address: "10.0.0.1:65002", have: bits(4, [0, 2]), lastHeardMs: 5 }),
    ]);
  });

  it("never takes a claim for an id it knows at another address, nor counts it against that id", () => {
    const view = new SwarmView(4, 1);
    view.apply(
      response({ peers: [{ peerId: "a", address: "10.0.0.1:65002", have: have([1]), complete: false }] }),
      true,
      1,
    );
    view.learnAsker("a", "10.6.6.6:65002", have([0, 1, 2, 3]), 2);
    view.learnAsker("a", "10.0.0.1:65002", "not base64!", 3);
    view.learnAsker("a", "10.0.0.1:65002", have([0, 1, 2, 3]).slice(0, 1), 4); // wrong length
    expect(view.peers).toEqual([
      expect.objectContaining({ id: "a", address: "10.0.0.1:65002", banned: false }),
    ]);
    expect(view.peers[0].have).toEqual(bits(4, [1]));
  });

  it("updates a known peer at the same address, and leaves banned ids out", () => {
    const view = new SwarmView(4, 2);
    view.learnAsker("a", "10.0.0.1:65002", have([0]), 1);
    view.learnAsker("a", "10.0.0.1:65002", have([0, 3]), 2);
    expect(view.peers[0].have).toEqual(bits(4, [0, 3]));
    view.ban("b");
    view.learnAsker("b", "10.0.0.2:65002", have([1]), 3);
    expect(view.peers.map(p => p.id)).toEqual(["a"]);
  });

  it("a flood of claimed peers cannot crowd out the tracker's sample", () => {
    const view = new SwarmView(4, 2);
    for (let i = 0; i < 200; i++) view.learnAsker(`asker-${i}`, `10.0.1.${i}:65002`, have([0]), i);
    expect(view.peers.length).toBe(MAX_ASKERS_KNOWN);
    const sampled = Array.from({ length: 10 }, (_, i) => ({
      peerId: `sampled-${i}`,
      address: `10.0.2.${i}:65002`,
      have: have([1]),
      complete: false,
    }));
    view.apply(response({ peers: sampled }), true, 100);
    expect(view.peers.filter(p => p.id.startsWith("sampled-")).length).toBe(10);
  });

  it.each([
    { known: 2, longest: 8 },
    { known: MANY_PEERS_KNOWN, longest: 32 },
  ])(
    "backs off a busy peer doubling per busy answer, up to $longest x with $known peers known",
    ({ known, longest }) => {
      const view = new SwarmView(4, 2);
      const peers = Array.from({ length: known }, (_, i) => ({
        peerId: `p${i}`,
        address: `10.0.0.${i}:65002`,
        have: bits(4, [0]).encode(),
        complete: false,
      }));
      view.apply(response({ peers }), true, 0);
      const waits: number[] = [];
      for (let answer = 0; answer < 8; answer++) {
        view.peerBusy("p0", 1_000, 100);
        waits.push(view.peers.find(p => p.id === "p0")!.busyUntil! - 1_000);
      }
      expect(waits).toEqual(
        [100, 200, 400, 800, 1600, 3200, 6400, 12800].map(ms => Math.min(ms, 100 * longest)),
      );
      view.peerServed("p0");
      view.peerBusy("p0", 1_000, 100);
      expect(view.peers.find(p => p.id === "p0")!.busyUntil).toBe(1_100);
    },
  );

  it("pushes a gained piece to peers lacking something it serves, the most recently heard first", () => {
    const view = new SwarmView(4, 2);
    const heard = [
      { id: "full", pieces: [0, 1, 2, 3], at: 5 },
      { id: "old", pieces: [], at: 1 },
      { id: "new", pieces: [3], at: 4 },
      { id: "mid", pieces: [1], at: 3 },
      { id: "bad", pieces: [], at: 6 },
    ];
    for (const p of heard) view.learnAsker(p.id, `10.0.0.${p.at}:65002`, bits(4, p.pieces).encode(), p.at);
    view.ban("bad");
    const servable = bits(4, [1, 2]);
    expect(view.pushTargets(servable, 8).map(p => p.id)).toEqual(["new", "mid", "old"]);
    expect(view.pushTargets(servable, 2).map(p => p.id)).toEqual(["new", "mid"]);
    expect(view.pushTargets(bits(4, []), 8)).toEqual([]);
  });
});
