import { EventQueue } from "./event-queue";
import { parseSimArgs } from "./main";
import { simulateSwarm } from "./sim-swarm";
import { Uplink } from "./uplink";

const MiB = 1024 * 1024;
const base = { rttMs: 1, maxPeers: 48, maxOriginStreams: 4, leaseTimeoutMs: 30_000, uploadSlots: 4 };

describe("the swarm simulation", () => {
  it("a herd of 10: every node completes, the origin sends each byte once, within a sane time", () => {
    const result = simulateSwarm({ ...base, nodes: 10, sizeBytes: 20 * MiB, mbit: 25, gapMs: 0 });
    expect(result.fallbacks).toEqual({});
    expect(result.originOverS).toBe(1);
    expect(result.lastOverSB).toBeGreaterThanOrEqual(1); // nobody beats the origin's own link
    expect(result.lastOverSB).toBeLessThan(2.5); // 20 pieces: the tracker's 1 s cadence weighs
    expect(result.peerRequests.ok).toBe(9 * result.pieces); // each node got every piece once, 9 from peers
  });

  it("rolling joins: the origin still sends each byte once", () => {
    const result = simulateSwarm({ ...base, nodes: 5, sizeBytes: 10 * MiB, mbit: 100, gapMs: 500 });
    expect(result.originOverS).toBe(1);
    expect(result.fallbacks).toEqual({});
  });

  it("a lone node streams from the origin at its link's rate", () => {
    const result = simulateSwarm({ ...base, nodes: 1, sizeBytes: 10 * MiB, mbit: 100, gapMs: 0 });
    expect(result.originOverS).toBe(1);
    expect(result.lastOverSB).toBeLessThan(1.05);
  });

  it("paces HAVE pushes as the agent does: fewer with the gap than without, and the herd still completes", () => {
    const options = { ...base, nodes: 10, sizeBytes: 20 * MiB, mbit: 25, gapMs: 0 };
    const unpaced = simulateSwarm({ ...options, havePushGapMs: 0 });
    const paced = simulateSwarm(options);
    expect(paced.fallbacks).toEqual({});
    expect(paced.peerRequests.ok).toBe(9 * paced.pieces);
    expect(paced.peerRequests.pushes).toBeLessThan(unpaced.peerRequests.pushes * 0.75);
  });

  it("is repeatable: the same options give the same result", () => {
    const options = { ...base, nodes: 20, sizeBytes: 8 * MiB, mbit: 100, gapMs: 0, seed: 7 };
    const { wallSeconds: _a, ...first } = simulateSwarm(options);
    const { wallSeconds: _b, ...second } = simulateSwarm(options);
    expect(second).toEqual(first);
  });
});

describe("an uplink", () => {
  it("shares its rate equally between flows and finishes each at the right time", () => {
    const queue = new EventQueue();
    const link = new Uplink(queue, 1); // 1 byte per ms
    const done: [string, number][] = [];
    link.start(100, () => done.push(["a", queue.now]));
    queue.at(50, () => link.start(100, () => done.push(["b", queue.now])));
    queue.runUntil(() => false, 1e9);
    // a: 50 alone, then 50 at half rate (100 ms) -> 150; b: 50 by then, 50 alone -> 200
    expect(done).toEqual([
      ["a", 150],
      ["b", 200],
    ]);
    expect(link.bytesSent).toBe(200);
  });
});

describe("npm run sim arguments", () => {
  it("parses sizes, rates and durations", () => {
    expect(parseSimArgs(["--nodes", "100", "--size", "3G", "--mbit", "2400", "--gap", "2s"])).toMatchObject({
      nodes: 100,
      sizeBytes: 3 * 1024 * MiB,
      mbit: 2400,
      gapMs: 2000,
    });
    expect(parseSimArgs(["--seed", "3", "--max-announce-rate", "500"])).toMatchObject({
      seed: 3,
      maxAnnounceRate: 500,
      havePushGapMs: 1000,
    });
    expect(parseSimArgs(["--have-push-gap", "250ms"])).toMatchObject({ havePushGapMs: 250 });
  });
  it.each([
    ["--nodes", "0"],
    ["--mbit", "fast"],
    ["--size", "big"],
    ["--bogus", "1"],
    ["--max-announce-rate", "0"],
    ["--have-push-gap", "soon"],
  ])("refuses %s %s", (flag, value) => {
    expect(() => parseSimArgs([flag, value])).toThrow();
  });
});
