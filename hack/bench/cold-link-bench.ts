/**
 * `npm run bench -- cold-link [--size MiB] [--mbit N]`: `cold` with the origin across a link, as a
 * registry is from a node: the origin registry in its own network namespace with its upload shaped
 * to N Mbit/s (default 1000), and the agent, the distribution pull-through cache and the client
 * (curl) in one node's namespace. On loopback the origin is free and CPU decides; here the link does,
 * and distribution's second origin fetch (first-pull.ts) shares it with the client's. Needs root.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AGENT_BIN, AGENT_PORT, PEER_PORT, startSwarmCluster, type SwarmCluster } from "../netns/cluster";
import { httpIn, logIn, waitForHttpIn, type NetnsNode } from "../netns/netns";
import { agentNodeArgs } from "../testenv/agent";
import { buildImage } from "../testenv/oci-image";
import { type ManagedProcess, waitForLogLine } from "../testenv/processes";
import { registryConfigLines } from "../testenv/registry";
import { agentBlobFile, ColdRounds, coldResults, distributionBlobFile, firstPull } from "./first-pull";
import { MiB } from "./measure";
import { BenchResult } from "./result";

const REPO = "bench/cold";
const UPSTREAM = "registry.test";
const CACHE_PORT = 5001;
const PULL_TIMEOUT_MS = 600_000;

export interface ColdLinkOptions {
  sizeMiB: number;
  mbit: number;
}

export function parseColdLinkArgs(args: string[]): ColdLinkOptions {
  const opts: ColdLinkOptions = { sizeMiB: 512, mbit: 1000 };
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (flag === "--size") opts.sizeMiB = Number(value);
    else if (flag === "--mbit") opts.mbit = Number(value);
    else throw new Error(`cold-link: unknown flag ${flag} (--size MiB --mbit N)`);
  }
  if (!(opts.sizeMiB > 0)) throw new Error("cold-link: --size must be a positive number of MiB");
  if (!(opts.mbit > 0)) throw new Error("cold-link: --mbit must be positive");
  return opts;
}

export async function coldLinkBench(args: string[]): Promise<BenchResult[]> {
  const opts = parseColdLinkArgs(args);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const cluster = await startSwarmCluster({ nodes: 1, shapeMbit: opts.mbit, agents: false });
  try {
    const layout = await buildImage({ layers: [opts.sizeMiB * MiB], seed: "bench-cold-link" });
    try {
      await cluster.pushImage(layout, REPO, "1");
    } finally {
      await layout.remove();
    }
    const { digest, size } = layout.layers[0];
    const node = cluster.network.nodes[0];
    const blobPath = `/v2/${REPO}/blobs/${digest}`;
    const download = async (url: string) => {
      const got = await httpIn(cluster.network, node.ns, url, { timeoutMs: PULL_TIMEOUT_MS });
      if (got.status !== 200 || got.bytes !== size)
        throw new Error(`GET ${url} from ${node.ns}: status ${got.status}, ${got.bytes} of ${size} bytes`);
      return got.seconds;
    };
    const r: ColdRounds = { direct: [], warm: [], cache: [], agent: [] };
    for (let i = 0; i < rounds; i++) {
      r.direct.push(await download(`${cluster.registry.url}${blobPath}`));
      const cache = await startPullThroughCache(cluster, node, i);
      try {
        const side = { pid: cache.process.pid, storedFile: distributionBlobFile(cache.storageDir, digest) };
        r.cache.push(
          await firstPull(side, size, cluster.registry, () => download(`${cache.url}${blobPath}`)),
        );
      } finally {
        await cache.process.stop();
      }
      const agent = await startAgentIn(cluster, node, i);
      try {
        const side = { pid: agent.process.pid, storedFile: agentBlobFile(agent.cacheDir, digest) };
        const url = `${agent.url}/v2/${UPSTREAM}${blobPath.slice("/v2".length)}`;
        r.agent.push(await firstPull(side, size, cluster.registry, () => download(url)));
        r.warm.push(await download(url));
      } finally {
        await agent.process.stop();
      }
    }
    const what = `a ${opts.sizeMiB} MiB blob over a ${opts.mbit} Mbit/s origin link`;
    return coldResults("cold-link", what, size, r);
  } finally {
    await cluster.stop();
  }
}

interface Started {
  url: string;
  process: ManagedProcess;
}

/** distribution 2.8 as a pull-through cache of the cluster's origin, empty storage, in `node`. */
async function startPullThroughCache(
  cluster: SwarmCluster,
  node: NetnsNode,
  round: number,
): Promise<Started & { storageDir: string }> {
  const dir = join(cluster.dir, `cache-${round}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const storageDir = join(dir, "data");
  const config = [
    ...registryConfigLines(storageDir, `${node.ip}:${CACHE_PORT}`),
    "proxy:",
    `  remoteurl: ${cluster.registry.url}`,
  ];
  const configPath = join(dir, "config.yml");
  await writeFile(configPath, config.join("\n") + "\n");
  const logPath = logIn(dir, "cache");
  // A clean env: docker-registry reads REGISTRY_* variables as config overrides.
  const env = { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", HOME: dir };
  const proc = await cluster.network.spawnIn(node.ns, "docker-registry", ["serve", configPath], {
    logPath,
    env,
  });
  await waitForLogLine(logPath, /listening on/, { process: proc, timeoutMs: 15_000 });
  const url = `http://${node.ip}:${CACHE_PORT}`;
  await waitForHttpIn(cluster.network, node.ns, `${url}/v2/`, { statuses: [200], process: proc });
  return { url, process: proc, storageDir };
}

/** A fresh agent (empty cache, no tracker: the cold path alone) in `node`. */
async function startAgentIn(
  cluster: SwarmCluster,
  node: NetnsNode,
  round: number,
): Promise<Started & { cacheDir: string }> {
  const cacheDir = join(cluster.dir, `agent-cache-${round}`);
  await rm(cacheDir, { recursive: true, force: true });
  const args = [
    ...agentNodeArgs(AGENT_BIN),
    AGENT_BIN,
    "--listen",
    `${node.ip}:${AGENT_PORT}`,
    "--peer-listen",
    `${node.ip}:${PEER_PORT}`,
    "--upstream",
    `${UPSTREAM}=${cluster.registry.url}`,
    "--cache-dir",
    cacheDir,
    "--ratelimit",
    "64G",
    "--log-level",
    "info",
  ];
  const logPath = logIn(cluster.dir, `agent-${round}`);
  const proc = await cluster.network.spawnIn(node.ns, process.execPath, args, { logPath });
  const url = `http://${node.ip}:${AGENT_PORT}`;
  await waitForHttpIn(cluster.network, node.ns, `http://${node.ip}:${PEER_PORT}/readyz`, {
    statuses: [200],
    process: proc,
  });
  return { url, process: proc, cacheDir };
}
