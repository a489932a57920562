import { Registry } from "prom-client";
import pkg from "../../package.json";
import {
  accelerationConfig,
  basicAuth,
  decodeDockerConfig,
  dockerConfigSecret,
  pod,
} from "../testing/fixtures";
import { admit, podCreateRequest } from "../testing/admission";
import { MemoryCluster } from "../testing/memory-cluster";
import { RecordingLog } from "../testing/recording-log";
import { podMirrorCapability } from "./capability";
import { promMutationMetrics } from "./metrics";

const LABEL = "k8s.aliyun.com/image-accelerate-mode";
const OPT_IN = { [LABEL]: "p2p" };
const SHA = "sha256:" + "b".repeat(64);
const CRED = basicAuth("robot", "s3cret");

function setup() {
  const cluster = new MemoryCluster();
  cluster.setNamespace("shop");
  cluster.setNamespace("opted", OPT_IN);
  cluster.setNamespace("kube-system", OPT_IN);
  cluster.setConfig(
    accelerationConfig([
      { host: "registry.example.com" },
      { host: "docker.io", anonymous: true },
      { host: "quay.io" },
    ]),
  );
  for (const ns of ["shop", "opted"]) {
    cluster.putSecret(dockerConfigSecret(ns, "regcred", { "https://registry.example.com": CRED }));
    cluster.putSecret(dockerConfigSecret(ns, "other", { "ghcr.io": CRED }));
  }
  const registry = new Registry();
  const log = new RecordingLog();
  const capability = podMirrorCapability({
    cluster,
    metrics: promMutationMetrics(registry),
    log,
    ignoredNamespaces: new Set(["kube-system", "pepr-system"]),
  });
  const counts = async (): Promise<Record<string, number>> => {
    const metric = await registry.getSingleMetric("peerpull_mutations_total")!.get();
    return Object.fromEntries(metric.values.map(v => [`${v.labels.result}/${v.labels.reason}`, v.value]));
  };
  return { cluster, capability, log, counts };
}

const ENDPOINT = "127.0.0.1:65001";
const STATUS = { "peerpull.pepr.dev/pod-mirror": "succeeded" };

function p2pConfig(originalImages: Record<string, string>): string {
  return JSON.stringify({ endpoint: ENDPOINT, configName: "default", originalImages });
}

