/**
 * The module's RBAC is exactly what it does. One journey through everything the module does on one
 * in-memory cluster (pod mutation, derived secrets following their originals, reconcile: create,
 * change, prune, status, mirror mode's cleanup finalizer, delete and cleanup, plus the watches Pepr opens for the bindings) records
 * every API request (reading the ACR credentials Secret, the default one and a configured secretRef,
 * through the resolver as index.ts wires it, against the fake Container Registry API, included);
 * each must be allowed by the ClusterRole that Pepr generates from package.json
 * (`rbacMode: scoped` + `rbac`), and every rule must be used by some request, Pepr's own (its store
 * and the store's CRD) aside. The same rules are checked in dist/ when `pepr build` has run. This
 * suite runs last (hack/jest-sequencer.cjs) and also checks every request the in-memory clusters of
 * all other suites served in the run (logged by capabilities/testing/memory-api.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { V1PolicyRule } from "@kubernetes/client-node";
import type { Capability } from "pepr";
import { parseAllDocuments } from "yaml";
import pkg from "../package.json";
import { itWith } from "../e2e/support/prerequisites";
import { API_CALLS_LOG_ENV, type ApiCall } from "./testing/memory-api";

// Pepr registers Watch bindings only in build, dev or watch mode; set before pepr is loaded.
process.env.PEPR_MODE = "build";
process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true";
/* eslint-disable @typescript-eslint/no-require-imports */
const { Registry } = require("prom-client") as typeof import("prom-client");
const { podMirrorCapability } =
  require("./pod-mirror/capability") as typeof import("./pod-mirror/capability");
const { promMutationMetrics } = require("./pod-mirror/metrics") as typeof import("./pod-mirror/metrics");
const { followSecret } =
  require("./pod-mirror/follow-secrets") as typeof import("./pod-mirror/follow-secrets");
const { reconcilerCapability } =
  require("./reconciler/capability") as typeof import("./reconciler/capability");
const { ReconcileController } =
  require("./reconciler/controller") as typeof import("./reconciler/controller");
const { reconcilePass } = require("./reconciler/reconcile") as typeof import("./reconciler/reconcile");
const { AgentConflictsProbe } =
  require("./reconciler/agent-conflicts") as typeof import("./reconciler/agent-conflicts");
const { MemoryCluster } = require("./testing/memory-cluster") as typeof import("./testing/memory-cluster");
const fixtures = require("./testing/fixtures") as typeof import("./testing/fixtures");
const { admit, podCreateRequest } = require("./testing/admission") as typeof import("./testing/admission");
const { RecordingLog } = require("./testing/recording-log") as typeof import("./testing/recording-log");
const { createAcrResolver } =
  require("./acr/create-acr-resolver") as typeof import("./acr/create-acr-resolver");
const { readSecretVia } =
  require("./reconciler/credentials-secret") as typeof import("./reconciler/credentials-secret");
const acrFixtures = require("./acr/testing/acr-fixtures") as typeof import("./acr/testing/acr-fixtures");
const { FakeCrApi } = require("./acr/testing/fake-cr-api") as typeof import("./acr/testing/fake-cr-api");
const { clusterRole } = require("pepr/src/lib/assets/rbac") as {
  clusterRole: (
    name: string,
    caps: unknown[],
    mode: string,
    rbac: V1PolicyRule[],
  ) => { rules: V1PolicyRule[] };
};
/* eslint-enable @typescript-eslint/no-require-imports */

const PEPR_OWN = new Set(["pepr.dev", "apiextensions.k8s.io"]);
const NS = "peerpull-system";

