/**
 * The reconciler with the ACR resolver wired as `capabilities/index.ts` wires it
 * (`createAcrResolver({ readSecret: readSecretVia(cluster) })`), on the in-memory cluster, against the
 * fake Container Registry API that checks every request's signature: an instance id becomes hosts in
 * the agents' config and in `status.registries`; cloud errors show in `RegistriesResolved` with the
 * cloud's code, message and RequestId while the last good hosts stay in use; a fixed Secret works
 * without a restart; a restarted module keeps the hosts its status lists.
 */
process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true";

import { parse } from "yaml";
import { createAcrResolver } from "../acr/create-acr-resolver";
import { KEY, keySecret, REGION, SHOP, shippedPolicyActions } from "../acr/testing/acr-fixtures";
import { FakeCrApi } from "../acr/testing/fake-cr-api";
import type { P2PAccelerationConfigSpec } from "../crd/p2p-acceleration-config";
import { accelerationConfig } from "../testing/fixtures";
import { MemoryCluster } from "../testing/memory-cluster";
import { RecordingLog } from "../testing/recording-log";
import { readSecretVia } from "./credentials-secret";
import { reconcilePass, ReconcilerDeps } from "./reconcile";

const NS = "peerpull-system";
const INTERNET = SHOP.internet[0].domain;
const VPC = SHOP.vpc[0].domain;
const ACR_SPEC: P2PAccelerationConfigSpec = { region: REGION, acrInstances: [SHOP.id] };

let api: FakeCrApi;
beforeEach(async () => {
  api = new FakeCrApi(REGION);
  api.service.addAccessKey({ ...KEY, actions: shippedPolicyActions() });
  api.service.addInstance(SHOP);
  await api.start();
});
afterEach(() => api.stop());

