/**
 * Issue 3's numbers (`npm run bench -- swarm`): N node namespaces (hack/netns), every node's upload
 * and the origin's upload shaped to the same B, one agent per node with the tracker. For a 1-layer and
 * a 4-layer image of S bytes: every node pulls straight from the origin (baseline), then every node
 * pulls through its agent at once (herd); a third image is pulled by nodes joining one after another
 * (rolling). Reports origin bytes / S, last node / (S/B) and the speedup over the baseline, and prints
 * every node's time and where its bytes came from.
 */
import { copyFile, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { startSwarmCluster, SwarmCluster, ClusterAgent } from "../netns/cluster";
import { httpIn } from "../netns/netns";
import { buildImage, OciLayout } from "../testenv/oci-image";
import { parsePromText } from "../testenv/prom-text";
import { parseByteSize, parseDuration } from "../../protocol/units";
import { CpuBreakdown, cpuBreakdown, cpuSeconds, cpuSpent, MiB } from "./measure";
import { BenchResult } from "./result";

interface SwarmBenchOptions {
  nodes: number;
  mbit: number;
  imageBytes: number;
  gapMs: number;
  phases: Phase[];
  agentArgs: string[];
  trackerArgs: string[];
  /** false: skip the all-from-origin pulls (quick tuning runs; no speedup line). */
  baseline: boolean;
}

const PHASES = ["1x", "4x", "rolling"] as const;
type Phase = (typeof PHASES)[number];

interface NodeRun {
  node: string;
  seconds: number;
  originMiB: number;
  peerMiB: number;
  uploadMiB: number;
  cpuSeconds: number;
  /** Where that CPU went: user/system, main thread/others. */
  cpu: CpuBreakdown;
}

const REPO = "bench/swarm";
const PULL_TIMEOUT_S = 600;

export function parseSwarmArgs(args: string[]): SwarmBenchOptions {
  const opts: SwarmBenchOptions = {
    nodes: 10,
    mbit: 25,
    imageBytes: 100 * MiB,
    gapMs: 2_000,
    phases: [...PHASES],
    agentArgs: [],
    trackerArgs: [],
    baseline: true,
  };
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (value === undefined) throw new Error(`swarm: ${flag} needs a value`);
    if (flag === "--nodes") opts.nodes = Number(value);
    else if (flag === "--mbit") opts.mbit = Number(value);
    else if (flag === "--size") opts.imageBytes = parseByteSize(value);
    else if (flag === "--gap") opts.gapMs = parseDuration(value);
    else if (flag === "--phases") opts.phases = value.split(",").map(parsePhase);
    else if (flag === "--agent-args") opts.agentArgs = value.split(" ").filter(Boolean);
    else if (flag === "--tracker-args") opts.trackerArgs = value.split(" ").filter(Boolean);
    else if (flag === "--baseline") opts.baseline = value !== "no";
    else
      throw new Error(
        `swarm: unknown flag ${flag} (--nodes N --mbit B --size S --gap 2s --phases 1x,4x,rolling --agent-args "..." --tracker-args "..." --baseline no)`,
      );
  }
  if (!Number.isInteger(opts.nodes) || opts.nodes < 2)
    throw new Error("swarm: --nodes must be an integer >= 2");
  if (!(opts.mbit > 0)) throw new Error("swarm: --mbit must be positive");
  if (opts.imageBytes < 4 * MiB) throw new Error("swarm: --size must be at least 4M");
  return opts;
}

function parsePhase(name: string): Phase {
  if (!(PHASES as readonly string[]).includes(name))
    throw new Error(`swarm: unknown phase ${name} (one of ${PHASES.join(", ")})`);
  return name as Phase;
}

