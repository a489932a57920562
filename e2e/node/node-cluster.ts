/**
 * Kubernetes nodes without Kubernetes: the netns swarm cluster (hack/netns: a private registry with
 * htpasswd auth, a tracker, tbf-shaped links) where every node namespace runs its own containerd
 * (CRI plugin on, `registry.config_path` = its hosts dir) and its own built agent on
 * 0.0.0.0:65001, so a node's containerd reaches its agent at 127.0.0.1:65001 as on a real node.
 * In mirror mode each agent gets `--containerd-hosts-dir` pointing at its node's containerd.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  launchAgent,
  PEER_PORT,
  startSwarmCluster,
  type AgentLaunchContext,
  type ClusterAgent,
  type SwarmCluster,
} from "../../hack/netns/cluster";
import { httpIn, type NetnsNode } from "../../hack/netns/netns";
import { startContainerd, type Containerd } from "../../hack/testenv/containerd";
import { waitFor } from "../../hack/testenv/processes";
import { parsePromText } from "../../hack/testenv/prom-text";
import type { Credentials } from "../../hack/testenv/registry";

export type AgentMode = "rewrite" | "mirror";

/** The first line of every hosts.toml the agent owns (README "Mirror mode"). */
export const MANAGED_MARKER = "# managed-by: peerpull-agent";

export interface KubeNode {
  readonly index: number;
  readonly netns: NetnsNode;
  readonly containerd: Containerd;
  agent: ClusterAgent | undefined;
  /** Starts (or restarts) this node's agent. */
  startAgent(): Promise<ClusterAgent>;
  /** SIGTERM to the agent (its hosts.toml files stay, as on a real node). */
  stopAgent(): Promise<void>;
  /** Sum of an agent metric's samples, read from inside the node (0 when no agent runs). */
  agentMetric(name: string): Promise<number>;
}

export interface NodeCluster {
  readonly swarm: SwarmCluster;
  readonly nodes: KubeNode[];
  /** What images name the registry as, e.g. "registry.test". */
  readonly registryName: string;
  stop(): Promise<void>;
}

export interface NodeClusterOptions {
  nodes: number;
  mode: AgentMode;
  registryName: string;
  registryAuth: Credentials;
  shapeMbit?: number;
}

export async function startNodeCluster(opts: NodeClusterOptions): Promise<NodeCluster> {
  const swarm = await startSwarmCluster({
    nodes: opts.nodes,
    shapeMbit: opts.shapeMbit,
    agents: false,
    registryAuth: opts.registryAuth,
    registryName: opts.registryName,
  });
  const containerds: Containerd[] = [];
  const stop = async () => {
    await swarm.stop().catch(() => undefined);
    await Promise.all(containerds.map(c => c.stop().catch(() => undefined)));
  };
  try {
    for (const netns of swarm.network.nodes) {
      const containerd = await startContainerd({ netns: netns.ns, namespace: "k8s.io" });
      containerds.push(containerd);
      if (opts.mode === "rewrite") await nameRegistry(containerd, opts.registryName, swarm.registry.url);
    }
    const nodes = swarm.network.nodes.map((netns, index) =>
      kubeNode(swarm, opts, index, netns, containerds[index]),
    );
    await Promise.all(nodes.map(node => node.startAgent()));
    return { swarm, nodes, registryName: opts.registryName, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Stands in for DNS: images naming `registryName` reach the registry over plain HTTP. The registry
 * is also listed as a host: containerd 1.6's CRI ignores a file holding only a `server` of another
 * host (it still resolves https://<name>). In mirror mode the agent writes this file instead.
 */
async function nameRegistry(containerd: Containerd, registryName: string, url: string): Promise<void> {
  const dir = join(containerd.hostsDir, registryName);
  await mkdir(dir, { recursive: true });
  const toml = `server = ${JSON.stringify(url)}\n\n[host.${JSON.stringify(url)}]\n  capabilities = ["pull", "resolve"]\n`;
  await writeFile(join(dir, "hosts.toml"), toml);
}

function kubeNode(
  swarm: SwarmCluster,
  opts: NodeClusterOptions,
  index: number,
  netns: NetnsNode,
  containerd: Containerd,
): KubeNode {
  const mirrorArgs = [
    "--containerd-hosts-dir",
    containerd.hostsDir,
    "--containerd-config",
    join(containerd.dir, "config.toml"),
  ];
  const ctx: AgentLaunchContext = {
    network: swarm.network,
    dir: swarm.dir,
    registryHost: swarm.registry.host,
    registryName: opts.registryName,
    trackerUrl: swarm.tracker.url,
    tokenFile: swarm.tokenFile,
    args: ["--log-level", "debug", ...(opts.mode === "mirror" ? mirrorArgs : [])],
  };
  const node: KubeNode = {
    index,
    netns,
    containerd,
    agent: undefined,
    async startAgent() {
      const agent = await launchAgent(netns, ctx);
      node.agent = agent;
      if (opts.mode === "mirror") {
        const file = join(containerd.hostsDir, opts.registryName, "hosts.toml");
        await waitFor(
          `${file} written by the agent`,
          async () => ((await readFile(file, "utf8")).startsWith(MANAGED_MARKER) ? true : undefined),
          { process: agent.process, timeoutMs: 20_000 },
        );
      }
      return agent;
    },
    async stopAgent() {
      await node.agent?.process.stop();
      node.agent = undefined;
    },
    async agentMetric(name) {
      if (!node.agent) return 0;
      const res = await httpIn(swarm.network, netns.ns, `http://${netns.ip}:${PEER_PORT}/metrics`, {
        keepBody: true,
      });
      if (res.status !== 200) throw new Error(`metrics of node ${index + 1}: HTTP ${res.status}`);
      return parsePromText(res.body)
        .filter(s => s.name === name)
        .reduce((sum, s) => sum + s.value, 0);
    },
  };
  return node;
}
