import type { AcrResolver } from "../acr/acr-resolver";
import type { P2PAccelerationConfigSpec, ResolvedRegistry } from "../crd/p2p-acceleration-config";
import { selectSettings } from "../pod-mirror/settings";
import { accelerationConfig, pullSecretWithDerived } from "../testing/fixtures";
import { ApiError, MemoryCluster } from "../testing/memory-cluster";
import { RecordingLog } from "../testing/recording-log";
import { reconcilePass, ReconcilerDeps } from "./reconcile";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const NS = "peerpull-system";
const registry = { host: "registry.example.com" };

function setup(spec: P2PAccelerationConfigSpec = {}, extra: Partial<ReconcilerDeps> = {}) {
  const cluster = new MemoryCluster();
  cluster.setConfig(accelerationConfig([registry], spec));
  let tokens = 0;
  const deps: ReconcilerDeps = {
    cluster,
    log: new RecordingLog(),
    newToken: () => `token-${++tokens}-${"x".repeat(20)}`,
    now: () => new Date("2026-01-01T00:00:00Z"),
    ...extra,
  };
  const update = (patch: P2PAccelerationConfigSpec) => {
    const live = cluster.configs.get("default")!;
    cluster.setConfig({ ...live, spec: { ...live.spec, ...patch } } as Any);
  };
  return { cluster, deps, update, tokens: () => tokens };
}

const obj = (c: MemoryCluster, kind: string, name: string): Any => c.store(kind).get(`${NS}/${name}`);
const agentYaml = (c: MemoryCluster): string => obj(c, "ConfigMap", "peerpull-agent").data["agent.yaml"];
const condition = (c: MemoryCluster, type: string, name = "default"): Any =>
  c.configs.get(name)!.status?.conditions?.find(x => x.type === type);