export async function swarmBench(args: string[]): Promise<BenchResult[]> {
  const opts = parseSwarmArgs(args);
  const quarter = Math.floor(opts.imageBytes / 4);
  const layersOf: Record<Phase, number[]> = {
    "1x": [opts.imageBytes],
    "4x": [quarter, quarter, quarter, quarter],
    rolling: [opts.imageBytes],
  };
  const layouts: OciLayout[] = [];
  const cluster = await startSwarmCluster({
    nodes: opts.nodes,
    shapeMbit: opts.mbit,
    agentArgs: ["--log-level", "warn", ...opts.agentArgs],
    trackerArgs: opts.trackerArgs,
  });
  // Interrupted (Ctrl-C, timeout): namespaces, registry, tracker and agents go too.
  const onSignal = (signal: NodeJS.Signals) =>
    void cluster.stop().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  try {
    const results: BenchResult[] = [];
    for (const phase of opts.phases) {
      // A fresh image per phase: no agent holds any of it yet.
      const layout = await buildImage({
        layers: layersOf[phase],
        seed: `swarm-bench-${phase}-${Date.now()}`,
      });
      layouts.push(layout);
      await cluster.pushImage(layout, REPO, phase);
      const phaseResults =
        phase === "rolling"
          ? await rolling(cluster, layout, opts)
          : await herdVsBaseline(cluster, layout, phase, opts);
      for (const r of phaseResults)
        process.stderr.write(`swarm ${phase}: ${r.metric} = ${r.ratio ?? r.value} (${r.target ?? r.unit})\n`);
      results.push(...phaseResults);
    }
    return results;
  } finally {
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
    for (const layout of layouts) await layout.remove();
    const keepLogs = process.env.PEERPULL_BENCH_LOGS;
    if (keepLogs) await copyLogs(cluster.dir, keepLogs);
    await cluster.stop();
  }
}

async function herdVsBaseline(
  cluster: SwarmCluster,
  image: OciLayout,
  name: string,
  opts: SwarmBenchOptions,
): Promise<BenchResult[]> {
  const size = imageBytes(image);
  const idealSeconds = size / ((opts.mbit * 1e6) / 8);
  const direct = opts.baseline
    ? await Promise.all(
        cluster.agents.map(agent => pullIn(cluster, agent, image, `${cluster.registry.url}/v2/${REPO}`)),
      )
    : [];

  const mark = await cluster.registry.mark();
  const before = await Promise.all(cluster.agents.map(agent => agentBytes(cluster, agent)));
  const started = Date.now();
  const herd = await Promise.all(
    cluster.agents.map(async agent => {
      await pullIn(cluster, agent, image, agentBase(cluster, agent));
      return (Date.now() - started) / 1000;
    }),
  );
  const perNode = await nodeRuns(cluster, before, herd);
  const origin = await originBytes(cluster, image, mark);
  const last = Math.max(...herd);
  const scenario = `swarm-herd-${name}`;
  const details = {
    nodes: opts.nodes,
    mbit: opts.mbit,
    imageBytes: size,
    layers: image.layers.length,
    perNode,
  };
  const results = [
    ratioResult(scenario, "origin bytes / image bytes", "bytes", origin, size, "<= 1.05", details),
    ratioResult(scenario, "last node / (S/B)", "s", last, idealSeconds, "<= 1.5"),
    cpuResult(scenario, perNode, size),
  ];
  if (!opts.baseline) return results;
  const baseline = Math.max(...direct);
  return [
    ...results,
    {
      scenario,
      metric: "speedup over every node pulling from the origin",
      unit: "s",
      value: last,
      baseline,
      ratio: round(baseline / last),
      target: ">= 6",
      pass: baseline / last >= 6,
      details: { baselinePerNode: direct.map(round) },
    },
  ];
}

async function rolling(
  cluster: SwarmCluster,
  image: OciLayout,
  opts: SwarmBenchOptions,
): Promise<BenchResult[]> {
  const size = imageBytes(image);
  const mark = await cluster.registry.mark();
  const before = await Promise.all(cluster.agents.map(agent => agentBytes(cluster, agent)));
  const started = Date.now();
  const times = await Promise.all(
    cluster.agents.map(async (agent, i) => {
      await new Promise(resolve => setTimeout(resolve, i * opts.gapMs));
      const joined = Date.now();
      await pullIn(cluster, agent, image, agentBase(cluster, agent));
      return (Date.now() - joined) / 1000;
    }),
  );
  const perNode = await nodeRuns(cluster, before, times);
  const origin = await originBytes(cluster, image, mark);
  const details = {
    nodes: opts.nodes,
    mbit: opts.mbit,
    gapMs: opts.gapMs,
    imageBytes: size,
    totalSeconds: round((Date.now() - started) / 1000),
    perNode,
  };
  return [
    ratioResult("swarm-rolling-1x", "origin bytes / image bytes", "bytes", origin, size, "<= 1.05", details),
    cpuResult("swarm-rolling-1x", perNode, size),
  ];
}

function ratioResult(
  scenario: string,
  metric: string,
  unit: string,
  value: number,
  baseline: number,
  target: "<= 1.05" | "<= 1.5",
  details?: Record<string, unknown>,
): BenchResult {
  const ratio = value / baseline;
  const bound = Number(target.slice(3));
  return {
    scenario,
    metric,
    unit,
    value: round(value),
    baseline: round(baseline),
    ratio: round(ratio),
    target,
    pass: ratio <= bound,
    details,
  };
}

