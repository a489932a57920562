/**
 * From an instance id to a rewritten pod: the resolver turns `spec.acrInstances` into registries
 * (against the fake Container Registry API), they are placed in `status.registries` as the
 * reconciler writes them, and a Pod CREATE run through Pepr's own mutate processor gets the
 * instance's images — by internet or VPC domain — rewritten to the node-local agent.
 * (The rendered agent config is the reconciler's; that half is checked where the reconciler lives.)
 */
process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true";

import { Registry } from "prom-client";
import { promMutationMetrics } from "../pod-mirror/metrics";
import { podMirrorCapability } from "../pod-mirror/capability";
import { admit, podCreateRequest } from "../testing/admission";
import { accelerationConfig, basicAuth, dockerConfigSecret, pod } from "../testing/fixtures";
import { MemoryCluster } from "../testing/memory-cluster";
import { RecordingLog } from "../testing/recording-log";
import { createAcrResolver } from "./create-acr-resolver";
import { KEY, keySecret, REGION, SHOP, shippedPolicyActions } from "./testing/acr-fixtures";
import { FakeCrApi } from "./testing/fake-cr-api";

const INTERNET = SHOP.internet[0].domain;
const VPC = SHOP.vpc[0].domain;
const OPT_IN = { "k8s.aliyun.com/image-accelerate-mode": "p2p" };

let api: FakeCrApi;
beforeEach(async () => {
  api = new FakeCrApi(REGION);
  api.service.addAccessKey({ ...KEY, actions: shippedPolicyActions() });
  api.service.addInstance(SHOP);
  await api.start();
});
afterEach(() => api.stop());

function setup() {
  const cluster = new MemoryCluster();
  cluster.setNamespace("shop", OPT_IN);
  cluster.putSecret(keySecret(KEY));
  cluster.putSecret(
    dockerConfigSecret("shop", "acr-pull", {
      [INTERNET]: basicAuth("robot", "pw"),
      [VPC]: basicAuth("robot", "pw"),
    }),
  );
  const config = accelerationConfig([{ host: "docker.io", anonymous: true }], {
    region: REGION,
    acrInstances: [SHOP.id],
  });
  const capability = podMirrorCapability({
    cluster,
    metrics: promMutationMetrics(new Registry()),
    log: new RecordingLog(),
    ignoredNamespaces: new Set(["kube-system", "pepr-system"]),
  });
  const acr = createAcrResolver({
    readSecret: (namespace, name) => cluster.readSecret(namespace, name),
    endpointFor: () => api.endpoint,
    protocol: "http",
  });
  return { cluster, config, capability, acr };
}

const shopPod = () =>
  pod({
    containers: [`${INTERNET}/team/app:1.2`, `${VPC}/team/worker:7`, "registry.example.com/other:1"],
    pullSecrets: ["acr-pull"],
  });

describe("an ACR instance id ends up as hosts the pod mutation rewrites", () => {
  it("rewrites the instance's images once the resolved registries are in the status", async () => {
    const { cluster, config, capability, acr } = setup();
    const { registries, error } = await acr.resolve(config.spec!);
    expect(error).toBeUndefined();
    cluster.setConfig({
      ...config,
      status: {
        registries: [
          { host: "docker.io", origin: "https://registry-1.docker.io", source: "static" },
          ...registries,
        ],
      },
    });

    const { response, patch } = await admit(capability, podCreateRequest(shopPod(), "shop"));
    expect(response.allowed).toBe(true);
    const images = patch
      .filter(op => op.path.endsWith("/image"))
      .map(op => [op.path, op.value])
      .sort();
    expect(images).toEqual([
      ["/spec/containers/0/image", `127.0.0.1:65001/${INTERNET}/team/app:1.2`],
      ["/spec/containers/1/image", `127.0.0.1:65001/${VPC}/team/worker:7`],
    ]);
    expect(patch).toContainEqual({
      op: "add",
      path: "/spec/imagePullSecrets/1",
      value: { name: "acr-credential-acr-pull-p2p" },
    });
  });

  it("leaves them alone while the instance is not resolved (no registries in the status yet)", async () => {
    const { cluster, config, capability } = setup();
    cluster.setConfig(config);
    const { response, patch } = await admit(capability, podCreateRequest(shopPod(), "shop"));
    expect(response.allowed).toBe(true);
    expect(patch.filter(op => op.path.endsWith("/image"))).toEqual([]);
  });
});
