/**
 * The demo on network-namespace nodes (root): hack/netns builds N nodes, a registry and a tracker
 * behind a bridge, every node's and the registry's upload shaped with tc tbf, one built agent per
 * node listening on the node's 127.0.0.1:65001 as on a real node.
 */
import { cpus } from "node:os";
import { AGENT_PORT, startSwarmCluster } from "../netns/cluster";
import { httpIn } from "../netns/netns";
import type { OciLayout } from "../testenv/oci-image";
import { parsePromText } from "../testenv/prom-text";
import { DemoEnv, REGISTRY_NAME, REPO, sourcesFrom, TAG } from "./env";

export async function startNetnsEnv(opts: { nodes: number; mbit: number }): Promise<DemoEnv> {
  const cluster = await startSwarmCluster({
    nodes: opts.nodes,
    shapeMbit: opts.mbit,
    registryName: REGISTRY_NAME,
    agentArgs: ["--log-level", "info"],
  });
  const ns = (i: number) => cluster.network.nodes[i].ns;
  const agentRef = `127.0.0.1:${AGENT_PORT}/${REGISTRY_NAME}/${REPO}:${TAG}`;
  const agentRepoUrl = `http://127.0.0.1:${AGENT_PORT}/v2/${REGISTRY_NAME}/${REPO}`;
  return {
    kind: "netns",
    notes: [
      `${opts.nodes} network namespaces (pp-${cluster.network.runId}-*) behind a bridge (${cluster.network.subnet}); each node's upload and the registry's shaped to ${opts.mbit} Mbit/s with tc tbf`,
      `real network stacks and links, but no added latency, and every node shares this machine's ${cpus().length} CPU cores and disk`,
    ],
    nodeCount: opts.nodes,
    logHint: `${cluster.dir}/*.log`,
    on: i => (cmd, args) => ["ip", ["netns", "exec", ns(i), cmd, ...args]],
    registryRepoUrl: () => `${cluster.registry.url}/v2/${REPO}`,
    agentRepoUrl: () => agentRepoUrl,
    pushImage: (layout: OciLayout) => cluster.pushImage(layout, REPO, TAG),
    registryMark: () => cluster.registry.mark(),
    async registryBlobBytes(mark) {
      return [...(await cluster.registry.blobGets(mark)).values()].reduce((sum, b) => sum + b.bytes, 0);
    },
    async agentSources(i) {
      const res = await httpIn(cluster.network, ns(i), `${cluster.agents[i].peerUrl}/metrics`, {
        keepBody: true,
      });
      if (res.status !== 200) throw new Error(`metrics of node ${i + 1}: HTTP ${res.status}`);
      return sourcesFrom(parsePromText(res.body));
    },
    keepCommands: () => [
      `ip netns exec ${ns(0)} skopeo copy --src-tls-verify=false docker://${agentRef} dir:$(mktemp -d)`,
      `ip netns exec ${ns(1)} curl -sf ${agentRepoUrl}/manifests/${TAG} -H 'Accept: application/vnd.oci.image.manifest.v1+json'`,
      `ip netns exec ${ns(0)} curl -sf ${cluster.agents[0].peerUrl}/metrics | grep -E '^peerpull_(origin|peer_download|peer_upload)_bytes_total'`,
    ],
    stop: () => cluster.stop(),
  };
}