function setup(spec: P2PAccelerationConfigSpec = ACR_SPEC) {
  const cluster = new MemoryCluster();
  cluster.putSecret(keySecret(KEY));
  cluster.setConfig(accelerationConfig([], spec));
  const resolver = () =>
    createAcrResolver({
      readSecret: readSecretVia(cluster),
      endpointFor: () => api.endpoint,
      protocol: "http",
    });
  const deps: ReconcilerDeps = {
    cluster,
    log: new RecordingLog(),
    acr: resolver(),
    newToken: () => "t".repeat(32),
  };
  const update = (patch: P2PAccelerationConfigSpec) => {
    const live = cluster.configs.get("default")!;
    cluster.setConfig({ ...live, spec: { ...live.spec, ...patch } });
  };
  return { cluster, deps, resolver, update };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const upstreams = (c: MemoryCluster): { host: string; origin: string }[] =>
  parse((c.store("ConfigMap").get(`${NS}/peerpull-agent`) as Any).data["agent.yaml"]).upstreams;
const agentData = (c: MemoryCluster): unknown =>
  structuredClone((c.store("ConfigMap").get(`${NS}/peerpull-agent`) as Any).data);
const condition = (c: MemoryCluster, type: string): Any =>
  c.configs.get("default")!.status?.conditions?.find(x => x.type === type);
const crCalls = () => api.service.calls.length;

describe("reconciler + ACR resolver against the fake Container Registry API", () => {
  it("an instance id becomes the agents' upstreams (VPC origin) and status.registries", async () => {
    const { cluster, deps } = setup();
    expect(await reconcilePass(deps)).toEqual({
      retry: false,
      active: "default",
      credentialsSecret: { namespace: "kube-system", name: "alibaba-addon-secret" },
    });
    expect(upstreams(cluster)).toEqual([
      { host: INTERNET, origin: `https://${VPC}` },
      { host: VPC, origin: `https://${VPC}` },
    ]);
    expect(cluster.configs.get("default")!.status!.registries).toEqual([
      { host: INTERNET, origin: `https://${VPC}`, source: "acr", instanceId: SHOP.id },
      { host: VPC, origin: `https://${VPC}`, source: "acr", instanceId: SHOP.id },
    ]);
    expect(condition(cluster, "RegistriesResolved")).toMatchObject({
      status: "True",
      reason: "Resolved",
      message: `2 registries: ${INTERNET}, ${VPC}`,
    });
    // the credentials were read through the reconciler's cluster client (one GET, RBAC-recorded)
    expect(cluster.apiCalls).toContainEqual(
      expect.objectContaining({
        verb: "get",
        resource: "secrets",
        namespace: "kube-system",
        name: "alibaba-addon-secret",
      }),
    );
  });

  it("pullImageInternet re-resolves at once (no hour wait) and moves every origin to the internet domain", async () => {
    const { cluster, deps, update } = setup();
    await reconcilePass(deps);
    const before = crCalls();
    update({ p2p: { cacheTTL: "2h" } });
    await reconcilePass(deps);
    expect(crCalls()).toBe(before); // an unrelated change reuses the fresh resolution
    update({ pullImageInternet: true });
    await reconcilePass(deps);
    expect(crCalls()).toBe(before + 2);
    expect(upstreams(cluster)).toEqual([
      { host: INTERNET, origin: `https://${INTERNET}` },
      { host: VPC, origin: `https://${INTERNET}` },
    ]);
  });

  it("a configured secretRef is the Secret read", async () => {
    const { cluster, deps } = setup({
      ...ACR_SPEC,
      credentials: { secretRef: { namespace: "peerpull-creds", name: "acr-key" } },
    });
    cluster.secrets.clear();
    cluster.putSecret(keySecret(KEY, "peerpull-creds", "acr-key"));
    const result = await reconcilePass(deps);
    expect(result.credentialsSecret).toEqual({ namespace: "peerpull-creds", name: "acr-key" });
    expect(condition(cluster, "RegistriesResolved")).toMatchObject({ status: "True" });
  });

  it("a wrong key: RegistriesResolved=False with the cloud's code, message and RequestId; fixing the Secret works without a restart", async () => {
    const { cluster, deps } = setup();
    cluster.putSecret(keySecret({ id: KEY.id, secret: "not-the-secret" }));
    const result = await reconcilePass(deps);
    expect(result.retry).toBe(false); // nothing changes until someone edits the Secret
    const failed = api.service.calls.find(c => c.code === "SignatureDoesNotMatch")!;
    expect(failed).toBeDefined();
    const message = condition(cluster, "RegistriesResolved").message as string;
    expect(condition(cluster, "RegistriesResolved")).toMatchObject({
      status: "False",
      reason: "AcrResolutionFailed",
    });
    expect(message).toContain("SignatureDoesNotMatch: Specified signature does not match");
    expect(message).toMatch(/RequestId [0-9A-F-]{36}/);
    expect(message).toContain(
      "check access-key-id and access-key-secret in Secret kube-system/alibaba-addon-secret",
    );
    expect(message.split("RequestId").length).toBe(2); // said once
    // the cloud's error is why nothing runs, not a config without registries
    expect(condition(cluster, "Ready")).toMatchObject({
      status: "False",
      reason: "RegistriesNotResolved",
      message,
    });
    // no registry at all yet: nothing is applied, agents are not started with an empty config
    expect(cluster.store("DaemonSet").size).toBe(0);

    cluster.putSecret(keySecret(KEY));
    await reconcilePass(deps); // the same resolver: the Secret is read again
    expect(condition(cluster, "RegistriesResolved")).toMatchObject({ status: "True" });
    expect(upstreams(cluster).map(u => u.host)).toEqual([INTERNET, VPC]);
  });

  it("the cloud failing at refresh: last good hosts stay in the agents' config, the error is shown and retried", async () => {
    let now = Date.now();
    const { cluster, deps } = setup();
    deps.acr = createAcrResolver({
      readSecret: readSecretVia(cluster),
      endpointFor: () => api.endpoint,
      protocol: "http",
      now: () => now,
    });
    await reconcilePass(deps);
    const config = agentData(cluster);
    now += 61 * 60 * 1000;
    api.service.throttle(10);
    const result = await reconcilePass(deps);
    expect(result.retry).toBe(true);
    expect(condition(cluster, "RegistriesResolved")).toMatchObject({
      status: "False",
      reason: "AcrResolutionFailed",
      message: expect.stringMatching(
        /Throttling.User: Request was denied due to user flow control\. \(RequestId [0-9A-F-]{36}\).*Using the last resolved domains: .*Retrying with backoff\./,
      ),
    });
    expect(agentData(cluster)).toEqual(config);
    expect(cluster.configs.get("default")!.status!.registries!.map(r => r.host)).toEqual([INTERNET, VPC]);
  });

  it("a restarted module whose first resolution fails keeps the hosts its status lists", async () => {
    // with a static registry too, so dropping the ACR hosts would still render (and roll) the agents
    const { cluster, deps, resolver } = setup({
      ...ACR_SPEC,
      registries: [{ host: "registry.example.com" }],
    });
    await reconcilePass(deps);
    const config = agentData(cluster);
    api.service.unavailable(10);
    const restarted = { ...deps, acr: resolver() };
    expect((await reconcilePass(restarted)).retry).toBe(true);
    expect(condition(cluster, "RegistriesResolved")).toMatchObject({
      status: "False",
      message: expect.stringContaining(`Using the last resolved domains: ${INTERNET}, ${VPC}.`),
    });
    expect(agentData(cluster)).toEqual(config);
  });

  it("an instance taken out of the spec leaves the agents' config, even while the cloud fails", async () => {
    const { cluster, deps, update } = setup({ ...ACR_SPEC, registries: [{ host: "registry.example.com" }] });
    await reconcilePass(deps);
    api.service.unavailable(10);
    update({ acrInstances: [] });
    await reconcilePass(deps);
    expect(upstreams(cluster).map(u => u.host)).toEqual(["registry.example.com"]);
    expect(condition(cluster, "RegistriesResolved")).toMatchObject({ status: "True" });
  });
});