describe("reconcilePass", () => {
  it("creates every object owned by the config, then reports the agents the DaemonSet reports", async () => {
    const { cluster, deps } = setup();
    expect(await reconcilePass(deps)).toEqual({ retry: false, active: "default" });
    for (const [kind, name] of [
      ["ServiceAccount", "peerpull-agent"],
      ["ConfigMap", "peerpull-agent"],
      ["Secret", "peerpull-peer-token"],
      ["Service", "peerpull-tracker"],
      ["StatefulSet", "peerpull-tracker"],
      ["DaemonSet", "peerpull-agent"],
    ])
      expect(obj(cluster, kind, name).metadata.ownerReferences).toEqual([
        expect.objectContaining({
          kind: "P2PAccelerationConfig",
          name: "default",
          uid: "uid-config-default",
        }),
      ]);
    expect(cluster.namespaces.get(NS)?.metadata?.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "privileged",
    });
    expect(condition(cluster, "RegistriesResolved")).toMatchObject({ status: "True", reason: "Resolved" });
    expect(condition(cluster, "AgentsReady")).toMatchObject({ status: "Unknown", reason: "Pending" });
    expect(condition(cluster, "Ready")).toMatchObject({ status: "False" });

    cluster.setDaemonSetStatus(NS, "peerpull-agent", 3, 2);
    await reconcilePass(deps);
    expect(condition(cluster, "AgentsReady")).toMatchObject({
      status: "False",
      reason: "AgentsNotReady",
      message: expect.stringContaining("2 of 3 agents ready; see kubectl -n peerpull-system get pods"),
    });
    cluster.setDaemonSetStatus(NS, "peerpull-agent", 3, 3);
    await reconcilePass(deps);
    const status = cluster.configs.get("default")!.status!;
    expect(status).toMatchObject({
      observedGeneration: 1,
      agents: { desired: 3, ready: 3 },
      registries: [
        { host: "registry.example.com", origin: "https://registry.example.com", source: "static" },
      ],
    });
    expect(condition(cluster, "Ready")).toMatchObject({ status: "True", reason: "Ready" });
  });

  it("generates the peer token once and keeps it", async () => {
    const { cluster, deps, update, tokens } = setup();
    await reconcilePass(deps);
    const first = obj(cluster, "Secret", "peerpull-peer-token").data.token;
    update({ p2p: { cacheTTL: "1h" } });
    await reconcilePass(deps);
    expect(obj(cluster, "Secret", "peerpull-peer-token").data.token).toBe(first);
    expect(tokens()).toBe(1);
  });

  const changes: {
    name: string;
    initial?: P2PAccelerationConfigSpec;
    patch: P2PAccelerationConfigSpec;
    check: (c: MemoryCluster) => void;
  }[] = [
    {
      name: "cacheTTL reaches the ConfigMap and rolls the agents",
      patch: { p2p: { cacheTTL: "2h" } },
      check: c => {
        expect(agentYaml(c)).toContain("cacheTTL: 2h");
        expect(obj(c, "DaemonSet", "peerpull-agent").metadata.generation).toBe(2);
      },
    },
    {
      name: "nodeSelectorEnable adds the selector",
      patch: { p2p: { nodeSelectorEnable: true } },
      check: c =>
        expect(obj(c, "DaemonSet", "peerpull-agent").spec.template.spec.nodeSelector).toEqual({
          "k8s.aliyun.com/p2p-plus-node": "true",
        }),
    },
    {
      name: "downloadPattern source turns the swarm off and removes the tracker",
      patch: { p2p: { downloadPattern: "source" } },
      check: c => {
        expect(agentYaml(c)).toContain("downloadPattern: source");
        expect(agentYaml(c)).not.toContain("tracker");
        expect(obj(c, "StatefulSet", "peerpull-tracker")).toBeUndefined();
        expect(obj(c, "Service", "peerpull-tracker")).toBeUndefined();
      },
    },
    {
      name: "port changes the DaemonSet and the pod mutation",
      patch: { p2p: { port: 65101 } },
      check: c => {
        expect(obj(c, "DaemonSet", "peerpull-agent").spec.template.spec.containers[0].ports[0].hostPort).toBe(
          65101,
        );
        expect(selectSettings([...c.configs.values()])?.port).toBe(65101);
      },
    },
    {
      name: "ratelimit reaches the agents",
      patch: { p2p: { ratelimit: "64M" } },
      check: c => {
        expect(agentYaml(c)).toContain("ratelimit: 64M");
        expect(obj(c, "DaemonSet", "peerpull-agent").metadata.generation).toBe(2);
      },
    },
    {
      name: "a removed nodeSelectorEnable takes the selector away again (apply drops what it no longer sets)",
      initial: { p2p: { nodeSelectorEnable: true } },
      patch: { p2p: { nodeSelectorEnable: false } },
      check: c =>
        expect(obj(c, "DaemonSet", "peerpull-agent").spec.template.spec.nodeSelector).toBeUndefined(),
    },
  ];
  it.each(changes)("$name", async ({ initial, patch, check }) => {
    const { cluster, deps, update } = setup(initial);
    await reconcilePass(deps);
    update({ p2p: { ...cluster.configs.get("default")!.spec!.p2p, ...patch.p2p } });
    await reconcilePass(deps);
    check(cluster);
    expect(cluster.configs.get("default")!.status!.observedGeneration).toBe(2);
  });

  describe("mirror mode", () => {
    const podSpec = (c: MemoryCluster): Any => obj(c, "DaemonSet", "peerpull-agent").spec.template.spec;
    const inits = (c: MemoryCluster) => (podSpec(c).initContainers ?? []).map((i: Any) => i.name);

    const rows: {
      name: string;
      modes: ("mirror" | "rewrite")[];
      cleanup: boolean;
      between?: (c: MemoryCluster) => void;
    }[] = [
      { name: "mirror: the agents write hosts.toml, no cleanup", modes: ["mirror"], cleanup: false },
      {
        name: "mirror -> rewrite: the new agents clean up first",
        modes: ["mirror", "rewrite"],
        cleanup: true,
      },
      { name: "rewrite -> mirror: nothing to clean", modes: ["rewrite", "mirror"], cleanup: false },
      {
        name: "mirror -> rewrite -> a later change: the cleanup stays (no extra roll)",
        modes: ["mirror", "rewrite", "rewrite"],
        cleanup: true,
      },
      {
        name: "mirror -> rewrite -> mirror: the cleanup goes",
        modes: ["mirror", "rewrite", "mirror"],
        cleanup: false,
      },
      {
        name: "a DaemonSet deleted by hand before the cleanup was seen complete comes back with it",
        modes: ["mirror", "rewrite", "rewrite"],
        cleanup: true,
        between: c => c.removeObject("DaemonSet", NS, "peerpull-agent"),
      },
    ];
    it.each(rows)("$name", async ({ modes, cleanup, between }) => {
      const { cluster, deps, update } = setup({ mode: modes[0] });
      await reconcilePass(deps);
      for (const [i, mode] of modes.slice(1).entries()) {
        if (i === modes.length - 2) between?.(cluster);
        update({ mode, p2p: { cacheTTL: `${i + 2}h` } });
        await reconcilePass(deps);
      }
      expect(agentYaml(cluster).includes("containerdHostsDir: /etc/containerd/certs.d")).toBe(
        modes.at(-1) === "mirror",
      );
      expect(inits(cluster)).toEqual(cleanup ? ["mirror-cleanup"] : []);
      const mountsCerts = podSpec(cluster).volumes.some((v: Any) => v.name === "containerd-certs");
      expect(mountsCerts).toBe(cleanup || modes.at(-1) === "mirror");
    });
  });

  it("a config the agent would reject changes nothing and says why", async () => {
    const { cluster, deps, update } = setup();
    await reconcilePass(deps);
    const before = structuredClone([...cluster.store("ConfigMap").values()]);
    update({ p2p: { ratelimit: "0" } });
    expect((await reconcilePass(deps)).retry).toBe(false);
    expect([...cluster.store("ConfigMap").values()]).toEqual(before);
    expect(condition(cluster, "Ready")).toMatchObject({
      status: "False",
      reason: "InvalidConfig",
      message: expect.stringContaining("ratelimit: must be greater than 0"),
    });
  });

  it("deleting the config removes everything it created, derived pull secrets included", async () => {
    const { cluster, deps } = setup();
    await reconcilePass(deps);
    cluster.setNamespace("shop");
    for (const secret of pullSecretWithDerived("shop", "regcred")) cluster.putSecret(secret);
    cluster.deleteConfig("default");
    await reconcilePass(deps);
    for (const kind of ["ServiceAccount", "ConfigMap", "Service", "StatefulSet", "DaemonSet"])
      expect([...cluster.store(kind).keys()]).toEqual([]);
    expect(cluster.namespaces.has(NS)).toBe(false);
    expect([...cluster.secrets.keys()]).toEqual(["shop/regcred"]);
  });

  it("another config than the active one is told so and changes nothing", async () => {
    const { cluster, deps } = setup();
    cluster.setConfig(accelerationConfig([{ host: "other.example.com" }], {}, "other"));
    await reconcilePass(deps);
    expect(condition(cluster, "Ready", "other")).toMatchObject({ status: "False", reason: "NotActive" });
    expect(agentYaml(cluster)).not.toContain("other.example.com");
  });

  describe("ACR instances", () => {
    const acrSpec = { region: "cn-hangzhou", acrInstances: ["cri-abcdef12345678"] };
    const acr: ResolvedRegistry = {
      host: "x-registry.cn-hangzhou.cr.aliyuncs.com",
      origin: "https://x-registry-vpc.cn-hangzhou.cr.aliyuncs.com",
      source: "acr",
      instanceId: "cri-abcdef12345678",
    };

    it("without a resolver: RegistriesResolved is False with what to do, static registries still served", async () => {
      const { cluster, deps } = setup(acrSpec);
      expect((await reconcilePass(deps)).retry).toBe(false);
      expect(condition(cluster, "RegistriesResolved")).toMatchObject({
        status: "False",
        reason: "AcrResolverMissing",
        message: expect.stringContaining("spec.registries"),
      });
      expect(agentYaml(cluster)).toContain("registry.example.com");
    });

    it("uses the resolver's registries, and the last good ones with its error when it fails", async () => {
      let fail = false;
      const resolver: AcrResolver = {
        resolve: async () =>
          fail
            ? {
                registries: [acr],
                error: { code: "Throttling", message: "slow down", requestId: "R-1", retryable: true },
              }
            : { registries: [acr] },
      };
      const { cluster, deps } = setup(acrSpec, { acr: resolver });
      expect((await reconcilePass(deps)).retry).toBe(false);
      expect(cluster.configs.get("default")!.status!.registries).toEqual([
        { host: "registry.example.com", origin: "https://registry.example.com", source: "static" },
        acr,
      ]);
      expect(agentYaml(cluster)).toContain("x-registry-vpc.cn-hangzhou.cr.aliyuncs.com");
      fail = true;
      expect((await reconcilePass(deps)).retry).toBe(true);
      expect(condition(cluster, "RegistriesResolved")).toMatchObject({
        status: "False",
        reason: "AcrResolutionFailed",
        message: expect.stringMatching(/Throttling: slow down \(RequestId R-1\).*last resolved.*Retrying/),
      });
      expect(agentYaml(cluster)).toContain("x-registry.cn-hangzhou.cr.aliyuncs.com");
    });
  });

  it("an API error stops the apply, shows in Ready and asks for a retry", async () => {
    const { cluster, deps } = setup();
    cluster.failApi(
      { verb: "patch", resource: "daemonsets" },
      new ApiError(500, "etcdserver: request timed out"),
    );
    expect((await reconcilePass(deps, 4)).retry).toBe(true);
    expect(condition(cluster, "Ready")).toMatchObject({
      status: "False",
      reason: "ApplyFailed",
      message: "500 etcdserver: request timed out; retrying in 4s",
    });
  });
});