describe("Pod CREATE through Pepr's mutate processor", () => {
  it("is configured so the API server ignores webhook failures (failurePolicy Ignore)", () => {
    expect(pkg.pepr.onError).toBe("ignore");
  });

  it("rewrites accelerated images of an opted-in pod, copies its pull secret and annotates it", async () => {
    const { capability, cluster, counts } = setup();
    const p = pod({
      labels: OPT_IN,
      containers: ["registry.example.com/team/app:1.2", `nginx@${SHA}`, "gcr.io/x/y:1"],
      initContainers: ["quay.io/org/tool:3"],
      pullSecrets: ["regcred"],
    });
    const { response, patch } = await admit(capability, podCreateRequest(p, "shop"));

    expect(response.allowed).toBe(true);
    expect(response.patchType).toBe("JSONPatch");
    expect(patch).toEqual([
      { op: "add", path: "/spec/imagePullSecrets/1", value: { name: "acr-credential-regcred-p2p" } },
      {
        op: "replace",
        path: "/spec/containers/1/image",
        value: `${ENDPOINT}/docker.io/library/nginx@${SHA}`,
      },
      {
        op: "replace",
        path: "/spec/containers/0/image",
        value: `${ENDPOINT}/registry.example.com/team/app:1.2`,
      },
      {
        op: "add",
        path: "/metadata/annotations",
        value: {
          ...STATUS,
          [LABEL]: "p2p",
          "k8s.aliyun.com/p2p-config": p2pConfig({
            c0: "registry.example.com/team/app:1.2",
            c1: `nginx@${SHA}`,
          }),
        },
      },
    ]);
    const derived = cluster.secrets.get("shop/acr-credential-regcred-p2p")!;
    expect(derived.type).toBe("kubernetes.io/dockerconfigjson");
    expect(derived.metadata!.labels).toEqual({
      "app.kubernetes.io/managed-by": "peerpull",
      "peerpull.io/derived-from": "regcred",
    });
    expect(derived.metadata!.ownerReferences).toEqual([
      {
        apiVersion: "v1",
        kind: "Secret",
        name: "regcred",
        uid: "uid-shop-regcred",
        blockOwnerDeletion: false,
      },
    ]);
    expect(decodeDockerConfig(derived)).toEqual({ auths: { [`${ENDPOINT}/registry.example.com/`]: CRED } });
    expect(await counts()).toEqual({ "mutated/rewritten": 1 });
  });

  it("opts in by namespace label and rewrites init and ephemeral containers", async () => {
    const { capability, cluster } = setup();
    const p = pod({
      containers: ["gcr.io/x/y:1"],
      initContainers: ["registry.example.com/init:1"],
      ephemeralContainers: ["busybox"],
      pullSecrets: ["other", "regcred"],
    });
    const { patch } = await admit(capability, podCreateRequest(p, "opted"));
    expect(patch).toEqual([
      { op: "add", path: "/spec/imagePullSecrets/2", value: { name: "acr-credential-regcred-p2p" } },
      {
        op: "replace",
        path: "/spec/ephemeralContainers/0/image",
        value: `${ENDPOINT}/docker.io/library/busybox`,
      },
      {
        op: "replace",
        path: "/spec/initContainers/0/image",
        value: `${ENDPOINT}/registry.example.com/init:1`,
      },
      {
        op: "add",
        path: "/metadata/annotations",
        value: {
          ...STATUS,
          [LABEL]: "p2p",
          "k8s.aliyun.com/p2p-config": p2pConfig({ init0: "registry.example.com/init:1", debug0: "busybox" }),
        },
      },
    ]);
    expect(cluster.secrets.has("opted/acr-credential-other-p2p")).toBe(false);
  });

  it("rewrites anonymous registries without any pull secret and adds none", async () => {
    const { capability, cluster } = setup();
    const { patch } = await admit(
      capability,
      podCreateRequest(pod({ labels: OPT_IN, containers: ["redis:7"] }), "shop"),
    );
    expect(patch).toEqual([
      { op: "replace", path: "/spec/containers/0/image", value: `${ENDPOINT}/docker.io/library/redis:7` },
      {
        op: "add",
        path: "/metadata/annotations",
        value: { ...STATUS, [LABEL]: "p2p", "k8s.aliyun.com/p2p-config": p2pConfig({ c0: "redis:7" }) },
      },
    ]);
    expect(cluster.calls.filter(c => c.method === "applySecret")).toEqual([]);
  });

  it("does not add a derived secret the pod already lists, and keeps existing annotations", async () => {
    const { capability } = setup();
    const p = pod({
      labels: OPT_IN,
      annotations: { team: "a" },
      containers: ["registry.example.com/app:1"],
      pullSecrets: ["regcred", "acr-credential-regcred-p2p"],
    });
    const { patch } = await admit(capability, podCreateRequest(p, "shop"));
    expect(patch).toEqual([
      { op: "replace", path: "/spec/containers/0/image", value: `${ENDPOINT}/registry.example.com/app:1` },
      { op: "add", path: "/metadata/annotations/peerpull.pepr.dev~1pod-mirror", value: "succeeded" },
      { op: "add", path: "/metadata/annotations/k8s.aliyun.com~1image-accelerate-mode", value: "p2p" },
      {
        op: "add",
        path: "/metadata/annotations/k8s.aliyun.com~1p2p-config",
        value: p2pConfig({ c0: "registry.example.com/app:1" }),
      },
    ]);
  });

  it("does not rewrite an already rewritten pod again", async () => {
    const { capability, counts } = setup();
    const first = pod({
      labels: OPT_IN,
      containers: ["registry.example.com/app:1"],
      pullSecrets: ["regcred"],
    });
    const once = await admit(capability, podCreateRequest(first, "shop"));
    const rewritten = applyJsonPatch(first, once.patch);
    const again = await admit(capability, podCreateRequest(rewritten, "shop"));
    expect(again.patch).toEqual([]);
    expect(await counts()).toEqual({ "mutated/rewritten": 1, "skipped/already-mutated": 1 });
  });

  const skips: {
    name: string;
    namespace: string;
    setupCluster?: (c: MemoryCluster) => void;
    reason: string;
  }[] = [
    { name: "pod and namespace not opted in", namespace: "shop", reason: "not-opted-in" },
    { name: "kube-system", namespace: "kube-system", reason: "ignored-namespace" },
    { name: "the module's own namespace", namespace: "pepr-system", reason: "ignored-namespace" },
    {
      name: "no P2PAccelerationConfig",
      namespace: "opted",
      setupCluster: c => c.configs.clear(),
      reason: "no-config",
    },
    {
      name: "mirror mode",
      namespace: "opted",
      setupCluster: c =>
        c.setConfig(accelerationConfig([{ host: "docker.io", anonymous: true }], { mode: "mirror" })),
      reason: "mirror-mode",
    },
  ];
  it.each(skips)("leaves the pod alone: $name", async ({ namespace, setupCluster, reason }) => {
    const { capability, cluster, counts } = setup();
    setupCluster?.(cluster);
    const p = pod({
      labels: namespace === "shop" ? {} : OPT_IN,
      containers: ["nginx:1"],
      pullSecrets: ["regcred"],
    });
    const { response, patch } = await admit(capability, podCreateRequest(p, namespace));
    expect(response.allowed).toBe(true);
    expect(patch.filter(op => op.path.includes("containers"))).toEqual([]);
    expect(await counts()).toEqual({ [`skipped/${reason}`]: 1 });
    expect(cluster.calls.filter(c => c.method === "applySecret")).toEqual([]);
  });

  it("skips private images when the pod has no pull secret for their registry", async () => {
    const { capability, counts, log } = setup();
    const p = pod({
      labels: OPT_IN,
      containers: ["registry.example.com/app:1", "quay.io/a/b"],
      pullSecrets: ["other"],
    });
    const { patch } = await admit(capability, podCreateRequest(p, "shop"));
    expect(patch).toEqual([{ op: "add", path: "/metadata/annotations", value: STATUS }]);
    expect(await counts()).toEqual({ "skipped/no-accelerated-images": 1 });
    expect(log.lines.at(-1)!.obj).toMatchObject({
      images: [
        { container: "c0", image: "registry.example.com/app:1", reason: "no-pull-secret" },
        { container: "c1", image: "quay.io/a/b", reason: "no-pull-secret" },
      ],
    });
  });

  it("leaves invalid references alone and rewrites the rest", async () => {
    const { capability } = setup();
    const p = pod({ labels: OPT_IN, containers: ["Registry.Example.com/UPPER:1", "busybox:1"] });
    const { patch } = await admit(capability, podCreateRequest(p, "shop"));
    expect(patch.filter(op => op.path.includes("containers"))).toEqual([
      { op: "replace", path: "/spec/containers/1/image", value: `${ENDPOINT}/docker.io/library/busybox:1` },
    ]);
  });

  it("computes the patch but writes no secret on a dry run", async () => {
    const { capability, cluster } = setup();
    const p = pod({ labels: OPT_IN, containers: ["registry.example.com/app:1"], pullSecrets: ["regcred"] });
    const { patch } = await admit(capability, podCreateRequest(p, "shop", true));
    expect(patch.some(op => op.path === "/spec/containers/0/image")).toBe(true);
    expect(cluster.secrets.has("shop/acr-credential-regcred-p2p")).toBe(false);
  });

  const faults: {
    name: string;
    method: "readSecret" | "applySecret" | "accelerationConfigs" | "namespaceLabels";
    reason: string;
  }[] = [
    { name: "reading the pull secret", method: "readSecret", reason: "secret-read-failed" },
    { name: "writing the derived secret", method: "applySecret", reason: "secret-apply-failed" },
    { name: "reading the configs", method: "accelerationConfigs", reason: "cluster-read-failed" },
    { name: "reading namespace labels", method: "namespaceLabels", reason: "cluster-read-failed" },
  ];
  it.each(faults)("admits the pod unmutated when $name fails", async ({ method, reason }) => {
    const { capability, cluster, counts, log } = setup();
    cluster.failOn(method, new Error("connection refused"));
    const p = pod({ labels: OPT_IN, containers: ["registry.example.com/app:1"], pullSecrets: ["regcred"] });
    const { response, patch } = await admit(capability, podCreateRequest(p, "shop"));
    expect(response.allowed).toBe(true);
    expect(response.warnings).toBeUndefined();
    expect(patch).toEqual([{ op: "add", path: "/metadata/annotations", value: STATUS }]);
    expect(await counts()).toEqual({ [`error/${reason}`]: 1 });
    expect(log.lines.at(-1)).toMatchObject({
      level: "warn",
      obj: { reason, err: "Error: connection refused" },
    });
  });
});

function applyJsonPatch<T>(doc: T, ops: { op: string; path: string; value?: unknown }[]): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { applyPatch } = require("fast-json-patch") as {
    applyPatch: (d: T, o: unknown[], validate: boolean, mutate: boolean) => { newDocument: T };
  };
  return applyPatch(doc, ops, true, false).newDocument;
}
