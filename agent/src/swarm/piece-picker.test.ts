import { Bitfield } from "../../../protocol/pieces";
import { PeerView, pickPieces, PickInput, PieceRequest } from "./piece-picker";

const COUNT = 8;

function peer(id: string, pieces: number[], banned = false): PeerView {
  const have = new Bitfield(COUNT);
  for (const p of pieces) have.set(p);
  return { id, have, banned };
}

type Over = Partial<Omit<PickInput, "inFlight">> & { held?: number[]; inFlight?: PieceRequest[] };

function input(over: Over): PickInput {
  const needed = Bitfield.full(COUNT);
  for (const piece of over.held ?? []) needed.clear(piece);
  return {
    pieceCount: COUNT,
    needed,
    peers: [],
    maxPerPeer: 4,
    maxTotal: 16,
    endgamePieces: 0,
    now: 10_000,
    endgameAfterMs: 1_000,
    ...over,
    inFlight: (over.inFlight ?? []).map(r => ({ startedMs: 0, ...r })),
  };
}

const picks: { name: string; input: PickInput; want: PieceRequest[] }[] = [
  {
    name: "the piece only one holder has goes first, to it; a common one to the other holder",
    input: input({
      held: [0, 1, 2, 3, 4],
      peers: [peer("a", [5, 6, 7]), peer("b", [7])],
      maxPerPeer: 1,
    }),
    want: [
      { piece: 5, peerId: "a" },
      { piece: 7, peerId: "b" },
    ],
  },
  {
    name: "a busy holder is skipped until its backoff ends",
    input: input({
      held: [0, 1, 2, 3, 4, 5, 6],
      peers: [
        { ...peer("a", [7]), busyUntil: 10_001 },
        { ...peer("b", [6, 7]), busyUntil: 10_000 },
      ],
    }),
    want: [{ piece: 7, peerId: "b" }],
  },
  {
    name: "rarest piece first, then lower index",
    input: input({ held: [0, 1, 2, 3, 4, 5], maxPerPeer: 1, peers: [peer("a", [6, 7]), peer("b", [7])] }),
    want: [
      { piece: 6, peerId: "a" },
      { piece: 7, peerId: "b" },
    ],
  },
  {
    name: "least-loaded holder",
    input: input({
      held: [0, 1, 2, 3, 4, 5, 6],
      peers: [peer("a", [7]), peer("b", [7])],
      inFlight: [{ piece: 0, peerId: "a" }],
    }),
    want: [{ piece: 7, peerId: "b" }],
  },
  {
    name: "per-peer bound",
    input: input({ held: [4, 5, 6, 7], maxPerPeer: 2, peers: [peer("a", [0, 1, 2, 3])] }),
    want: [
      { piece: 0, peerId: "a" },
      { piece: 1, peerId: "a" },
    ],
  },
  {
    name: "total bound counts requests already running",
    input: input({
      maxTotal: 3,
      peers: [peer("a", [0, 1, 2, 3]), peer("b", [0, 1, 2, 3])],
      inFlight: [{ piece: 5, peerId: "c" }],
    }),
    want: [
      { piece: 0, peerId: "a" },
      { piece: 1, peerId: "b" },
    ],
  },
  {
    name: "banned peers are skipped",
    input: input({
      held: [3, 4, 5, 6, 7],
      peers: [peer("bad", [0, 1, 2], true), peer("ok", [1, 2])],
    }),
    want: [
      { piece: 1, peerId: "ok" },
      { piece: 2, peerId: "ok" },
    ],
  },
  {
    name: "a requested piece is not asked again outside the endgame",
    input: input({
      held: [0, 1, 2, 3, 4, 5, 6],
      peers: [peer("a", [7]), peer("b", [7])],
      inFlight: [{ piece: 7, peerId: "a" }],
    }),
    want: [],
  },
  {
    name: "endgame: a second source for a requested piece, never the same peer or a third",
    input: input({
      held: [0, 1, 2, 3, 4, 5],
      endgamePieces: 2,
      peers: [peer("a", [6, 7]), peer("b", [6, 7]), peer("c", [6])],
      inFlight: [
        { piece: 6, peerId: "a" },
        { piece: 6, peerId: "c" },
        { piece: 7, peerId: "a" },
      ],
    }),
    want: [{ piece: 7, peerId: "b" }],
  },
  {
    name: "endgame waits until a request has run for endgameAfterMs",
    input: input({
      held: [0, 1, 2, 3, 4, 5, 6],
      endgamePieces: 2,
      now: 500,
      peers: [peer("a", [7]), peer("b", [7])],
      inFlight: [{ piece: 7, peerId: "a" }],
    }),
    want: [],
  },
  {
    name: "nothing needed, nothing picked",
    input: input({ held: [0, 1, 2, 3, 4, 5, 6, 7], peers: [peer("a", [0, 1])] }),
    want: [],
  },
];

describe("pickPieces", () => {
  it.each(picks)("$name", ({ input: given, want }) => {
    expect(pickPieces(given)).toEqual(want);
  });
});
