/**
 * From config to effect: an instance id in a `P2PAccelerationConfig` goes through the reconciler
 * (with the resolver wired as `capabilities/index.ts` wires it, against the fake Container Registry
 * API, which checks every signature) into the agents' config (`agent.yaml` upstreams, VPC origin)
 * and `status.registries`; a Pod CREATE run through Pepr's own mutate processor then gets the
 * instance's images — by internet or VPC domain — rewritten to the node-local agent.
 */
process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true";

import { Registry } from "prom-client";
import { parse } from "yaml";
import { readSecretVia } from "../reconciler/credentials-secret";
import { reconcilePass } from "../reconciler/reconcile";
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
    readSecret: readSecretVia(cluster),
    endpointFor: () => api.endpoint,
    protocol: "http",
  });
  const reconcile = () =>
    reconcilePass({ cluster, acr, log: new RecordingLog(), newToken: () => "t".repeat(32) });
  return { cluster, config, capability, reconcile };
}

const shopPod = () =>
  pod({
    containers: [`${INTERNET}/team/app:1.2`, `${VPC}/team/worker:7`, "registry.example.com/other:1"],
    pullSecrets: ["acr-pull"],
  });

describe("an ACR instance id ends up as hosts the pod mutation rewrites", () => {
  it("the reconciler puts the instance's hosts in the agents' config and the status; its images are rewritten", async () => {
    const { cluster, config, capability, reconcile } = setup();
    cluster.setConfig(config);
    expect((await reconcile()).retry).toBe(false);
    const agentYaml = (
      cluster.store("ConfigMap").get("peerpull-system/peerpull-agent") as { data: Record<string, string> }
    ).data["agent.yaml"];
    expect(parse(agentYaml).upstreams).toEqual([
      { host: "docker.io", origin: "https://registry-1.docker.io" },
      { host: INTERNET, origin: `https://${VPC}` },
      { host: VPC, origin: `https://${VPC}` },
    ]);
    expect(cluster.configs.get("default")!.status!.registries).toEqual([
      { host: "docker.io", origin: "https://registry-1.docker.io", source: "static" },
      { host: INTERNET, origin: `https://${VPC}`, source: "acr", instanceId: SHOP.id },
      { host: VPC, origin: `https://${VPC}`, source: "acr", instanceId: SHOP.id },
    ]);

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

  it("leaves them alone when the cloud refuses the credentials (nothing resolved yet)", async () => {
    const { cluster, config, capability, reconcile } = setup();
    cluster.putSecret(keySecret({ id: KEY.id, secret: "not-the-secret" }));
    cluster.setConfig(config);
    await reconcile();
    expect(cluster.configs.get("default")!.status!.registries!.map(r => r.host)).toEqual(["docker.io"]);
    const { response, patch } = await admit(capability, podCreateRequest(shopPod(), "shop"));
    expect(response.allowed).toBe(true);
    expect(patch.filter(op => op.path.endsWith("/image"))).toEqual([]);
  });

  it("leaves them alone while the instance is not resolved (no registries in the status yet)", async () => {
    const { cluster, config, capability } = setup();
    cluster.setConfig(config);
    const { response, patch } = await admit(capability, podCreateRequest(shopPod(), "shop"));
    expect(response.allowed).toBe(true);
    expect(patch.filter(op => op.path.endsWith("/image"))).toEqual([]);
  });
});
