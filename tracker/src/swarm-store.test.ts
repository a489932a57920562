import { emptyBitfield, setPiece } from "./bitfield";
import { SwarmStore } from "./swarm-store";

const DIGEST = "sha256:" + "12".repeat(32);
const OTHER = "sha256:" + "34".repeat(32);

function member(peerId: string, lastSeen: number, pieces: number[] = []) {
  const have = emptyBitfield(10);
  for (const i of pieces) setPiece(have, i);
  return { peerId, address: "10.0.0.1:65002", have, complete: false, lastSeen };
}

describe("SwarmStore", () => {
  it("forgets peers silent for peerTtl, their leases, then empty swarms", () => {
    const store = new SwarmStore({ peerTtlMs: 1000 });
    const swarm = store.ensure(DIGEST, 1000, 100);
    store.upsertMember(swarm, member("a", 0));
    store.upsertMember(swarm, member("b", 500));
    swarm.leases = [
      { holder: "a", start: 0, end: 10, fetchEnd: 2, grantedAt: 0, lastProgressAt: 0, fetched: 0 },
    ];
    expect(store.counts()).toMatchObject({ swarms: 1, peers: 2, leases: 1 });
    expect(store.sweep(999)).toEqual({ peers: 0, swarms: 0 });
    expect(store.sweep(1000)).toEqual({ peers: 1, swarms: 0 });
    expect(swarm.leases).toEqual([]);
    expect(store.counts()).toMatchObject({ swarms: 1, peers: 1, leases: 0 });
    expect(store.sweep(1500)).toEqual({ peers: 1, swarms: 1 });
    expect(store.get(DIGEST)).toBeUndefined();
  });

  it("forgets a member still downloading after leecherTtl, a seeder only after peerTtl", () => {
    const store = new SwarmStore({ peerTtlMs: 10_000, leecherTtlMs: 1_000 });
    const swarm = store.ensure(DIGEST, 1000, 100);
    store.upsertMember(swarm, member("leecher", 0));
    store.upsertMember(swarm, { ...member("seeder", 0), complete: true });
    expect(store.sweep(999)).toEqual({ peers: 0, swarms: 0 });
    expect(store.sweep(1_000)).toEqual({ peers: 1, swarms: 0 });
    expect([...swarm.members.keys()]).toEqual(["seeder"]);
    expect(store.sweep(10_000)).toEqual({ peers: 1, swarms: 1 });
  });

  it("rejects a non-positive leecherTtl", () => {
    expect(() => new SwarmStore({ peerTtlMs: 1000, leecherTtlMs: 0 })).toThrow(/leecherTtlMs/);
  });

  it("sweeps one swarm only when asked to", () => {
    const store = new SwarmStore({ peerTtlMs: 1000 });
    store.upsertMember(store.ensure(DIGEST, 1000, 100), member("a", 0));
    store.upsertMember(store.ensure(OTHER, 1000, 100), member("a", 0));
    store.sweep(5000, DIGEST);
    expect(store.counts()).toMatchObject({ swarms: 1, peers: 1, leases: 0 });
  });

  it("counts the holders of each piece and the copies in the swarm as members come and go", () => {
    const store = new SwarmStore({ peerTtlMs: 1000 });
    const swarm = store.ensure(DIGEST, 1000, 100);
    store.upsertMember(swarm, member("a", 0, [0, 1]));
    store.upsertMember(swarm, member("b", 1, [1, 9]));
    expect([...swarm.holders]).toEqual([1, 2, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(swarm.copies).toBe(4);
    expect(store.onlyHeldBy(swarm, swarm.members.get("a")!)).toBe(1);
    store.upsertMember(swarm, member("a", 2, [0, 1, 2]));
    expect(store.isHeld(swarm, 2)).toBe(true);
    store.removeMember("b");
    expect([...swarm.holders]).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(swarm.copies).toBe(3);
    expect(store.downloadingMembers).toBe(1);
  });

  it("binds a peer id to the address it announces from while it is a member anywhere", () => {
    const store = new SwarmStore({ peerTtlMs: 1000 });
    store.upsertMember(store.ensure(DIGEST, 1000, 100), member("a", 0), "10.0.0.1");
    expect(() => store.upsertMember(store.ensure(OTHER, 1000, 100), member("a", 0), "10.0.0.66")).toThrow(
      expect.objectContaining({ code: "FORBIDDEN" }),
    );
    expect(() => store.removeMember("a", undefined, "10.0.0.66")).toThrow(
      expect.objectContaining({ code: "FORBIDDEN" }),
    );
    expect(store.counts()).toMatchObject({ peers: 1 });
    expect(store.removeMember("a", undefined, "10.0.0.1")).toBe(1);
    // forgotten everywhere: the id is free again
    store.upsertMember(store.ensure(DIGEST, 1000, 100), member("a", 0), "10.0.0.66");
  });

  it("refuses new swarms and members past the state budget, and frees what it forgets", () => {
    const store = new SwarmStore({ peerTtlMs: 1000, maxStateBytes: 20_000 });
    const big = store.ensure(DIGEST, 100 * 100, 100); // 100 pieces: 1024 + 100 x 100 + 13 bytes
    store.upsertMember(big, member("a", 0));
    expect(() => store.ensure(OTHER, 200 * 100, 100)).toThrow(
      expect.objectContaining({ code: "TRACKER_FULL" }),
    );
    const small = store.ensure(OTHER, 1000, 100);
    for (const id of ["b", "c", "d", "e", "f", "g", "h", "i"]) {
      try {
        store.upsertMember(small, member(id, 0));
      } catch (err) {
        expect(err).toMatchObject({ code: "TRACKER_FULL", status: 503 });
      }
    }
    expect(store.counts().stateBytes).toBeLessThanOrEqual(20_000);
    store.sweep(5000);
    expect(store.counts()).toEqual({ swarms: 0, peers: 0, leases: 0, stateBytes: 0 });
  });

  it("removes a leaving peer from one swarm or all", () => {
    const store = new SwarmStore({ peerTtlMs: 1000 });
    store.upsertMember(store.ensure(DIGEST, 1000, 100), member("a", 0));
    store.upsertMember(store.ensure(OTHER, 1000, 100), member("a", 0));
    store.upsertMember(store.ensure(OTHER, 1000, 100), member("b", 0));
    expect(store.removeMember("a", DIGEST)).toBe(1);
    expect(store.removeMember("a")).toBe(1);
    expect(store.counts()).toMatchObject({ swarms: 1, peers: 1, leases: 0 });
  });
});
