/**
 * One phase of the demo: every node pulls the image at once (from the registry itself, or through
 * its agent), while a sampler records each node's progress for the display and the chart, and,
 * through peerpull, reads each agent's /metrics for where its bytes came from.
 */
import { DemoEnv } from "./env";
import { LiveDisplay } from "./display";
import { NodeProgress, PhaseName, PhaseResult } from "./model";
import { pullImage } from "./pull";
import { TAG } from "./env";

const SAMPLE_MS = 250;
const METRICS_EVERY = 4;

export async function runPhase(
  env: DemoEnv,
  name: PhaseName,
  imageBytes: number,
  display: LiveDisplay,
): Promise<PhaseResult> {
  const indexes = [...Array(env.nodeCount).keys()];
  const mark = await env.registryMark();
  const zero = { fromRegistry: 0, fromPeers: 0 };
  const before = name === "peerpull" ? await Promise.all(indexes.map(i => env.agentSources(i))) : [];
  const nodes: NodeProgress[] = indexes.map(i => ({
    name: `node ${i + 1}`,
    total: imageBytes,
    received: 0,
    fromRegistry: 0,
    fromPeers: 0,
    samples: [[0, 0]],
  }));
  const readSourcesOf = async (i: number) => {
    const now = await env.agentSources(i);
    // max: counters only grow, and an older read may land after a newer one
    nodes[i].fromRegistry = Math.max(
      nodes[i].fromRegistry,
      now.fromRegistry - (before[i] ?? zero).fromRegistry,
    );
    nodes[i].fromPeers = Math.max(nodes[i].fromPeers, now.fromPeers - (before[i] ?? zero).fromPeers);
  };
  const readSources = async () => void (await Promise.all(indexes.map(readSourcesOf)));

  display.begin(name, nodes);
  const start = performance.now();
  let ticks = 0;
  /** Nodes whose pull has finished (their last sample is taken, doneMs follows their sources). */
  const pulled = new Set<number>();
  let reading: Promise<void> | undefined;
  const sample = () => {
    const now = performance.now() - start;
    nodes.forEach((node, i) => {
      if (!pulled.has(i)) node.samples.push([now, node.received]);
      if (name === "direct") node.fromRegistry = node.received;
    });
    if (name === "peerpull" && ++ticks % METRICS_EVERY === 0 && !reading)
      reading = readSources()
        .catch(() => undefined)
        .finally(() => (reading = undefined));
    display.update(nodes, now);
  };
  const timer = setInterval(sample, SAMPLE_MS);
  try {
    await Promise.all(
      indexes.map(async i => {
        const source = name === "direct" ? env.registryRepoUrl(i) : env.agentRepoUrl(i);
        await pullImage(env.on(i), { repoUrl: source, tag: TAG }, nodes[i]);
        const doneMs = performance.now() - start;
        pulled.add(i);
        nodes[i].samples.push([doneMs, nodes[i].received]);
        if (name === "peerpull") await readSourcesOf(i);
        nodes[i].doneMs = doneMs;
      }),
    );
  } finally {
    clearInterval(timer);
  }
  await reading;
  if (name === "peerpull") await readSources();
  else for (const node of nodes) node.fromRegistry = node.received;
  display.end(nodes, performance.now() - start);
  return {
    name,
    nodes,
    wallMs: Math.max(...nodes.map(n => n.doneMs ?? 0)),
    registryBytes: await env.registryBlobBytes(mark),
  };
}
