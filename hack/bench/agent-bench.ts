/**
 * Issue 2's numbers: `serve` (cached 1 GiB blob through the agent vs the registry directly),
 * `cold` (first pull through the agent vs direct) and `memory` (agent peak RSS serving 8 concurrent
 * 1 GiB pulls). Real docker-registry and agent processes on loopback; the agent's rate limit is
 * raised out of the way so the agent's own overhead is what is measured.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { startAgent, AgentProcess } from "../testenv/agent";
import { buildImage, OciLayout, pushImage } from "../testenv/oci-image";
import { Teardown, waitFor } from "../testenv/processes";
import { Registry, startRegistry } from "../testenv/registry";
import { cpuSeconds, median, MiB, peakRss, resetPeakRss, timedGet } from "./measure";
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
 * again (warm). Every side is the same client. For both first pulls it records when the client had
 * its last byte, when the blob was in the side's storage (durable, under its final name), the CPU
 * seconds the side had used at each of those moments, and the bytes the origin served for it.
 *
 * The two moments differ because the sides do different work before the client's last byte:
 * distribution 2.8's proxy copies the origin's body straight to the client (no digest check on that
 * stream) and stores the blob from a second, concurrent origin fetch in the background, while the
 * agent fetches once and hashes and writes what it sends, holding the last byte until the digest
 * matches.
 */
export async function coldBench(args: string[]): Promise<BenchResult[]> {
  const sizeMiB = Number(args[0] ?? 1024);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  return withFixture(sizeMiB * MiB, async (f, teardown) => {
    const s = { direct: [], cache: [], cold: [], warm: [] } as Record<string, number[]>;
    const firstPulls: Record<"cache" | "agent", FirstPull[]> = { cache: [], agent: [] };
    for (let i = 0; i < rounds; i++) {
      s.direct.push((await timedGet(f.directUrl)).seconds);
      const cache = await pullThroughCache(f, teardown);
      const viaCache = await firstPull(f, cache.url, cache.pid, cache.storedFile, i === 0);
      firstPulls.cache.push(viaCache);
      s.cache.push(viaCache.seconds);
      await cache.stop();
      const agent = await agentFor(f, teardown);
      const storedFile = join(agent.cacheDir, "blobs", "sha256", f.digest.slice("sha256:".length));
      const cold = await firstPull(f, f.agentUrl(agent), agent.process.pid, storedFile, i === 0);
      firstPulls.agent.push(cold);
      s.cold.push(cold.seconds);
      s.warm.push((await timedGet(f.agentUrl(agent))).seconds);
      await agent.stop();
    }
    const [direct, cache, cold, warm] = [s.direct, s.cache, s.cold, s.warm].map(median);
    const column = (side: "cache" | "agent", field: keyof FirstPull) => firstPulls[side].map(p => p[field]);
    const details = {
      rounds,
      ...s,
      cachedSeconds: { agent: column("agent", "cachedSeconds"), cache: column("cache", "cachedSeconds") },
      cpuAtLastByte: { agent: column("agent", "cpu"), cache: column("cache", "cpu") },
      cpuUntilCached: { agent: column("agent", "cpuCached"), cache: column("cache", "cpuCached") },
      originBytesPerBlob: {
        agent: column("agent", "originBytes").map(b => b / f.size),
        cache: column("cache", "originBytes").map(b => b / f.size),
      },
    };
    const line = (metric: string, value: number, baseline: number, bound: number, stretch = false) => ({
      scenario: "cold",
      metric,
      unit: "s",
      value,
      baseline,
      ratio: value / baseline,
      target: `<= ${bound}${stretch ? " (stretch)" : ""}`,
      ...(stretch ? {} : { pass: value / baseline <= bound }),
      details,
    });
    const blob = `a ${sizeMiB} MiB blob`;
    return [
      line(
        `first pull of ${blob}, client's last byte, agent vs distribution pull-through cache (both empty)`,
        cold,
        cache,
        1.0,
      ),
      line(
        `first pull of ${blob}, until the blob is stored, agent vs distribution pull-through cache`,
        median(details.cachedSeconds.agent),
        median(details.cachedSeconds.cache),
        1.0,
      ),
      {
        ...line(
          `first pull of ${blob}, origin bytes / blob size, agent vs distribution pull-through cache`,
          median(details.originBytesPerBlob.agent),
          median(details.originBytesPerBlob.cache),
          1.0,
        ),
        unit: "blobs",
      },
      line(`first pull of ${blob}, agent (miss, streamed) vs registry direct`, cold, direct, 1.5, true),
      line(`second pull of ${blob}, agent (cached) vs registry direct`, warm, direct, 1.0),
    ];
  });
}

interface FirstPull {
  /** Until the client had the last byte. */
  seconds: number;
  /** Until the blob was in the side's storage under its final name. */
  cachedSeconds: number;
  /** CPU seconds the side used until the client's last byte, and until the blob was stored. */
  cpu: number;
  cpuCached: number;
  /** Body bytes the origin served during the pull (both of the cache's fetches, for example). */
  originBytes: number;
}

/** One side's first pull of the fixture's blob through `url`; `storedFile` is where it lands. */
async function firstPull(
  f: Fixture,
  url: string,
  pid: number,
  storedFile: string,
  checkBytes: boolean,
): Promise<FirstPull> {
  const mark = await f.registry.mark();
  const cpuBefore = await cpuSeconds(pid);
  const started = process.hrtime.bigint();
  const got = await timedGet(url, { hash: checkBytes });
  if (checkBytes && got.digest !== f.digest) throw new Error(`${url} served wrong bytes`);
  const cpu = (await cpuSeconds(pid)) - cpuBefore;
  await waitFor(
    `${storedFile} stored`,
    async () => ((await stat(storedFile).catch(() => undefined))?.size === f.size ? true : undefined),
    { timeoutMs: 300_000, intervalMs: 10 },
  );
  const cachedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuCached = (await cpuSeconds(pid)) - cpuBefore;
  let originBytes = 0;
  for (const served of (await f.registry.blobGets(mark)).values()) originBytes += served.bytes;
  return { seconds: got.seconds, cachedSeconds, cpu, cpuCached, originBytes };
}

/** A fresh distribution pull-through cache of the fixture's registry (empty storage). */
async function pullThroughCache(
  f: Fixture,
  teardown: Teardown,
): Promise<{ url: string; pid: number; storedFile: string; stop(): Promise<void> }> {
  const cache = await startRegistry({ configLines: ["proxy:", `  remoteurl: ${f.registry.url}`] });
  teardown.add(() => cache.stop());
  const hex = f.digest.slice("sha256:".length);
  return {
    url: f.directUrl.replace(f.registry.url, cache.url),
    pid: cache.pid,
    // distribution's filesystem layout: the upload is moved here once its digest checked out.
    storedFile: join(cache.storageDir, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data"),
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
