import type { AnnounceRequest } from "../../protocol/tracker-api";
import { announce, samplePeers, type AnnounceOptions } from "./announce";
import { emptyBitfield, setPiece } from "./bitfield";
import { createProofSigner } from "./proof-signer";
import { SwarmStore } from "./swarm-store";

const DIGEST = `sha256:${"a".repeat(64)}`;
const MiB = 1024 * 1024;
const SIZE = 32 * MiB; // 32 pieces of 1 MiB
const OPTIONS: AnnounceOptions = {
  leaseTimeoutMs: 30_000,
  maxOriginStreams: 4,
  announceIntervalMs: 15_000,
  maxPeers: 50,
};

function have(pieces: number[]): string {
  const bits = emptyBitfield(32);
  for (const piece of pieces) setPiece(bits, piece);
  return Buffer.from(bits).toString("base64");
}

function request(peerId: string, pieces: number[], over: Partial<AnnounceRequest> = {}): AnnounceRequest {
  return {
    digest: DIGEST,
    size: SIZE,
    pieceSize: MiB,
    peerId,
    address: `10.0.0.${Number(peerId.replace(/\D/g, "")) || 99}:65002`,
    have: have(pieces),
    pieceHashes: {},
    complete: false,
    wantLease: false,
    releaseLease: false,
    ...over,
  };
}

function swarmOf(members: [string, number[], boolean?][]) {
  const store = new SwarmStore({ peerTtlMs: 60_000, leecherTtlMs: 60_000 });
  const signer = createProofSigner();
  for (const [peerId, pieces, complete] of members) {
    const req = request(peerId, pieces, { complete: complete ?? false });
    announce(store, req, OPTIONS, signer, 1_000, req.address);
  }
  return { store, signer };
}

describe("samplePeers: members that can give the requester something, first", () => {
  const rows: { name: string; theirs: number[]; complete?: boolean; mine: number[]; want: boolean }[] = [
    {
      name: "a seeder, whatever the requester holds",
      theirs: [],
      complete: true,
      mine: [0, 1, 2],
      want: true,
    },
    { name: "a member holding nothing", theirs: [], mine: [], want: false },
    { name: "a member holding more pieces than the requester", theirs: [5, 6, 7], mine: [0, 1], want: true },
    { name: "a member holding only pieces the requester has", theirs: [1, 2], mine: [0, 1, 2], want: false },
    {
      name: "a member with fewer pieces, one of them new to the requester",
      theirs: [3],
      mine: [0, 1],
      want: true,
    },
    { name: "equal counts, different pieces", theirs: [0, 9], mine: [0, 1], want: true },
    { name: "the same pieces", theirs: [0, 1], mine: [0, 1], want: false },
  ];
  it.each(rows)("$name", ({ theirs, complete, mine, want }) => {
    const { store } = swarmOf([
      ["peer-1", theirs, complete],
      ["peer-2", mine],
      ["peer-3", [], true], // a seeder: always something to give
    ]);
    const swarm = store.get(DIGEST)!;
    swarm.sampleCursor = 0;
    const sampled = samplePeers(swarm, swarm.members.get("peer-2")!, 10).map(m => m.peerId);
    // A member with nothing to give still comes, after those with something: the requester can
    // tell it of the pieces it gains (the HAVE push).
    expect(sampled).toEqual(want ? ["peer-1", "peer-3"] : ["peer-3", "peer-1"]);
  });
});

describe("samplePeers: filling the sample", () => {
  it("with members still downloading, only after every member with something to give it saw", () => {
    const { store } = swarmOf([
      ["peer-1", []],
      ["peer-2", [4]],
      ["peer-3", []],
      ["peer-4", [0, 1]],
      ["peer-5", [0]], // the requester
    ]);
    const swarm = store.get(DIGEST)!;
    swarm.sampleCursor = 0;
    const sampled = samplePeers(swarm, swarm.members.get("peer-5")!, 3).map(m => m.peerId);
    expect(sampled).toEqual(["peer-2", "peer-4", "peer-1"]);
  });

  it("never past the limit, and never with the requester itself", () => {
    const { store } = swarmOf([1, 2, 3, 4, 5, 6].map(i => [`peer-${i}`, []] as [string, number[]]));
    const swarm = store.get(DIGEST)!;
    const sampled = samplePeers(swarm, swarm.members.get("peer-6")!, 4).map(m => m.peerId);
    expect(sampled).toHaveLength(4);
    expect(sampled).not.toContain("peer-6");
  });
});

describe("announce answer as JSON", () => {
  it("is exactly the response object, peers spliced in from their cached JSON", () => {
    const { store, signer } = swarmOf([
      ["peer-1", [0, 1, 2, 3], true],
      ["peer-2", [4, 5]],
      ["peer-3", []],
    ]);
    const req = request("peer-4", [], { wantLease: true });
    const result = announce(store, req, OPTIONS, signer, 2_000, req.address);
    expect(result.response.peers.map(p => p.peerId)).toEqual(["peer-1", "peer-2", "peer-3"]); // peer-3 fills
    expect(JSON.parse(result.responseJson())).toEqual(result.response);
  });

  it("answers a wrong piece size with the right one, as JSON too", () => {
    const { store, signer } = swarmOf([]);
    const req = request("peer-5", [], { pieceSize: 4 * MiB });
    const result = announce(store, req, OPTIONS, signer, 2_000, req.address);
    expect(result.response.pieceSize).toBe(MiB);
    expect(JSON.parse(result.responseJson())).toEqual(result.response);
  });
});
