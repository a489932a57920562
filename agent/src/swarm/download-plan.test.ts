import { Bitfield } from "../../../protocol/pieces";
import { DownloadState, planDownload, PlanLimits } from "./download-plan";
import type { PeerView } from "./piece-picker";

const LIMITS: PlanLimits = {
  originStreams: 2,
  maxPerPeer: 4,
  maxTotal: 16,
  endgamePieces: 2,
  endgameAfterMs: 2_000,
};
const bits = (count: number, pieces: number[]) => {
  const field = new Bitfield(count);
  for (const p of pieces) field.set(p);
  return field;
};
const peer = (id: string, pieces: number[], over: Partial<PeerView> = {}): PeerView => ({
  id,
  have: bits(10, pieces),
  banned: false,
  ...over,
});

function state(over: Partial<DownloadState> & { held?: number[] } = {}): DownloadState {
  const { held = [], ...rest } = over;
  return {
    pieceCount: 10,
    have: bits(10, held),
    originRuns: [],
    peerRequests: [],
    peers: [],
    lastProgressMs: 0,
    stallMs: 10_000,
    announce: { running: false, lastMs: 0, intervalMs: 1_000, dirty: false },
    ...rest,
  };
}

describe("planDownload: the origin lease", () => {
  const rows: { name: string; state: DownloadState; origin: { from: number; to: number }[] }[] = [
    { name: "no lease, no origin request", state: state(), origin: [] },
    {
      name: "one request over the committed part of the lease",
      state: state({ lease: { start: 0, end: 10, fetchEnd: 2 } }),
      origin: [{ from: 0, to: 2 }],
    },
    {
      name: "a lone holder's whole lease is one request",
      state: state({ lease: { start: 0, end: 10, fetchEnd: 10 } }),
      origin: [{ from: 0, to: 10 }],
    },
    {
      name: "never past fetchEnd, whatever else the lease holds",
      state: state({
        lease: { start: 0, end: 10, fetchEnd: 3 },
        originRuns: [{ next: 1, end: 3 }],
        held: [0],
      }),
      origin: [],
    },
    {
      name: "a newly committed stretch gets its own request beside the running one",
      state: state({
        lease: { start: 0, end: 10, fetchEnd: 5 },
        originRuns: [{ next: 1, end: 3 }],
        held: [0],
      }),
      origin: [{ from: 3, to: 5 }],
    },
    {
      name: "at most originStreams requests",
      state: state({
        lease: { start: 0, end: 10, fetchEnd: 8 },
        originRuns: [
          { next: 0, end: 2 },
          { next: 2, end: 4 },
        ],
      }),
      origin: [],
    },
    {
      name: "a running request in its body: the next stretch waits (pieces land in order)",
      state: state({ lease: { start: 0, end: 10, fetchEnd: 10 }, originRuns: [{ next: 1, end: 6 }] }),
      origin: [],
    },
    {
      name: "the running request down to its last 2 pieces: the next stretch starts",
      state: state({
        lease: { start: 0, end: 10, fetchEnd: 10 },
        originRuns: [{ next: 4, end: 6 }],
        held: [0, 1, 2, 3],
      }),
      origin: [{ from: 6, to: 10 }],
    },
    {
      name: "held pieces split the runs",
      state: state({ lease: { start: 0, end: 10, fetchEnd: 6 }, held: [2] }),
      origin: [
        { from: 0, to: 2 },
        { from: 3, to: 6 },
      ],
    },
  ];
  it.each(rows)("$name", ({ state: s, origin }) =>
    expect(planDownload(s, LIMITS, 100).origin).toEqual(origin),
  );
});