async function journey(
  api: InstanceType<typeof FakeCrApi>,
): Promise<{ calls: ApiCall[]; capabilities: Capability[] }> {
  const cluster = new MemoryCluster();
  const log = new RecordingLog();
  const acr = createAcrResolver({
    readSecret: readSecretVia(cluster),
    endpointFor: () => api.endpoint,
    protocol: "http",
  });
  const agentConflicts = new AgentConflictsProbe({ timeoutMs: 5_000 });
  const deps = { cluster, log, acr, agentConflicts, newToken: () => "t".repeat(32) };
  const controller = new ReconcileController({ pass: r => reconcilePass(deps, r), log });
  const podMirror = podMirrorCapability({
    cluster,
    metrics: promMutationMetrics(new Registry()),
    log,
    ignoredNamespaces: new Set(["kube-system"]),
  });
  const reconciler = reconcilerCapability(controller, NS);

  cluster.setNamespace("shop", { "k8s.aliyun.com/image-accelerate-mode": "p2p" });
  cluster.putSecret(acrFixtures.keySecret(acrFixtures.KEY));
  const acrSpec = { region: acrFixtures.REGION, acrInstances: [acrFixtures.SHOP.id] };
  cluster.setConfig(fixtures.accelerationConfig([{ host: "registry.example.com" }], acrSpec));
  await controller.request("created");
  expect(cluster.configs.get("default")!.status!.registries!.map(r => r.source)).toEqual([
    "static",
    "acr",
    "acr",
  ]);
  cluster.setDaemonSetStatus(NS, "peerpull-agent", 2, 2);
  await controller.request("agents changed");
  const cred = fixtures.basicAuth("robot", "pw");
  cluster.putSecret(fixtures.dockerConfigSecret("shop", "regcred", { "registry.example.com": cred }));
  const shape = { containers: ["registry.example.com/team/app:1"], pullSecrets: ["regcred"] };
  const admitted = await admit(podMirror, podCreateRequest(fixtures.pod(shape), "shop"));
  expect(admitted.patch.length).toBeGreaterThan(0);
  const changed = fixtures.dockerConfigSecret("shop", "regcred", {
    "registry.example.com": fixtures.basicAuth("robot", "new"),
  });
  cluster.putSecret(changed);
  expect(await followSecret(changed, false, cluster)).toBe("updated");
  // a configured secretRef is read instead; the watch on it asks for a pass when it changes
  cluster.putSecret(acrFixtures.keySecret(acrFixtures.KEY, "acr-creds", "shop-key"));
  cluster.setConfig(
    fixtures.accelerationConfig([{ host: "registry.example.com" }], {
      ...acrSpec,
      credentials: { secretRef: { namespace: "acr-creds", name: "shop-key" } },
      p2p: { downloadPattern: "source" },
    }),
  );
  await controller.request("updated");
  expect(cluster.apiCalls).toContainEqual(
    expect.objectContaining({ verb: "get", resource: "secrets", namespace: "acr-creds", name: "shop-key" }),
  );
  // mirror mode: the finalizer goes on; deletion waits for the cleanup rollout, then takes it off
  const live = cluster.configs.get("default")!;
  cluster.setConfig({ ...live, spec: { ...live.spec, mode: "mirror" } });
  await controller.request("mirror mode"); // lists the agent pods to ask them for conflicts
  expect(cluster.configs.get("default")!.metadata!.finalizers).toEqual(["peerpull.io/mirror-cleanup"]);
  cluster.deleteConfig("default");
  await controller.request("deletion requested");
  expect(cluster.configs.has("default")).toBe(true);
  cluster.setDaemonSetStatus(NS, "peerpull-agent", 2, 2);
  await controller.request("cleanup rolled out");
  expect(cluster.configs.has("default")).toBe(false);
  await controller.request("deleted");
  expect(cluster.secrets.has("shop/acr-credential-regcred-p2p")).toBe(false);
  expect(controller.failures).toBe(0);

  // Pepr opens a watch (a LIST, then a WATCH) for every Watch and Reconcile binding
  const capabilities = [podMirror, reconciler];
  const watches = capabilities.flatMap(c => c.bindings.filter(b => b.isWatch));
  expect(watches.length).toBeGreaterThan(0);
  const watchCalls = watches.flatMap(b =>
    (["list", "watch"] as const).map(verb => ({
      verb,
      group: b.kind.group,
      resource: b.kind.plural ?? `${b.kind.kind.toLowerCase()}s`,
    })),
  );
  return { calls: [...cluster.apiCalls, ...watchCalls], capabilities };
}

