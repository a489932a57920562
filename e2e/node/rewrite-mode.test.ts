/**
 * Rewrite mode, the kubelet path end to end with the module's real code and real containerd: a
 * Deployment in an opted-in namespace, its pods through the pod mutation (Pepr's mutate processor,
 * in-memory API holding the namespace, the config and the original pull secret), then on each of 4
 * network-namespace nodes kubelet's pull: keyring over the pod's secrets, CRI PullImage with the
 * chosen auth into that node's containerd, which talks to that node's agent at 127.0.0.1:65001.
 */
import { V1Pod } from "@kubernetes/client-node";
import { accelerationConfig, basicAuth, dockerConfigSecret } from "../../capabilities/testing/fixtures";
import { MemoryCluster } from "../../capabilities/testing/memory-cluster";
import { buildImage, type OciLayout } from "../../hack/testenv/oci-image";
import { pullPodImages } from "./kubelet";
import { startNodeCluster, type KubeNode, type NodeCluster } from "./node-cluster";
import { describeWith, NODE_NEEDS } from "../support/prerequisites";
import { deployment, modulePipeline, podFromTemplate, type ModulePipeline } from "./workload";

jest.setTimeout(120_000);

const NODES = 4;
const REGISTRY = "registry.test";
const ENDPOINT = "127.0.0.1:65001";
const CREDS = { user: "deployer", password: "s3cret-pull" };
const OPT_IN = { "k8s.aliyun.com/image-accelerate-mode": "p2p" };
const IMAGE = `${REGISTRY}/team/app:1`;
const MiB = 1024 * 1024;

