/**
 * The demo without network namespaces (not root, or --loopback): the registry, the tracker and one
 * agent per node as processes on 127.0.0.1. Links cannot be shaped here, so the registry sits behind
 * a throttling proxy of the link rate and each agent's own --ratelimit stands in for its link.
 */
import { cpus } from "node:os";
import { startAgent, type AgentProcess } from "../testenv/agent";
import { pushImage, type OciLayout } from "../testenv/oci-image";
import { startRegistry } from "../testenv/registry";
import { startTrackerProcess } from "../testenv/tracker";
import { Teardown } from "../testenv/processes";
import { DemoEnv, REGISTRY_NAME, REPO, sourcesFrom, TAG } from "./env";
import { startThrottleProxy } from "./throttle-proxy";

export async function startLoopbackEnv(opts: { nodes: number; mbit: number; why: string }): Promise<DemoEnv> {
  const teardown = new Teardown();
  try {
    const linkBytes = (opts.mbit * 1e6) / 8;
    const registry = await startRegistry();
    teardown.add(() => registry.stop());
    const origin = await startThrottleProxy(registry.url, linkBytes);
    teardown.add(() => origin.stop());
    const tracker = await startTrackerProcess(["--log-level", "info"]);
    teardown.add(() => tracker.stop());
    const agents: AgentProcess[] = [];
    for (let i = 0; i < opts.nodes; i++) {
      const agent = await startAgent({
        upstreams: [`${REGISTRY_NAME}=${origin.url}`],
        args: [
          ...["--tracker", tracker.url, "--peer-token-file", tracker.tokenFile],
          ...["--ratelimit", String(Math.round(2 * linkBytes)), "--log-level", "info"],
        ],
      });
      teardown.add(() => agent.stop());
      agents.push(agent);
    }
    const agentRef = (i: number) => `${agents[i].host}/${REGISTRY_NAME}/${REPO}:${TAG}`;
    return {
      kind: "loopback",
      notes: [
        `loopback, no network namespaces (${opts.why}): every node is a set of processes on 127.0.0.1`,
        `the registry is behind a throttling proxy of ${opts.mbit} Mbit/s; each agent's --ratelimit is ${2 * opts.mbit} Mbit/s for its uploads and downloads together (a real link gives ${opts.mbit} each way); clients' downloads are not limited`,
        `no kernel queues between nodes, no latency, and all nodes share this machine's ${cpus().length} CPU cores and disk: run as root for namespaces with shaped links`,
      ],
      nodeCount: opts.nodes,
      logHint: `registry ${registry.logPath}, tracker ${tracker.logPath}, agent 1 ${agents[0].logPath}`,
      on: () => (cmd, args) => [cmd, args],
      registryRepoUrl: () => `${origin.url}/v2/${REPO}`,
      agentRepoUrl: i => `${agents[i].url}/v2/${REGISTRY_NAME}/${REPO}`,
      pushImage: async (layout: OciLayout) => void (await pushImage(layout, registry, REPO, TAG)),
      registryMark: () => registry.mark(),
      async registryBlobBytes(mark) {
        return [...(await registry.blobGets(mark)).values()].reduce((sum, b) => sum + b.bytes, 0);
      },
      agentSources: async i => sourcesFrom(await agents[i].metrics()),
      keepCommands: () => [
        `skopeo copy --src-tls-verify=false docker://${agentRef(0)} dir:$(mktemp -d)`,
        `curl -sf ${agents[1 % agents.length].url}/v2/${REGISTRY_NAME}/${REPO}/manifests/${TAG} -H 'Accept: application/vnd.oci.image.manifest.v1+json'`,
        `curl -sf ${agents[0].peerUrl}/metrics | grep -E '^peerpull_(origin|peer_download|peer_upload)_bytes_total'`,
      ],
      stop: () => teardown.run(),
    };
  } catch (err) {
    await teardown.run().catch(() => undefined);
    throw err;
  }
}