const resourceOf = (call: ApiCall) =>
  call.subresource ? `${call.resource}/${call.subresource}` : call.resource;
const allows = (rule: V1PolicyRule, call: ApiCall) =>
  (rule.apiGroups ?? []).includes(call.group) &&
  (rule.resources ?? []).includes(resourceOf(call)) &&
  rule.verbs.includes(call.verb) &&
  !rule.resourceNames?.length;

function checkRules(rules: V1PolicyRule[], calls: ApiCall[]): void {
  for (const rule of rules) {
    expect(rule.verbs).not.toContain("*");
    expect(rule.resources).not.toContain("*");
    expect(rule.apiGroups).not.toContain("*");
  }
  const denied = calls.filter(call => !rules.some(rule => allows(rule, call)));
  expect(denied).toEqual([]);
  const unused = rules
    .filter(rule => !rule.apiGroups!.some(g => PEPR_OWN.has(g)))
    .flatMap(rule =>
      rule.apiGroups!.flatMap(group =>
        rule.resources!.flatMap(resource => rule.verbs.map(verb => `${verb} ${group}/${resource}`)),
      ),
    )
    .filter(grant => !calls.some(call => `${call.verb} ${call.group}/${resourceOf(call)}` === grant));
  expect(unused).toEqual([]);
}

describe("module RBAC", () => {
  let calls: ApiCall[];
  let capabilities: Capability[];
  const api = new FakeCrApi(acrFixtures.REGION);
  beforeAll(async () => {
    api.service.addAccessKey({ ...acrFixtures.KEY, actions: acrFixtures.shippedPolicyActions() });
    api.service.addInstance(acrFixtures.SHOP);
    await api.start();
    ({ calls, capabilities } = await journey(api));
  });
  afterAll(() => api.stop());

  it("the journey read the default credentials Secret", () => {
    expect(calls).toContainEqual(
      expect.objectContaining({
        verb: "get",
        group: "",
        resource: "secrets",
        namespace: "kube-system",
        name: "alibaba-addon-secret",
      }),
    );
  });

  it("the ClusterRole Pepr generates allows every request the module makes, and nothing more", () => {
    const role = clusterRole(
      "pepr-peerpull",
      capabilities,
      pkg.pepr.rbacMode,
      pkg.pepr.rbac as V1PolicyRule[],
    );
    checkRules(role.rules, calls);
  });

  it("every request any suite's in-memory cluster served in this run is allowed by that ClusterRole", () => {
    const log = process.env[API_CALLS_LOG_ENV];
    if (!log) throw new Error(`${API_CALLS_LOG_ENV} is not set: jest's global setup did not run`);
    const role = clusterRole(
      "pepr-peerpull",
      capabilities,
      pkg.pepr.rbacMode,
      pkg.pepr.rbac as V1PolicyRule[],
    );
    const seen = new Map<string, ApiCall>();
    for (const line of readFileSync(log, "utf8").split("\n").filter(Boolean)) {
      const call = JSON.parse(line) as ApiCall;
      seen.set(`${call.verb} ${call.group}/${resourceOf(call)}`, call);
    }
    // the whole run (this suite runs last, hack/jest-sequencer.cjs), or this suite alone
    expect(seen.size).toBeGreaterThan(0);
    const denied = [...seen.keys()].filter(key => !role.rules.some(rule => allows(rule, seen.get(key)!)));
    expect(denied).toEqual([]);
  });

  const built = join(__dirname, "../dist/pepr-module-peerpull.yaml");
  itWith(
    { files: [{ path: built, madeBy: "npx pepr build" }] },
    "dist/pepr-module-peerpull.yaml carries the same rules",
    () => {
      const docs = parseAllDocuments(readFileSync(built, "utf8")).map(d => d.toJSON());
      const role = docs.find(d => d?.kind === "ClusterRole");
      checkRules(role.rules, calls);
    },
  );
});
