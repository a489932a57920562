/**
 * A live config change reaches the pod mutation without a restart: the same capability instance,
 * the reconciler writing status in between, and the config changed as `kubectl apply` would.
 */
import { Registry } from "prom-client";
import { podMirrorCapability } from "./pod-mirror/capability";
import { promMutationMetrics } from "./pod-mirror/metrics";
import { reconcilePass } from "./reconciler/reconcile";
import { admit, podCreateRequest } from "./testing/admission";
import { accelerationConfig, basicAuth, dockerConfigSecret, pod } from "./testing/fixtures";
import { MemoryCluster } from "./testing/memory-cluster";
import { RecordingLog } from "./testing/recording-log";
import type { P2PAccelerationConfigSpec } from "./crd/p2p-acceleration-config";

const IMAGE = "registry.example.com/team/app:1";
const OTHER = "other.example.com/team/app:1";

describe("a live config change reaches the pod mutation", () => {
  const cluster = new MemoryCluster();
  const log = new RecordingLog();
  const capability = podMirrorCapability({
    cluster,
    metrics: promMutationMetrics(new Registry()),
    log,
    ignoredNamespaces: new Set(["kube-system"]),
  });
  const auths = { "registry.example.com": basicAuth("u", "p"), "other.example.com": basicAuth("u", "p") };
  cluster.setNamespace("shop", { "k8s.aliyun.com/image-accelerate-mode": "p2p" });
  cluster.setNamespace("team", { "example.com/p2p": "p2p" });
  for (const ns of ["shop", "team"]) cluster.putSecret(dockerConfigSecret(ns, "regcred", auths));

  async function change(spec: P2PAccelerationConfigSpec): Promise<void> {
    cluster.setConfig(accelerationConfig([{ host: "registry.example.com" }], spec));
    await reconcilePass({ cluster, log, newToken: () => "t".repeat(32) });
  }
  async function images(namespace: string, containers = [IMAGE]): Promise<string[]> {
    const { patch } = await admit(
      capability,
      podCreateRequest(pod({ containers, pullSecrets: ["regcred"] }), namespace),
    );
    const rewritten = new Map(
      patch
        .filter(p => /^\/spec\/containers\/\d+\/image$/.test(p.path))
        .map(p => [p.path, p.value as string]),
    );
    return containers.map((image, i) => rewritten.get(`/spec/containers/${i}/image`) ?? image);
  }

  const steps: {
    name: string;
    spec: P2PAccelerationConfigSpec;
    namespace: string;
    containers?: string[];
    expected: string[];
  }[] = [
    { name: "initial config", spec: {}, namespace: "shop", expected: [`127.0.0.1:65001/${IMAGE}`] },
    {
      name: "port",
      spec: { p2p: { port: 65101 } },
      namespace: "shop",
      expected: [`127.0.0.1:65101/${IMAGE}`],
    },
    {
      name: "registries (a second one added)",
      spec: { registries: [{ host: "registry.example.com" }, { host: "other.example.com" }] },
      namespace: "shop",
      containers: [IMAGE, OTHER],
      expected: [`127.0.0.1:65001/${IMAGE}`, `127.0.0.1:65001/${OTHER}`],
    },
    { name: "opt-in label", spec: { optInLabel: "example.com/p2p" }, namespace: "shop", expected: [IMAGE] },
    {
      name: "opt-in label (the namespace that has it)",
      spec: { optInLabel: "example.com/p2p" },
      namespace: "team",
      expected: [`127.0.0.1:65001/${IMAGE}`],
    },
    { name: "mode mirror", spec: { mode: "mirror" }, namespace: "shop", expected: [IMAGE] },
  ];
  it.each(steps)("$name", async ({ spec, namespace, containers, expected }) => {
    const full = { ...spec, registries: spec.registries ?? [{ host: "registry.example.com" }] };
    await change(full);
    expect(await images(namespace, containers)).toEqual(expected);
  });
});