/**
 * Agent CPU seconds per 100 MiB delivered to the clients: every agent's CPU over the phase (its
 * uploads to peers included) over every client's bytes. Informational (issue 15 halves it).
 */
function cpuResult(scenario: string, perNode: NodeRun[], imageBytes: number): BenchResult {
  const cpu = perNode.reduce((sum, n) => sum + n.cpuSeconds, 0);
  const delivered = perNode.length * imageBytes;
  const perNodeCpu = perNode.map(n => round((n.cpuSeconds * 100 * MiB) / imageBytes));
  return {
    scenario,
    metric: "agent CPU seconds per 100 MiB delivered",
    unit: "s",
    value: round((cpu * 100 * MiB) / delivered),
    details: { perNode: perNodeCpu, min: Math.min(...perNodeCpu), max: Math.max(...perNodeCpu) },
  };
}

function agentBase(cluster: SwarmCluster, agent: ClusterAgent): string {
  return `${agent.url}/v2/${cluster.registry.host}/${REPO}`;
}

function imageBytes(image: OciLayout): number {
  return image.layers.reduce((sum, layer) => sum + layer.size, 0);
}

/** Every layer of `image` from `base` at once, inside the node's namespace; checks each digest. */
async function pullIn(
  cluster: SwarmCluster,
  agent: ClusterAgent,
  image: OciLayout,
  base: string,
): Promise<number> {
  const started = Date.now();
  const script = image.layers
    .map(l => `(curl -sSf --max-time ${PULL_TIMEOUT_S} '${base}/blobs/${l.digest}' | sha256sum) &`)
    .join("\n");
  const { stdout } = await cluster.network.exec(
    agent.node.ns,
    "bash",
    ["-c", `set -o pipefail\n${script}\nwait`],
    {
      timeoutMs: (PULL_TIMEOUT_S + 10) * 1000,
    },
  );
  const got = new Set(
    stdout
      .split("\n")
      .filter(Boolean)
      .map(line => "sha256:" + line.split(" ")[0]),
  );
  for (const layer of image.layers)
    if (!got.has(layer.digest)) throw new Error(`${agent.node.ns}: ${base} did not deliver ${layer.digest}`);
  return (Date.now() - started) / 1000;
}

type Bytes = { origin: number; peer: number; upload: number; cpu: number; cpuDetail: CpuBreakdown };

async function agentBytes(cluster: SwarmCluster, agent: ClusterAgent): Promise<Bytes> {
  const { body } = await httpIn(cluster.network, agent.node.ns, `${agent.peerUrl}/metrics`, {
    keepBody: true,
  });
  const sum = (name: string) =>
    parsePromText(body)
      .filter(s => s.name === name)
      .reduce((a, s) => a + s.value, 0);
  return {
    origin: sum("peerpull_origin_bytes_total"),
    peer: sum("peerpull_peer_download_bytes_total"),
    upload: sum("peerpull_peer_upload_bytes_total"),
    cpu: await cpuSeconds(agent.process.pid),
    cpuDetail: await cpuBreakdown(agent.process.pid),
  };
}

async function nodeRuns(cluster: SwarmCluster, before: Bytes[], seconds: number[]): Promise<NodeRun[]> {
  const after = await Promise.all(cluster.agents.map(agent => agentBytes(cluster, agent)));
  const mib = (n: number) => round(n / MiB);
  return cluster.agents.map((agent, i) => ({
    node: agent.node.ns.split("-").pop()!,
    seconds: round(seconds[i]),
    originMiB: mib(after[i].origin - before[i].origin),
    peerMiB: mib(after[i].peer - before[i].peer),
    uploadMiB: mib(after[i].upload - before[i].upload),
    cpuSeconds: round(after[i].cpu - before[i].cpu),
    cpu: cpuSpent(before[i].cpuDetail, after[i].cpuDetail),
  }));
}

async function originBytes(cluster: SwarmCluster, image: OciLayout, mark: number): Promise<number> {
  const gets = await cluster.registry.blobGets(mark);
  return image.layers.reduce((sum, layer) => sum + (gets.get(layer.digest)?.bytes ?? 0), 0);
}

/** Keeps the agents', tracker's and registry's logs (PEERPULL_BENCH_LOGS=DIR) for a look after. */
async function copyLogs(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const name of await readdir(from))
    if (name.endsWith(".log")) await copyFile(join(from, name), join(to, name));
  process.stderr.write(`logs in ${to}\n`);
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
