/**
 * Issue 10's common case: one node alone in a blob's swarm, and 2-3 nodes pulling one blob at once,
 * each against the same agent without a tracker (a plain cold pull) measured in the same run.
 * Real registry, tracker and agent processes on loopback, unshaped; rate limits out of the way.
 */
import { AgentProcess, startAgent } from "../testenv/agent";
import { buildImage, pushImage } from "../testenv/oci-image";
import { Teardown, waitFor } from "../testenv/processes";
import { Registry, startRegistry } from "../testenv/registry";
import { startTrackerProcess, TrackerProcess } from "../testenv/tracker";
import { cpuSeconds, median, MiB, timedGet } from "./measure";
import { BenchResult } from "./result";

const UPSTREAM = "registry.test";
const REPO = "bench/lone";

interface Setup {
  registry: Registry;
  tracker: TrackerProcess;
  digest: string;
  size: number;
}

/** Fresh agents (empty caches); with the tracker when `swarm` is set. */
async function agents(
  setup: Setup,
  count: number,
  swarm: boolean,
  teardown: Teardown,
): Promise<AgentProcess[]> {
  const started = await Promise.all(
    Array.from({ length: count }, () =>
      startAgent({
        upstreams: [`${UPSTREAM}=${setup.registry.url}`],
        args: [
          "--ratelimit",
          "64G",
          "--log-level",
          "info",
          ...(swarm ? ["--tracker", setup.tracker.url, "--peer-token-file", setup.tracker.tokenFile] : []),
        ],
      }),
    ),
  );
  for (const agent of started) teardown.add(() => agent.stop());
  return started;
}

/**
 * Seconds until the last of `count` fresh agents has the whole blob, all starting at once, and the
 * CPU seconds the agents spent on it together.
 */
async function pullAtOnce(
  setup: Setup,
  count: number,
  swarm: boolean,
): Promise<{ seconds: number; cpu: number }> {
  const teardown = new Teardown();
  try {
    const nodes = await agents(setup, count, swarm, teardown);
    const url = (agent: AgentProcess) => `${agent.url}/v2/${UPSTREAM}/${REPO}/blobs/${setup.digest}`;
    const cpu = () => Promise.all(nodes.map(agent => cpuSeconds(agent.process.pid)));
    const cpuBefore = await cpu();
    const started = process.hrtime.bigint();
    const pulls = await Promise.all(nodes.map(agent => timedGet(url(agent), { hash: true })));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (pulls.some(p => p.digest !== setup.digest)) throw new Error("an agent served wrong bytes");
    // Counted once every agent's fill has ended: the fsync, and a swarm member's last announce and
    // the piece hashes it defers while alone, follow the client's last byte.
    for (const agent of nodes)
      await waitFor(
        "fill ended",
        async () =>
          (await agent.metric("peerpull_blob_fetch_duration_seconds_count")) === 1 ? true : undefined,
        { timeoutMs: 60_000 },
      );
    const cpuAfter = await cpu();
    return { seconds, cpu: cpuAfter.reduce((sum, after, i) => sum + after - cpuBefore[i], 0) };
  } finally {
    await teardown.run();
  }
}

export async function loneBench(args: string[]): Promise<BenchResult[]> {
  const sizeMiB = Number(args[0] ?? 100);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const teardown = new Teardown();
  try {
    const registry = await startRegistry();
    teardown.add(() => registry.stop());
    const tracker = await startTrackerProcess(["--log-level", "info"]);
    teardown.add(() => tracker.stop());
    const layout = await buildImage({ layers: [sizeMiB * MiB], seed: "lone" });
    teardown.add(() => layout.remove());
    await pushImage(layout, registry, REPO, "1", { timeoutMs: 600_000 });
    const setup: Setup = { registry, tracker, ...layout.layers[0] };
    const kinds = { plain: [1, false], lone: [1, true], two: [2, true], three: [3, true] } as const;
    const samples: Record<string, number[]> = { plain: [], lone: [], two: [], three: [] };
    /** Agent CPU seconds per 100 MiB delivered to clients, per round. */
    const cpu: Record<string, number[]> = { plain: [], lone: [], two: [], three: [] };
    for (let i = 0; i < rounds; i++) {
      for (const [key, [count, swarm]] of Object.entries(kinds)) {
        const pull = await pullAtOnce(setup, count, swarm);
        samples[key].push(pull.seconds);
        cpu[key].push(round((pull.cpu * 100) / (count * sizeMiB)));
      }
    }
    const baseline = median(samples.plain);
    const line = (key: string, metric: string, limit: number): BenchResult => {
      const value = median(samples[key]);
      return {
        scenario: "lone",
        metric,
        unit: "s",
        value,
        baseline,
        ratio: value / baseline,
        target: `<= ${limit}`,
        pass: value / baseline <= limit,
        details: { rounds, sizeMiB, samples: samples[key], plain: samples.plain },
      };
    };
    const cpuLine = (key: keyof typeof kinds, who: string): BenchResult => ({
      scenario: "lone",
      metric: `agent CPU seconds per 100 MiB delivered, ${who} (${sizeMiB} MiB blob)`,
      unit: "s",
      value: median(cpu[key]),
      baseline: median(cpu.plain),
      ratio: round(median(cpu[key]) / median(cpu.plain)),
      details: { rounds, samples: cpu[key], plain: cpu.plain },
    });
    return [
      cpuLine("plain", "no tracker (a plain cold pull)"),
      cpuLine("lone", "lone swarm member"),
      cpuLine("two", "2 members at once"),
      cpuLine("three", "3 members at once"),
      line("lone", `${sizeMiB} MiB cold pull, lone swarm member vs the same agent without a tracker`, 1.2),
      line("two", `${sizeMiB} MiB, 2 members at once (last done) vs one plain cold pull`, 1.5),
      line("three", `${sizeMiB} MiB, 3 members at once (last done) vs one plain cold pull`, 1.5),
    ];
  } finally {
    await teardown.run();
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
