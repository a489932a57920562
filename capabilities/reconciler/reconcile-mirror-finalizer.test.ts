/**
 * The mirror-cleanup finalizer through reconcile passes on the in-memory cluster: deleting a config
 * in mirror mode waits until every node's agent has removed its hosts.toml files, then everything
 * goes as before; leaving mirror mode releases the finalizer after its cleanup rollout.
 */
import type { P2PAccelerationConfigSpec } from "../crd/p2p-acceleration-config";
import { accelerationConfig, pullSecretWithDerived } from "../testing/fixtures";
import { ApiError, MemoryCluster } from "../testing/memory-cluster";
import { RecordingLog } from "../testing/recording-log";
import { ReconcileController } from "./controller";
import { MIRROR_CLEANUP_FINALIZER } from "./names";
import { reconcilePass, ReconcilerDeps } from "./reconcile";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const NS = "peerpull-system";
const AGENT = "peerpull-agent";

function setup(spec: P2PAccelerationConfigSpec = { mode: "mirror" }) {
  const cluster = new MemoryCluster();
  cluster.setConfig(accelerationConfig([{ host: "registry.example.com" }], spec));
  const deps: ReconcilerDeps = {
    cluster,
    log: new RecordingLog(),
    newToken: () => "t".repeat(32),
    now: () => new Date("2026-01-01T00:00:00Z"),
  };
  return { cluster, deps };
}

const config = (c: MemoryCluster, name = "default"): Any => c.configs.get(name);
const finalizers = (c: MemoryCluster, name = "default"): string[] =>
  config(c, name)?.metadata?.finalizers ?? [];
const condition = (c: MemoryCluster, type: string): Any =>
  config(c)?.status?.conditions?.find((x: Any) => x.type === type);
const daemonSet = (c: MemoryCluster): Any => c.store("DaemonSet").get(`${NS}/${AGENT}`);
const inits = (c: MemoryCluster): string[] =>
  (daemonSet(c)?.spec.template.spec.initContainers ?? []).map((i: Any) => i.name);
const agentYaml = (c: MemoryCluster): string =>
  c.store("ConfigMap").get(`${NS}/${AGENT}`)!.data["agent.yaml"];

function addDerivedSecret(cluster: MemoryCluster): void {
  cluster.setNamespace("shop");
  for (const secret of pullSecretWithDerived("shop", "regcred")) cluster.putSecret(secret);
}