describe("planDownload: peers, announces, giving up", () => {
  it("asks peers for pieces outside the lease only", () => {
    const plan = planDownload(
      state({ lease: { start: 0, end: 5, fetchEnd: 2 }, peers: [peer("a", [3, 4, 5, 6])] }),
      LIMITS,
      100,
    );
    expect(plan.peers.map(r => r.piece).sort()).toEqual([5, 6]);
  });

  it.each([
    {
      name: "dirty, 100 ms after the last",
      announce: { running: false, lastMs: 500, intervalMs: 1_000, dirty: true },
      now: 600,
      want: true,
    },
    {
      name: "dirty, but within 100 ms of the last (not an announce per piece)",
      announce: { running: false, lastMs: 500, intervalMs: 1_000, dirty: true },
      now: 550,
      want: false,
    },
    {
      name: "interval passed",
      announce: { running: false, lastMs: 0, intervalMs: 1_000, dirty: false },
      now: 1_000,
      want: true,
    },
    {
      name: "not yet due",
      announce: { running: false, lastMs: 500, intervalMs: 1_000, dirty: false },
      now: 1_000,
      want: false,
    },
    {
      name: "one already running",
      announce: { running: true, lastMs: 0, intervalMs: 1_000, dirty: true },
      now: 5_000,
      want: false,
    },
  ])("announces when $name", ({ announce, now, want }) => {
    expect(planDownload(state({ announce, lastProgressMs: now }), LIMITS, now).announce).toBe(want);
  });

  it("announces at once when the origin requests near fetchEnd and the lease has more to commit", () => {
    const announce = { running: false, lastMs: 500, intervalMs: 1_000, dirty: true };
    const near = { announce, lastProgressMs: 550, pieceCount: 20, have: bits(20, [0, 1, 2, 3, 4, 5]) };
    const at = (fetchEnd: number, end = 10) =>
      planDownload(state({ ...near, lease: { start: 0, end, fetchEnd } }), LIMITS, 550).announce;
    expect(at(10)).toBe(false); // the whole lease committed: nothing to wait for
    expect(at(12, 20)).toBe(false); // 6 pieces still to come below fetchEnd
    expect(at(10, 20)).toBe(true); // 4 to come
  });

  it("wakes for a dirty announce's gap", () => {
    const announce = { running: false, lastMs: 500, intervalMs: 1_000, dirty: true };
    expect(planDownload(state({ announce, lastProgressMs: 520 }), LIMITS, 520).wakeInMs).toBe(80);
  });

  it.each([
    {
      name: "stalls after stallMs without progress",
      s: state({ lastProgressMs: 0 }),
      now: 10_001,
      fallback: "stall",
    },
    { name: "keeps going within stallMs", s: state({ lastProgressMs: 0 }), now: 10_000, fallback: undefined },
    {
      name: "no lease and every peer banned",
      s: state({ peers: [peer("a", [1], { banned: true })] }),
      now: 1,
      fallback: "no-peers",
    },
    {
      name: "a lease, even with every peer banned",
      s: state({ lease: { start: 0, end: 10, fetchEnd: 2 }, peers: [peer("a", [1], { banned: true })] }),
      now: 1,
      fallback: undefined,
    },
    { name: "no peers known yet", s: state(), now: 1, fallback: undefined },
  ])("gives up: $name", ({ s, now, fallback }) => {
    expect(planDownload(s, LIMITS, now).fallback).toBe(fallback);
  });

  it("is done once every piece is held", () => {
    expect(planDownload(state({ held: [...Array(10).keys()] }), LIMITS, 1)).toMatchObject({
      done: true,
      origin: [],
      peers: [],
    });
  });

  it("wakes for the next announce, a busy peer's return, an endgame or a stall, whichever is first", () => {
    const announce = { running: false, lastMs: 0, intervalMs: 1_000, dirty: false };
    expect(planDownload(state({ announce, lastProgressMs: 500 }), LIMITS, 500).wakeInMs).toBe(500);
    const busy = [peer("a", [1], { busyUntil: 700 })];
    expect(planDownload(state({ announce, peers: busy, lastProgressMs: 500 }), LIMITS, 500).wakeInMs).toBe(
      200,
    );
    const running = { ...announce, running: true };
    expect(planDownload(state({ announce: running, lastProgressMs: 500 }), LIMITS, 500).wakeInMs).toBe(
      10_001,
    );
  });

  // Simulated time is fractional: (t + 4990) - t can come out below 4990. Woken at the moment it
  // computed, a plan that then finds nothing due sleeps on to the stall timeout.
  it("at the moment it woke for, with fractional times, the announce and the endgame are due", () => {
    const t = 64472.59033153076;
    const announce = { running: false, lastMs: t, intervalMs: 4990, dirty: false };
    const before = planDownload(state({ announce, lastProgressMs: t }), LIMITS, t);
    const woken = planDownload(state({ announce, lastProgressMs: t }), LIMITS, t + before.wakeInMs);
    expect(woken.announce).toBe(true);

    const slow = { peerId: "a", piece: 1, startedMs: t };
    const endgame = {
      pieceCount: 2,
      have: bits(2, [0]),
      peers: [peer("a", [1]), peer("b", [1])],
      peerRequests: [slow],
      lastProgressMs: t,
      announce: { running: true, lastMs: t, intervalMs: 60_000, dirty: false },
    };
    const waiting = planDownload(state(endgame), LIMITS, t);
    expect(waiting.peers).toEqual([]);
    expect(planDownload(state(endgame), LIMITS, t + waiting.wakeInMs).peers).toEqual([
      { peerId: "b", piece: 1 },
    ]);
  });
});