describeWith(
  NODE_NEEDS,
  "rewrite mode: kubelet path on 4 netns nodes (pod mutation, CRI PullImage, swarm)",
  () => {
    let cluster: NodeCluster;
    let api: MemoryCluster;
    let module: ModulePipeline;
    let layout: OciLayout;

    beforeAll(async () => {
      cluster = await startNodeCluster({
        nodes: NODES,
        mode: "rewrite",
        registryName: REGISTRY,
        registryAuth: CREDS,
        shapeMbit: 200,
      });
      layout = await buildImage({ layers: [6 * MiB, 3 * MiB] });
      await cluster.swarm.pushImage(layout, "team/app", "1", { creds: CREDS });

      api = new MemoryCluster();
      api.setNamespace("shop", OPT_IN);
      api.setConfig(accelerationConfig([{ host: REGISTRY }]));
      api.putSecret(
        dockerConfigSecret("shop", "regcred", { [REGISTRY]: basicAuth(CREDS.user, CREDS.password) }),
      );
      api.putSecret(
        dockerConfigSecret("shop", "stale", { [REGISTRY]: basicAuth(CREDS.user, "rotated-away") }),
      );
      module = modulePipeline(api);
    });
    afterAll(async () => {
      await cluster?.stop();
      await layout?.remove();
    });

    const admitted = async (pullSecrets: string[] | undefined, image = IMAGE, replica = 0) => {
      const deploy = deployment({
        name: "web",
        namespace: "shop",
        replicas: NODES,
        images: [image],
        pullSecrets,
      });
      return module.admitPod(podFromTemplate(deploy, replica), "shop");
    };
    const layersOn = async (node: KubeNode) => {
      const content = await node.containerd.contentDigests("k8s.io");
      return layout.layers.filter(l => content.has(l.digest)).length;
    };

    it("every replica's pull succeeds on its own node, with the derived secret, and the registry serves each layer about once", async () => {
      const pods: V1Pod[] = [];
      for (let i = 0; i < NODES; i++) pods.push((await admitted(["regcred"], IMAGE, i)).pod);
      for (const pod of pods) {
        expect(pod.spec!.containers[0].image).toBe(`${ENDPOINT}/${IMAGE}`);
        expect(pod.spec!.imagePullSecrets).toEqual([
          { name: "regcred" },
          { name: "acr-credential-regcred-p2p" },
        ]);
      }
      expect(api.secrets.has("shop/acr-credential-regcred-p2p")).toBe(true);

      const mark = await cluster.swarm.registry.mark();
      const pulls = await Promise.all(
        cluster.nodes.map((node, i) => pullPodImages(pods[i], api, node.containerd)),
      );
      for (const [pull] of pulls) {
        expect(pull.errors).toEqual([]);
        expect(pull.imageRef).toBe(layout.config.digest);
        // kubelet's keyring chose the derived secret (the original's key cannot match 127.0.0.1:65001)
        expect(pull.triedKeys).toEqual([`${ENDPOINT}/${REGISTRY}/`]);
      }
      for (const node of cluster.nodes) expect(await layersOn(node)).toBe(layout.layers.length);

      const log = await cluster.swarm.registry.accessLog(mark);
      expect(log.filter(e => e.userAgent.startsWith("containerd"))).toEqual([]);
      const gets = await cluster.swarm.registry.blobGets(mark);
      for (const layer of layout.layers) {
        const served = gets.get(layer.digest)?.bytes ?? 0;
        expect(served).toBeGreaterThanOrEqual(layer.size);
        expect(served).toBeLessThanOrEqual(layer.size * 1.05);
      }
      const peerBytes = await Promise.all(
        cluster.nodes.map(n => n.agentMetric("peerpull_peer_download_bytes_total")),
      );
      const layerBytes = layout.layers.reduce((sum, l) => sum + l.size, 0);
      expect(peerBytes.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual((NODES - 1) * layerBytes * 0.9);
    });

    it("a replica without the pull secret is left unrewritten, and its pull is refused by the registry (no bytes)", async () => {
      const { pod, patch } = await admitted(undefined);
      expect(pod.spec!.containers[0].image).toBe(IMAGE);
      expect(patch.filter(op => op.path.includes("/image"))).toEqual([]);

      const node = cluster.nodes[1];
      await node.containerd.forgetAll("k8s.io");
      const mark = await cluster.swarm.registry.mark();
      const [pull] = await pullPodImages(pod, api, node.containerd);
      expect(pull.triedKeys).toEqual([]);
      expect(pull.imageRef).toBeUndefined();
      expect(pull.errors.join("\n")).toMatch(/401 Unauthorized/);
      expect((await cluster.swarm.registry.blobGets(mark)).size).toBe(0);
      expect(await layersOn(node)).toBe(0);
    });

    it("a pod naming the node-local endpoint without a secret gets nothing from an agent that holds the image", async () => {
      const { pod } = await admitted(undefined, `${ENDPOINT}/${IMAGE}`);
      expect(pod.spec!.containers[0].image).toBe(`${ENDPOINT}/${IMAGE}`);
      expect(pod.spec!.imagePullSecrets).toBeUndefined();

      const node = cluster.nodes[0];
      await node.containerd.forgetAll("k8s.io");
      const servedBefore = await node.agentMetric("peerpull_blob_bytes_total");
      const [pull] = await pullPodImages(pod, api, node.containerd);
      expect(pull.triedKeys).toEqual([]);
      expect(pull.imageRef).toBeUndefined();
      expect(pull.errors.join("\n")).toMatch(/401 Unauthorized/);
      expect(await node.agentMetric("peerpull_blob_bytes_total")).toBe(servedBefore);
      expect(await layersOn(node)).toBe(0);
    });

    it("a pod whose secret the registry no longer accepts is refused through the agent too (no bytes)", async () => {
      const { pod } = await admitted(["stale"]);
      expect(pod.spec!.containers[0].image).toBe(`${ENDPOINT}/${IMAGE}`);

      const node = cluster.nodes[2];
      await node.containerd.forgetAll("k8s.io");
      const servedBefore = await node.agentMetric("peerpull_blob_bytes_total");
      const [pull] = await pullPodImages(pod, api, node.containerd);
      expect(pull.triedKeys).toEqual([`${ENDPOINT}/${REGISTRY}/`]);
      expect(pull.imageRef).toBeUndefined();
      expect(pull.errors.join("\n")).toMatch(/401 Unauthorized|403 Forbidden/);
      expect(await node.agentMetric("peerpull_blob_bytes_total")).toBe(servedBefore);
      expect(await layersOn(node)).toBe(0);
    });
  },
);
