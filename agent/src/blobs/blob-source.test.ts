import { splitBySource } from "./blob-source";

describe("splitBySource", () => {
  it.each([
    { name: "cache hit", blob: { source: "cache" as const }, bytes: 10, want: [["cache", 10]] },
    {
      name: "plain origin fill",
      blob: { source: "origin" as const, sourced: { origin: 0, peer: 0 } },
      bytes: 10,
      want: [["origin", 10]],
    },
    {
      name: "swarm fill, all from peers",
      blob: { source: "origin" as const, sourced: { origin: 0, peer: 8 } },
      bytes: 8,
      want: [["peer", 8]],
    },
    {
      name: "swarm fill, mixed",
      blob: { source: "origin" as const, sourced: { origin: 25, peer: 75 } },
      bytes: 100,
      want: [
        ["peer", 75],
        ["origin", 25],
      ],
    },
    {
      name: "nothing delivered",
      blob: { source: "origin" as const, sourced: { origin: 1, peer: 1 } },
      bytes: 0,
      want: [],
    },
  ])("$name", ({ blob, bytes, want }) => {
    expect(splitBySource(blob, bytes)).toEqual(want);
  });
});
