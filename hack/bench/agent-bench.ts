/**
 * Issue 2's numbers: `serve` (cached 1 GiB blob through the agent vs the registry directly),
 * `cold` (first pull through the agent vs direct) and `memory` (agent peak RSS serving 8 concurrent
 * 1 GiB pulls). Real docker-registry and agent processes on loopback; the agent's rate limit is
 * raised out of the way so the agent's own overhead is what is measured.
 */
import { startAgent, AgentProcess } from "../testenv/agent";
import { buildImage, OciLayout, pushImage } from "../testenv/oci-image";
import { Teardown, waitFor } from "../testenv/processes";
import { Registry, startRegistry } from "../testenv/registry";
import { agentBlobFile, ColdRounds, coldResults, distributionBlobFile, firstPull } from "./first-pull";
import { median, MiB, peakRss, resetPeakRss, timedGet } from "./measure";
import { BenchResult } from "./result";

const UPSTREAM = "registry.test";
const NO_LIMIT = ["--ratelimit", "64G"];

interface Fixture {
  registry: Registry;
  layout: OciLayout;
  digest: string;
  size: number;
  directUrl: string;
  agentUrl(agent: AgentProcess): string;
}

async function withFixture<T>(
  blobBytes: number,
  use: (f: Fixture, teardown: Teardown) => Promise<T>,
): Promise<T> {
  const teardown = new Teardown();
  try {
    const registry = await startRegistry();
    teardown.add(() => registry.stop());
    const layout = await buildImage({ layers: [blobBytes], seed: "bench" });
    teardown.add(() => layout.remove());
    await pushImage(layout, registry, "bench/app", "1", { timeoutMs: 600_000 });
    const { digest, size } = layout.layers[0];
    const path = `bench/app/blobs/${digest}`;
    const fixture: Fixture = {
      registry,
      layout,
      digest,
      size,
      directUrl: `${registry.url}/v2/${path}`,
      agentUrl: agent => `${agent.url}/v2/${UPSTREAM}/${path}`,
    };
    return await use(fixture, teardown);
  } finally {
    await teardown.run();
  }
}

async function agentFor(f: Fixture, teardown: Teardown): Promise<AgentProcess> {
  const agent = await startAgent({
    upstreams: [`${UPSTREAM}=${f.registry.url}`],
    args: [...NO_LIMIT, "--log-level", "info"],
  });
  teardown.add(() => agent.stop());
  return agent;
}

function throughput(bytes: number, seconds: number): number {
  return bytes / MiB / seconds;
}

export async function serveBench(args: string[]): Promise<BenchResult[]> {
  const sizeMiB = Number(args[0] ?? 1024);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  return withFixture(sizeMiB * MiB, async (f, teardown) => {
    const agent = await agentFor(f, teardown);
    const primed = await timedGet(f.agentUrl(agent), { hash: true });
    if (primed.digest !== f.digest) throw new Error("agent served wrong bytes");
    const direct: number[] = [];
    const viaAgent: number[] = [];
    for (let i = 0; i < rounds; i++) {
      direct.push(throughput(f.size, (await timedGet(f.directUrl)).seconds));
      viaAgent.push(throughput(f.size, (await timedGet(f.agentUrl(agent))).seconds));
    }
    const value = median(viaAgent);
    const baseline = median(direct);
    return [
      {
        scenario: "serve",
        metric: `cached ${sizeMiB} MiB blob throughput, agent vs registry direct`,
        unit: "MiB/s",
        value,
        baseline,
        ratio: value / baseline,
        target: ">= 1.0",
        pass: value / baseline >= 1.0,
        details: { rounds, agent: viaAgent, direct },
      },
    ];
  });
}

/**
 * Each round, in this order: the registry directly; a fresh distribution 2.8 pull-through cache
 * (`proxy.remoteurl` = the origin, empty storage); a fresh agent (empty cache), then the same agent
 * again (warm). Every side is the same client, on loopback; see first-pull.ts for what is recorded.
 */
export async function coldBench(args: string[]): Promise<BenchResult[]> {
  const sizeMiB = Number(args[0] ?? 1024);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  return withFixture(sizeMiB * MiB, async (f, teardown) => {
    const r: ColdRounds = { direct: [], warm: [], cache: [], agent: [] };
    const download = async (url: string, check: boolean) => {
      const got = await timedGet(url, { hash: check });
      if (check && got.digest !== f.digest) throw new Error(`${url} served wrong bytes`);
      return got.seconds;
    };
    for (let i = 0; i < rounds; i++) {
      r.direct.push(await download(f.directUrl, false));
      const cache = await pullThroughCache(f, teardown);
      r.cache.push(await firstPull(cache, f.size, f.registry, () => download(cache.url, i === 0)));
      await cache.stop();
      const agent = await agentFor(f, teardown);
      const side = { pid: agent.process.pid, storedFile: agentBlobFile(agent.cacheDir, f.digest) };
      r.agent.push(await firstPull(side, f.size, f.registry, () => download(f.agentUrl(agent), i === 0)));
      r.warm.push(await download(f.agentUrl(agent), false));
      await agent.stop();
    }
    return coldResults("cold", `a ${sizeMiB} MiB blob`, f.size, r);
  });
}

/** A fresh distribution pull-through cache of the fixture's registry (empty storage). */
async function pullThroughCache(
  f: Fixture,
  teardown: Teardown,
): Promise<{ url: string; pid: number; storedFile: string; stop(): Promise<void> }> {
  const cache = await startRegistry({ configLines: ["proxy:", `  remoteurl: ${f.registry.url}`] });
  teardown.add(() => cache.stop());
  return {
    url: f.directUrl.replace(f.registry.url, cache.url),
    pid: cache.pid,
    storedFile: distributionBlobFile(cache.storageDir, f.digest),
    stop: () => cache.stop(),
  };
}

export async function memoryBench(args: string[]): Promise<BenchResult[]> {
  const sizeMiB = Number(args[0] ?? 1024);
  const clients = 8;
  return withFixture(sizeMiB * MiB, async (f, teardown) => {
    const results: BenchResult[] = [];
    for (const phase of ["cold", "cached"] as const) {
      const agent = await agentFor(f, teardown);
      if (phase === "cached") {
        await timedGet(f.agentUrl(agent));
        await waitFor(
          "blob committed",
          async () => ((await agent.metric("peerpull_cache_blobs")) === 1 ? true : undefined),
          {
            timeoutMs: 60_000,
          },
        );
      }
      await resetPeakRss(agent.process.pid);
      const baselineRss = await peakRss(agent.process.pid);
      const downloads = await Promise.all(Array.from({ length: clients }, () => timedGet(f.agentUrl(agent))));
      if (downloads.some(d => d.bytes !== f.size)) throw new Error("short download");
      const peak = (await peakRss(agent.process.pid)) / MiB;
      results.push({
        scenario: "memory",
        metric: `agent peak RSS serving ${clients} concurrent ${sizeMiB} MiB pulls (${phase})`,
        unit: "MiB",
        value: peak,
        baseline: baselineRss / MiB,
        ratio: peak / 150,
        target: "value < 150 MiB",
        pass: peak < 150,
        details: {
          rssBeforeMiB: baselineRss / MiB,
          slowestSeconds: Math.max(...downloads.map(d => d.seconds)),
        },
      });
      await agent.stop();
    }
    return results;
  });
}
