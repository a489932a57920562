import { MiB, NodeProgress, PhaseResult } from "./model";
import { alignColumns, renderSummary, summarize } from "./summary";

const IMAGE = 50 * MiB;

function phase(
  name: PhaseResult["name"],
  nodes: Array<[number, number, number]>,
  registryBytes: number,
): PhaseResult {
  const progress: NodeProgress[] = nodes.map(([doneMs, fromRegistry, fromPeers], i) => ({
    name: `node ${i + 1}`,
    total: IMAGE,
    received: IMAGE,
    fromRegistry,
    fromPeers,
    doneMs,
    samples: [
      [0, 0],
      [doneMs, IMAGE],
    ],
  }));
  return { name, nodes: progress, wallMs: Math.max(...nodes.map(n => n[0])), registryBytes };
}

const direct = phase(
  "direct",
  [
    [48_000, IMAGE, 0],
    [50_000, IMAGE, 0],
  ],
  2 * IMAGE,
);
const peerpull = phase(
  "peerpull",
  [
    [12_000, 30 * MiB, 20 * MiB],
    [12_500, 20 * MiB, 30 * MiB],
  ],
  IMAGE + MiB / 2,
);

describe("summarize", () => {
  it("per node: both times, the speedup, where the peerpull bytes came from", () => {
    const s = summarize(IMAGE, direct, peerpull);
    expect(s.nodes).toEqual([
      {
        name: "node 1",
        directMs: 48_000,
        peerpullMs: 12_000,
        speedup: 4,
        fromRegistry: 30 * MiB,
        fromPeers: 20 * MiB,
      },
      {
        name: "node 2",
        directMs: 50_000,
        peerpullMs: 12_500,
        speedup: 4,
        fromRegistry: 20 * MiB,
        fromPeers: 30 * MiB,
      },
    ]);
  });
  it("per phase: last node, registry bytes against the image size; overall speedup from the last nodes", () => {
    const s = summarize(IMAGE, direct, peerpull);
    expect(s.direct).toEqual({ lastNodeMs: 50_000, registryBytes: 2 * IMAGE, registryImages: 2 });
    expect(s.peerpull.registryImages).toBeCloseTo(1.01);
    expect(s.speedup).toBe(4);
  });
  it("a node without a finish time counts the whole phase", () => {
    const unfinished = {
      ...peerpull,
      nodes: peerpull.nodes.map((n, i) => (i === 0 ? { ...n, doneMs: undefined } : n)),
    };
    expect(summarize(IMAGE, direct, unfinished).nodes[0].peerpullMs).toBe(12_500);
  });
  it("refuses phases with different nodes", () => {
    expect(() => summarize(IMAGE, direct, { ...peerpull, nodes: peerpull.nodes.slice(1) })).toThrow(
      /same nodes/,
    );
  });
});

describe("renderSummary", () => {
  it("prints the per-node table, the per-phase table and the speedup", () => {
    expect(renderSummary(summarize(IMAGE, direct, peerpull))).toBe(
      [
        "         straight   peerpull   speedup   peerpull: from registry   from peers",
        "node 1     48.0 s     12.0 s     4.00x                  30.0 MiB     20.0 MiB",
        "node 2     50.0 s     12.5 s     4.00x                  20.0 MiB     30.0 MiB",
        "",
        "                             last node done   registry served   registry / image",
        "straight from the registry           50.0 s         100.0 MiB              2.00x",
        "through peerpull                     12.5 s          50.5 MiB              1.01x",
        "",
        "speedup: 4.00x (last node straight from the registry / last node through peerpull)",
      ].join("\n"),
    );
  });
});

describe("alignColumns", () => {
  it("pads the first column right and the others left, to the widest cell", () => {
    expect(
      alignColumns([
        ["a", "1"],
        ["long name", "12345"],
      ]),
    ).toEqual(["a" + " ".repeat(15) + "1", "long name   12345"]);
  });
});
