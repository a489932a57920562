import { MiB, NodeProgress } from "./model";
import { bar, mbit, milestoneLines, nodeLine, recentRate } from "./progress-format";

const node = (over: Partial<NodeProgress> = {}): NodeProgress => ({
  name: "node 1",
  total: 100 * MiB,
  received: 0,
  fromRegistry: 0,
  fromPeers: 0,
  samples: [[0, 0]],
  ...over,
});

describe("bar", () => {
  const rows: { name: string; fraction: number; expected: string }[] = [
    { name: "empty", fraction: 0, expected: "░░░░░░░░░░" },
    { name: "half", fraction: 0.5, expected: "█████░░░░░" },
    { name: "full", fraction: 1, expected: "██████████" },
    { name: "over full is full", fraction: 1.7, expected: "██████████" },
    { name: "below zero is empty", fraction: -1, expected: "░░░░░░░░░░" },
  ];
  it.each(rows)("$name", ({ fraction, expected }) => expect(bar(fraction, 10)).toBe(expected));
});

describe("recentRate", () => {
  const rows: { name: string; samples: Array<[number, number]>; now: number; expected: number }[] = [
    { name: "no samples", samples: [], now: 1000, expected: 0 },
    { name: "one sample", samples: [[0, 0]], now: 1000, expected: 0 },
    {
      name: "steady 1 MiB/s",
      samples: [
        [0, 0],
        [1000, MiB],
        [2000, 2 * MiB],
      ],
      now: 2000,
      expected: MiB,
    },
    {
      name: "only the last 2 s count",
      samples: [
        [0, 0],
        [1000, 50 * MiB],
        [3000, 52 * MiB],
      ],
      now: 3000,
      expected: MiB,
    },
    {
      name: "stalled",
      samples: [
        [0, 5],
        [1000, 5],
      ],
      now: 1000,
      expected: 0,
    },
  ];
  it.each(rows)("$name", ({ samples, now, expected }) =>
    expect(recentRate(samples, now)).toBeCloseTo(expected),
  );
});

describe("nodeLine", () => {
  it("a node pulling through peerpull: bar, percent, rate, both sources", () => {
    const line = nodeLine(
      node({
        received: 48 * MiB,
        fromRegistry: 12 * MiB,
        fromPeers: 36 * MiB,
        samples: [
          [0, 0],
          [1000, 6.25e6],
        ],
      }),
      "peerpull",
      1000,
      7,
    );
    expect(line).toBe(`node 1   ${bar(0.48)}  48%   50.0 Mbit/s   registry  12.0 MiB   peers  36.0 MiB`);
  });
  it("a finished node straight from the registry: its time, no peers column", () => {
    const line = nodeLine(
      node({ received: 100 * MiB, fromRegistry: 100 * MiB, doneMs: 21_340 }),
      "direct",
      30_000,
      6,
    );
    expect(line).toBe(`node 1  ${bar(1)} 100%  done  21.3 s   registry 100.0 MiB`);
  });
  it("an empty image does not divide by zero", () => {
    expect(nodeLine(node({ total: 0 }), "direct", 0, 6)).toContain("  0%");
  });
});

describe("milestoneLines", () => {
  const none = { half: false, done: false };
  it("says half way once, then done once", () => {
    const half = milestoneLines(none, node({ received: 60 * MiB }), "direct");
    expect(half.lines).toEqual(["  node 1: half way"]);
    expect(milestoneLines(half.seen, node({ received: 70 * MiB }), "direct").lines).toEqual([]);
    const done = milestoneLines(
      half.seen,
      node({ received: 100 * MiB, fromRegistry: 25 * MiB, fromPeers: 75 * MiB, doneMs: 9_000 }),
      "peerpull",
    );
    expect(done.lines).toEqual(["  node 1: done in 9.0 s (registry 25.0 MiB peers 75.0 MiB)"]);
    expect(milestoneLines(done.seen, node({ received: 100 * MiB, doneMs: 9_000 }), "peerpull").lines).toEqual(
      [],
    );
  });
  it("a node that finishes between two looks says done, not half way", () => {
    const { lines } = milestoneLines(none, node({ received: 100 * MiB, doneMs: 1_000 }), "direct");
    expect(lines).toEqual(["  node 1: done in 1.0 s (registry 0.0 MiB)"]);
  });
  it("nothing below half", () => {
    expect(milestoneLines(none, node({ received: 10 * MiB }), "direct").lines).toEqual([]);
  });
});

it("mbit converts bytes per second to megabits", () => expect(mbit(6.25e6)).toBe("50.0 Mbit/s"));
