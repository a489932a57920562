/**
 * Mirror mode, the kubelet path end to end: images keep their names, the module leaves pods alone
 * (`mode: mirror`), and each node's agent writes the `hosts.toml` its node's containerd reads
 * (`--containerd-hosts-dir`), so CRI PullImage of `registry.test/...` with the pod's original pull
 * secret goes to the agent first and to the registry (`server`) when the agent is down. 4 netns
 * nodes, each with its own containerd and agent.
 */
import { V1Pod } from "@kubernetes/client-node";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { accelerationConfig, basicAuth, dockerConfigSecret } from "../../capabilities/testing/fixtures";
import { MemoryCluster } from "../../capabilities/testing/memory-cluster";
import { buildImage, type OciLayout } from "../../hack/testenv/oci-image";
import { pullPodImages } from "./kubelet";
import { MANAGED_MARKER, startNodeCluster, type KubeNode, type NodeCluster } from "./node-cluster";
import { describeWith, NODE_NEEDS } from "../support/prerequisites";
import { deployment, modulePipeline, podFromTemplate, type ModulePipeline } from "./workload";

jest.setTimeout(120_000);

const NODES = 4;
const REGISTRY = "registry.test";
const CREDS = { user: "deployer", password: "s3cret-pull" };
const OPT_IN = { "k8s.aliyun.com/image-accelerate-mode": "p2p" };
const IMAGE = `${REGISTRY}/team/app:1`;
const MiB = 1024 * 1024;

describeWith(
  NODE_NEEDS,
  "mirror mode: kubelet path on 4 netns nodes (hosts.toml by the agent, CRI PullImage, fallback)",
  () => {
    let cluster: NodeCluster;
    let api: MemoryCluster;
    let module: ModulePipeline;
    let layout: OciLayout;

    beforeAll(async () => {
      cluster = await startNodeCluster({
        nodes: NODES,
        mode: "mirror",
        registryName: REGISTRY,
        registryAuth: CREDS,
        shapeMbit: 200,
      });
      layout = await buildImage({ layers: [6 * MiB, 3 * MiB] });
      await cluster.swarm.pushImage(layout, "team/app", "1", { creds: CREDS });

      api = new MemoryCluster();
      api.setNamespace("shop", OPT_IN);
      api.setConfig(accelerationConfig([{ host: REGISTRY }], { mode: "mirror" }));
      api.putSecret(
        dockerConfigSecret("shop", "regcred", { [REGISTRY]: basicAuth(CREDS.user, CREDS.password) }),
      );
      module = modulePipeline(api);
    });
    afterAll(async () => {
      await cluster?.stop();
      await layout?.remove();
    });

    const admitted = async (pullSecrets: string[] | undefined, replica = 0) => {
      const deploy = deployment({
        name: "web",
        namespace: "shop",
        replicas: NODES,
        images: [IMAGE],
        pullSecrets,
      });
      return module.admitPod(podFromTemplate(deploy, replica), "shop");
    };
    const layersOn = async (node: KubeNode) => {
      const content = await node.containerd.contentDigests("k8s.io");
      return layout.layers.filter(l => content.has(l.digest)).length;
    };
    const fromContainerd = async (mark: number) =>
      (await cluster.swarm.registry.accessLog(mark)).filter(e => e.userAgent.startsWith("containerd"));

    it("each agent wrote its node's hosts.toml: itself first, the registry as server", async () => {
      for (const node of cluster.nodes) {
        const toml = await readFile(join(node.containerd.hostsDir, REGISTRY, "hosts.toml"), "utf8");
        expect(toml.split("\n")[0]).toBe(MANAGED_MARKER);
        expect(toml).toContain(`server = "${cluster.swarm.registry.url}"`);
        expect(toml).toContain(`[host."http://127.0.0.1:65001"]`);
      }
    });

    it("every replica pulls the private image by its own name through its node's agent; the registry serves each layer about once", async () => {
      const pods: V1Pod[] = [];
      for (let i = 0; i < NODES; i++) {
        const { pod, patch } = await admitted(["regcred"], i);
        expect(pod.spec!.containers[0].image).toBe(IMAGE);
        expect(pod.spec!.imagePullSecrets).toEqual([{ name: "regcred" }]);
        expect(patch.filter(op => op.path.startsWith("/spec"))).toEqual([]);
        pods.push(pod);
      }
      const mark = await cluster.swarm.registry.mark();
      const pulls = await Promise.all(
        cluster.nodes.map((node, i) => pullPodImages(pods[i], api, node.containerd)),
      );
      for (const [pull] of pulls) {
        expect(pull.errors).toEqual([]);
        expect(pull.imageRef).toBe(layout.config.digest);
        expect(pull.triedKeys).toEqual([REGISTRY]);
      }
      for (const node of cluster.nodes) {
        expect(await layersOn(node)).toBe(layout.layers.length);
        expect(await node.agentMetric("peerpull_blob_bytes_total")).toBeGreaterThanOrEqual(
          layout.layers.reduce((sum, l) => sum + l.size, 0),
        );
      }
      expect(await fromContainerd(mark)).toEqual([]);
      const gets = await cluster.swarm.registry.blobGets(mark);
      for (const layer of layout.layers) {
        const served = gets.get(layer.digest)?.bytes ?? 0;
        expect(served).toBeGreaterThanOrEqual(layer.size);
        expect(served).toBeLessThanOrEqual(layer.size * 1.05);
      }
    });

    it("a replica without the pull secret is refused by the agent and by the registry after it (no bytes)", async () => {
      const { pod } = await admitted(undefined);
      const node = cluster.nodes[1];
      await node.containerd.forgetAll("k8s.io");
      const servedBefore = await node.agentMetric("peerpull_blob_bytes_total");
      const mark = await cluster.swarm.registry.mark();
      const [pull] = await pullPodImages(pod, api, node.containerd);
      expect(pull.triedKeys).toEqual([]);
      expect(pull.imageRef).toBeUndefined();
      expect(pull.errors.join("\n")).toMatch(/401 Unauthorized/);
      expect(await node.agentMetric("peerpull_blob_bytes_total")).toBe(servedBefore);
      expect((await cluster.swarm.registry.blobGets(mark)).size).toBe(0);
      expect(await layersOn(node)).toBe(0);
    });

    it("with a node's agent down its hosts.toml stays and containerd falls back to the registry", async () => {
      const node = cluster.nodes[3];
      const file = join(node.containerd.hostsDir, REGISTRY, "hosts.toml");
      const before = await readFile(file, "utf8");
      await node.stopAgent();
      expect(await readFile(file, "utf8")).toBe(before);

      const { pod } = await admitted(["regcred"], 3);
      await node.containerd.forgetAll("k8s.io");
      const mark = await cluster.swarm.registry.mark();
      const [pull] = await pullPodImages(pod, api, node.containerd);
      expect(pull.errors).toEqual([]);
      expect(pull.imageRef).toBe(layout.config.digest);
      expect(await layersOn(node)).toBe(layout.layers.length);
      const direct = (await fromContainerd(mark)).filter(e => e.method === "GET" && /\/blobs\//.test(e.path));
      // containerd adds ?ns= to the registry's requests too
      expect(direct.map(e => e.path.split("/blobs/")[1].split("?")[0])).toEqual(
        expect.arrayContaining(layout.layers.map(l => l.digest)),
      );
    });
  },
);