describe("the mirror-cleanup finalizer", () => {
  it("mirror mode: the config holds it before any mirror-mode agent is applied", async () => {
    const { cluster, deps } = setup();
    expect(await reconcilePass(deps)).toMatchObject({ retry: false });
    expect(finalizers(cluster)).toEqual([MIRROR_CLEANUP_FINALIZER]);
    const order = cluster.calls.map(c => `${c.method} ${c.args[0] ?? ""}`);
    expect(order.indexOf("patchConfigFinalizers default")).toBeLessThan(order.indexOf("apply DaemonSet"));
    expect(condition(cluster, "MirrorCleanup")).toBeUndefined();
  });

  it("a mirror config refused from the start gets none (no agent ever wrote); one refused later keeps it", async () => {
    const { cluster, deps } = setup({ mode: "mirror", p2p: { ratelimit: "0" } });
    await reconcilePass(deps);
    expect(finalizers(cluster)).toEqual([]);
    cluster.deleteConfig("default");
    expect(cluster.configs.has("default")).toBe(false);

    const other = setup();
    await reconcilePass(other.deps);
    other.cluster.patchFinalizers("P2PAccelerationConfig", undefined, "default", []); // say, an older module
    const live = config(other.cluster);
    other.cluster.setConfig({ ...live, spec: { ...live.spec, p2p: { ratelimit: "0" } } });
    await reconcilePass(other.deps);
    expect(finalizers(other.cluster)).toEqual([MIRROR_CLEANUP_FINALIZER]); // mirror agents still run
  });

  it("rewrite mode: never added", async () => {
    const { cluster, deps } = setup({});
    await reconcilePass(deps);
    expect(finalizers(cluster)).toEqual([]);
    expect(cluster.calls.some(c => c.method === "patchConfigFinalizers")).toBe(false);
  });

  it("a config changed meanwhile (409) applies nothing and is retried", async () => {
    const { cluster, deps } = setup();
    cluster.failApi(
      { verb: "patch", resource: "p2paccelerationconfigs", name: "default" },
      new ApiError(409, "the object has been modified"),
      1,
    );
    await expect(reconcilePass(deps)).rejects.toThrow("modified");
    expect(daemonSet(cluster)).toBeUndefined();
    await reconcilePass(deps);
    expect(finalizers(cluster)).toEqual([MIRROR_CLEANUP_FINALIZER]);
    expect(daemonSet(cluster)).toBeDefined();
  });

  describe("deleting a config in mirror mode (controller, backoff, fake timers)", () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it("the agents clean up on every node first, then the config and everything else go", async () => {
      const { cluster, deps } = setup();
      let passes = 0;
      const controller = new ReconcileController({
        pass: retryIn => {
          passes += 1;
          return reconcilePass(deps, retryIn);
        },
        log: deps.log,
        resyncMs: 600_000,
        initialBackoffMs: 1_000,
        random: () => 0.5,
      });
      await controller.request("created");
      addDerivedSecret(cluster);
      cluster.setDaemonSetStatus(NS, AGENT, 3, 3);
      const mirrorGeneration = daemonSet(cluster).metadata.generation;

      cluster.deleteConfig("default"); // kubectl delete
      expect(config(cluster).metadata.deletionTimestamp).toBeDefined();
      expect(daemonSet(cluster)).toBeDefined(); // nothing cascades while the finalizer holds
      await controller.request("config updated (deletionTimestamp)");

      // the agents now run in rewrite mode behind the cleanup init container
      expect(inits(cluster)).toEqual(["mirror-cleanup"]);
      expect(agentYaml(cluster)).not.toContain("containerdHostsDir");
      expect(daemonSet(cluster).metadata.generation).toBe(mirrorGeneration + 1);
      expect(finalizers(cluster)).toEqual([MIRROR_CLEANUP_FINALIZER]);
      expect(condition(cluster, "Ready")).toMatchObject({ status: "False", reason: "Deleting" });
      expect(condition(cluster, "MirrorCleanup")).toMatchObject({
        status: "True",
        reason: "InProgress",
        message: expect.stringContaining("kubectl patch p2paccelerationconfig default --type=json"),
      });
      expect(controller.failures).toBe(1); // waiting: retried with backoff

      // retries come on their own while the rollout is under way
      const before = passes;
      await jest.advanceTimersByTimeAsync(1_000);
      expect(passes).toBe(before + 1);
      expect(cluster.configs.has("default")).toBe(true);
      cluster.setDaemonSetStatus(NS, AGENT, 3, 1); // updated, 2 still running their init container
      await jest.advanceTimersByTimeAsync(2_000);
      expect(passes).toBe(before + 2);
      expect(condition(cluster, "MirrorCleanup").message).toContain("1 of 3 done");

      cluster.setDaemonSetStatus(NS, AGENT, 3, 3); // the rollout is complete on every node
      await jest.advanceTimersByTimeAsync(4_000);
      expect(cluster.configs.has("default")).toBe(false);
      // the garbage collector took what the config owned; the derived secrets are the reconciler's
      expect(daemonSet(cluster)).toBeUndefined();
      expect(cluster.secrets.has("shop/acr-credential-regcred-p2p")).toBe(true);
      await controller.request("config deleted"); // Pepr's IsDeleted watch
      expect(cluster.secrets.has("shop/acr-credential-regcred-p2p")).toBe(false);
      expect(cluster.secrets.has("shop/regcred")).toBe(true);
      expect(cluster.namespaces.has(NS)).toBe(false);
      for (const kind of ["ServiceAccount", "ConfigMap", "Service", "StatefulSet", "DaemonSet"])
        expect([...cluster.store(kind).keys()]).toEqual([]);
      expect(controller.failures).toBe(0);
      controller.stop();
    });
  });

  it("a foreground deletion (the garbage collector deletes dependents first): the cleanup objects are disowned, then removed by the reconciler", async () => {
    const { cluster, deps } = setup();
    await reconcilePass(deps);
    addDerivedSecret(cluster);
    // kubectl delete --cascade=foreground: the API server adds foregroundDeletion and stamps it
    cluster.patchFinalizers("P2PAccelerationConfig", undefined, "default", [
      MIRROR_CLEANUP_FINALIZER,
      "foregroundDeletion",
    ]);
    cluster.deleteConfig("default");
    await reconcilePass(deps);
    expect(inits(cluster)).toEqual(["mirror-cleanup"]);
    for (const kind of ["ServiceAccount", "ConfigMap", "Service", "StatefulSet", "DaemonSet"])
      for (const object of cluster.store(kind).values())
        expect(object.metadata?.ownerReferences).toBeUndefined();
    cluster.setDaemonSetStatus(NS, AGENT, 2, 2);
    await reconcilePass(deps);
    expect(finalizers(cluster)).toEqual(["foregroundDeletion"]);
    // the garbage collector finds no dependent and lets the config go
    cluster.patchFinalizers("P2PAccelerationConfig", undefined, "default", []);
    expect(cluster.configs.has("default")).toBe(false);
    expect(daemonSet(cluster)).toBeDefined(); // disowned: the next pass removes it
    await reconcilePass(deps);
    expect(daemonSet(cluster)).toBeUndefined();
    expect(cluster.namespaces.has(NS)).toBe(false);
    expect(cluster.secrets.has("shop/acr-credential-regcred-p2p")).toBe(false);
  });

  it("no node runs an agent: the deletion goes through once the DaemonSet controller has seen the spec", async () => {
    const { cluster, deps } = setup({ mode: "mirror", p2p: { nodeSelectorEnable: true } });
    await reconcilePass(deps);
    cluster.deleteConfig("default");
    expect((await reconcilePass(deps)).retry).toBe(true);
    expect(cluster.configs.has("default")).toBe(true);
    cluster.setDaemonSetStatus(NS, AGENT, 0, 0);
    expect((await reconcilePass(deps)).retry).toBe(false);
    expect(cluster.configs.has("default")).toBe(false);
  });

  it("the module not running: the deletion waits, and removing the finalizer by hand lets it go", async () => {
    const { cluster, deps } = setup();
    await reconcilePass(deps);
    cluster.deleteConfig("default");
    cluster.deleteConfig("default"); // a second kubectl delete changes nothing
    expect(config(cluster).metadata.deletionTimestamp).toBeDefined();
    // kubectl patch ... --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]'
    cluster.patchFinalizers("P2PAccelerationConfig", undefined, "default", []);
    expect(cluster.configs.has("default")).toBe(false);
    expect(daemonSet(cluster)).toBeUndefined();
  });

  it("a config being deleted that cannot be rendered says the cleanup is blocked and keeps the finalizer", async () => {
    const { cluster, deps } = setup();
    await reconcilePass(deps);
    cluster.deleteConfig("default");
    const live = config(cluster);
    cluster.setConfig({ ...live, spec: { ...live.spec, p2p: { ratelimit: "0" } } });
    await reconcilePass(deps);
    expect(finalizers(cluster)).toEqual([MIRROR_CLEANUP_FINALIZER]);
    expect(condition(cluster, "MirrorCleanup")).toMatchObject({ status: "True", reason: "Blocked" });
    expect(condition(cluster, "Ready")).toMatchObject({ reason: "InvalidConfig" });
  });

  it("back to rewrite: released after the cleanup rollout, and the init container stays", async () => {
    const { cluster, deps } = setup();
    await reconcilePass(deps);
    const live = config(cluster);
    cluster.setConfig({ ...live, spec: { ...live.spec, mode: "rewrite" } });
    expect((await reconcilePass(deps)).retry).toBe(true);
    expect(inits(cluster)).toEqual(["mirror-cleanup"]);
    expect(finalizers(cluster)).toEqual([MIRROR_CLEANUP_FINALIZER]);
    expect(condition(cluster, "MirrorCleanup")).toMatchObject({ status: "True", reason: "InProgress" });
    expect(condition(cluster, "MirrorCleanup").message).not.toContain("deletion");
    cluster.setDaemonSetStatus(NS, AGENT, 2, 2);
    expect((await reconcilePass(deps)).retry).toBe(false);
    expect(finalizers(cluster)).toEqual([]);
    expect(condition(cluster, "MirrorCleanup")).toBeUndefined();
    expect(condition(cluster, "Ready")).toMatchObject({ status: "True" });
    expect((await reconcilePass(deps)).retry).toBe(false);
    expect(inits(cluster)).toEqual(["mirror-cleanup"]);
    // a later delete is immediate: nothing is left on the nodes
    cluster.deleteConfig("default");
    expect(cluster.configs.has("default")).toBe(false);
  });

  it("a config no longer in force gives the finalizer up; the config in force takes it", async () => {
    const { cluster, deps } = setup();
    cluster.configs.clear();
    cluster.setConfig(accelerationConfig([{ host: "registry.example.com" }], { mode: "mirror" }, "a"));
    await reconcilePass(deps);
    expect(finalizers(cluster, "a")).toEqual([MIRROR_CLEANUP_FINALIZER]);
    cluster.setConfig(accelerationConfig([{ host: "registry.example.com" }], { mode: "mirror" }));
    await reconcilePass(deps);
    expect(finalizers(cluster, "a")).toEqual([]);
    expect(finalizers(cluster)).toEqual([MIRROR_CLEANUP_FINALIZER]);
    cluster.deleteConfig("a"); // not in force: gone at once
    expect(cluster.configs.has("a")).toBe(false);
  });

  it("a second config being deleted gives it up; the one the active rule picks cleans up", async () => {
    const { cluster, deps } = setup();
    await reconcilePass(deps);
    cluster.setConfig(accelerationConfig([{ host: "other.example.com" }], { mode: "mirror" }, "b"));
    cluster.patchFinalizers("P2PAccelerationConfig", undefined, "b", [
      "example.com/other",
      MIRROR_CLEANUP_FINALIZER,
    ]);
    cluster.deleteConfig("default");
    cluster.deleteConfig("b");
    await reconcilePass(deps);
    expect(finalizers(cluster, "b")).toEqual(["example.com/other"]);
    expect(finalizers(cluster)).toEqual([MIRROR_CLEANUP_FINALIZER]);
    expect(inits(cluster)).toEqual(["mirror-cleanup"]);
  });
});
