import { parse } from "yaml";
import type { P2PAccelerationConfigSpec, ResolvedRegistry } from "../../crd/p2p-acceleration-config";
import { k8sSchemaProblems } from "../../testing/k8s-schema";
import { desiredObjects, DesiredInput, ManifestObject } from ".";

const registries: ResolvedRegistry[] = [
  { host: "registry.example.com", origin: "https://registry.example.com", source: "static" },
];

function render(spec: P2PAccelerationConfigSpec, extra: Partial<DesiredInput> = {}): ManifestObject[] {
  const out = desiredObjects({
    spec,
    registries,
    peerToken: "t".repeat(43),
    namespace: "peerpull-system",
    ...extra,
  });
  if (!out.ok) throw new Error(out.problems.join("; "));
  return out.objects;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const find = (objects: ManifestObject[], kind: string): Any => objects.find(o => o.kind === kind);
const agentConfig = (objects: ManifestObject[]) => parse(find(objects, "ConfigMap").data["agent.yaml"]);
const podSpec = (objects: ManifestObject[]) => find(objects, "DaemonSet").spec.template.spec;
const agentContainer = (objects: ManifestObject[]) => podSpec(objects).containers[0];
const checksum = (objects: ManifestObject[]) =>
  find(objects, "DaemonSet").spec.template.metadata.annotations["peerpull.io/config-checksum"];

const specs: { name: string; spec: P2PAccelerationConfigSpec; mirrorCleanup?: boolean }[] = [
  { name: "empty spec (every default)", spec: {} },
  {
    name: "every field",
    spec: {
      mode: "mirror",
      p2p: {
        port: 65101,
        ratelimit: "1G",
        cacheTTL: "12h",
        cacheHostPath: "/var/lib/peerpull",
        cacheMaxSize: "100G",
        downloadPattern: "p2p",
        nodeSelectorEnable: true,
      },
      agent: { image: "registry.example.com/peerpull:1", resources: { requests: { cpu: "200m" } } },
      tracker: { replicas: 3 },
    },
  },
  { name: "source only", spec: { p2p: { downloadPattern: "source" } } },
  { name: "rewrite after mirror (cleanup init container)", spec: {}, mirrorCleanup: true },
];

describe("desiredObjects", () => {
  it.each(specs)(
    "renders objects valid against the Kubernetes OpenAPI schema: $name",
    ({ spec, mirrorCleanup }) => {
      const objects = render(spec, { mirrorCleanup });
      expect(objects.flatMap(k8sSchemaProblems)).toEqual([]);
      for (const o of objects) {
        expect(o.metadata.labels?.["app.kubernetes.io/managed-by"]).toBe("peerpull");
        expect(o.metadata.labels?.["app.kubernetes.io/part-of"]).toBe("peerpull");
      }
    },
  );

  it("orders and names the objects as the README says", () => {
    expect(render({}).map(o => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Namespace/peerpull-system",
      "ServiceAccount/peerpull-agent",
      "ConfigMap/peerpull-agent",
      "Secret/peerpull-peer-token",
      "Service/peerpull-tracker",
      "StatefulSet/peerpull-tracker",
      "DaemonSet/peerpull-agent",
    ]);
  });

  it("runs the agent on the host network with the node IP for the peer port and no API token", () => {
    const objects = render({});
    const pod = podSpec(objects);
    expect(pod).toMatchObject({
      hostNetwork: true,
      dnsPolicy: "ClusterFirstWithHostNet",
      priorityClassName: "system-node-critical",
      tolerations: [{ operator: "Exists" }],
      automountServiceAccountToken: false,
      serviceAccountName: "peerpull-agent",
      securityContext: { runAsNonRoot: true, runAsUser: 65532 },
    });
    expect(pod.nodeSelector).toBeUndefined();
    const c = agentContainer(objects);
    expect(c.command).toEqual(["peerpull-agent"]);
    expect(c.args).toEqual([
      "--config",
      "/etc/peerpull/config/agent.yaml",
      "--peer-listen",
      "$(NODE_IP):65002",
    ]);
    expect(c.env).toEqual([{ name: "NODE_IP", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } }]);
    expect(c.ports).toEqual([
      { name: "registry", containerPort: 65001, hostPort: 65001, hostIP: "127.0.0.1", protocol: "TCP" },
      { name: "peer", containerPort: 65002, hostPort: 65002, protocol: "TCP" },
    ]);
    expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "peer" });
    expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "peer" });
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(pod.volumes.find((v: Any) => v.name === "cache")).toEqual({ name: "cache", emptyDir: {} });
    expect(find(objects, "ServiceAccount").automountServiceAccountToken).toBe(false);
    expect(find(objects, "DaemonSet").spec.template.metadata.annotations).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "65002",
    });
  });

  it("writes the agent config the agent reads, with the tracker replicas' stable names", () => {
    expect(agentConfig(render({ tracker: { replicas: 2 } }))).toEqual({
      listen: "127.0.0.1:65001",
      upstreams: [{ host: "registry.example.com", origin: "https://registry.example.com" }],
      cacheDir: "/var/lib/peerpull",
      cacheTTL: "24h",
      cacheMaxBytes: "0",
      ratelimit: "512M",
      downloadPattern: "p2p",
      tracker:
        "http://peerpull-tracker-0.peerpull-tracker.peerpull-system.svc:65010," +
        "http://peerpull-tracker-1.peerpull-tracker.peerpull-system.svc:65010",
      peerTokenFile: "/etc/peerpull/token/token",
    });
  });

  const changes: {
    name: string;
    spec: P2PAccelerationConfigSpec;
    check: (objects: ManifestObject[]) => void;
  }[] = [
    {
      name: "cacheTTL reaches the agent config and rolls the agents",
      spec: { p2p: { cacheTTL: "2h" } },
      check: objects => {
        expect(agentConfig(objects).cacheTTL).toBe("2h");
        expect(checksum(objects)).not.toBe(checksum(render({})));
      },
    },
    {
      name: "ratelimit reaches the agents",
      spec: { p2p: { ratelimit: "100M" } },
      check: objects => {
        expect(agentConfig(objects).ratelimit).toBe("100M");
        expect(checksum(objects)).not.toBe(checksum(render({})));
      },
    },
    {
      name: "nodeSelectorEnable adds the node selector",
      spec: { p2p: { nodeSelectorEnable: true } },
      check: objects =>
        expect(podSpec(objects).nodeSelector).toEqual({ "k8s.aliyun.com/p2p-plus-node": "true" }),
    },
    {
      name: "downloadPattern source turns the swarm off (no tracker, no token mount)",
      spec: { p2p: { downloadPattern: "source" } },
      check: objects => {
        expect(objects.map(o => o.kind)).not.toContain("StatefulSet");
        expect(objects.map(o => o.kind)).not.toContain("Service");
        expect(agentConfig(objects)).toMatchObject({ downloadPattern: "source" });
        expect(agentConfig(objects).tracker).toBeUndefined();
        expect(podSpec(objects).volumes.map((v: Any) => v.name)).toEqual(["config", "cache"]);
      },
    },
    {
      name: "port changes the registry listen address and the container port",
      spec: { p2p: { port: 65101 } },
      check: objects => {
        expect(agentConfig(objects).listen).toBe("127.0.0.1:65101");
        expect(agentContainer(objects).ports[0]).toMatchObject({ containerPort: 65101, hostPort: 65101 });
      },
    },
    {
      name: "cacheHostPath mounts the node directory and runs the agent as root",
      spec: { p2p: { cacheHostPath: "/data/peerpull" } },
      check: objects => {
        expect(podSpec(objects).volumes.find((v: Any) => v.name === "cache")).toEqual({
          name: "cache",
          hostPath: { path: "/data/peerpull", type: "DirectoryOrCreate" },
        });
        expect(podSpec(objects).securityContext).toMatchObject({ runAsUser: 0, runAsNonRoot: false });
      },
    },
    {
      name: "mirror mode mounts the node's containerd hosts directory at the same path and the agent writes there",
      spec: { mode: "mirror" },
      check: objects => {
        expect(agentConfig(objects).containerdHostsDir).toBe("/etc/containerd/certs.d");
        expect(agentConfig(objects).containerdConfig).toBe("/etc/containerd/config.toml");
        expect(podSpec(objects).initContainers).toBeUndefined();
        expect(podSpec(objects).volumes).toContainEqual({
          name: "containerd-config",
          hostPath: { path: "/etc/containerd", type: "DirectoryOrCreate" },
        });
        expect(agentContainer(objects).volumeMounts).toContainEqual({
          name: "containerd-config",
          mountPath: "/etc/containerd",
          readOnly: true,
        });
        expect(podSpec(objects).securityContext).toMatchObject({ runAsUser: 0, runAsNonRoot: false });
        expect(podSpec(objects).volumes).toContainEqual({
          name: "containerd-certs",
          hostPath: { path: "/etc/containerd/certs.d", type: "DirectoryOrCreate" },
        });
        expect(agentContainer(objects).volumeMounts).toContainEqual({
          name: "containerd-certs",
          mountPath: "/etc/containerd/certs.d",
        });
      },
    },
    {
      name: "tracker.replicas sizes the StatefulSet",
      spec: { tracker: { replicas: 3 } },
      check: objects => expect(find(objects, "StatefulSet").spec.replicas).toBe(3),
    },
    {
      name: "agent.image and resources reach both workloads",
      spec: { agent: { image: "r.example/pp:2", resources: { limits: { memory: "512Mi" } } } },
      check: objects => {
        expect(agentContainer(objects)).toMatchObject({
          image: "r.example/pp:2",
          resources: { limits: { memory: "512Mi" } },
        });
        expect(find(objects, "StatefulSet").spec.template.spec.containers[0].image).toBe("r.example/pp:2");
      },
    },
  ];
  it.each(changes)("$name", ({ spec, check }) => check(render(spec)));

  const leaving: {
    name: string;
    spec: P2PAccelerationConfigSpec;
    mirrorCleanup: boolean;
    cleans: boolean;
  }[] = [
    { name: "rewrite after mirror runs the cleanup first", spec: {}, mirrorCleanup: true, cleans: true },
    { name: "rewrite that never was mirror", spec: {}, mirrorCleanup: false, cleans: false },
    {
      name: "mirror never cleans its own files",
      spec: { mode: "mirror" },
      mirrorCleanup: true,
      cleans: false,
    },
  ];
  it.each(leaving)("leaving mirror mode: $name", ({ spec, mirrorCleanup, cleans }) => {
    const objects = render(spec, { mirrorCleanup });
    const init = podSpec(objects).initContainers;
    if (!cleans) return expect(init).toBeUndefined();
    expect(init).toEqual([
      expect.objectContaining({
        name: "mirror-cleanup",
        image: agentContainer(objects).image,
        command: ["peerpull-agent"],
        args: ["--containerd-hosts-dir", "/etc/containerd/certs.d", "--containerd-hosts-cleanup=true"],
        volumeMounts: [{ name: "containerd-certs", mountPath: "/etc/containerd/certs.d" }],
        securityContext: expect.objectContaining({ runAsUser: 0, capabilities: { drop: ["ALL"] } }),
      }),
    ]);
    expect(podSpec(objects).volumes).toContainEqual({
      name: "containerd-certs",
      hostPath: { path: "/etc/containerd/certs.d", type: "DirectoryOrCreate" },
    });
    // only the init container gets the node's directory and root; the agent stays as it was
    expect(agentContainer(objects).volumeMounts.map((m: Any) => m.name)).not.toContain("containerd-certs");
    expect(podSpec(objects).securityContext).toMatchObject({ runAsUser: 65532, runAsNonRoot: true });
    expect(agentConfig(objects).containerdHostsDir).toBeUndefined();
    // (the agent's own parser accepting this command line: e2e/rendered-agent-config.test.ts)
  });

  it("a new peer token rolls agents and trackers; the same inputs render the same objects", () => {
    expect(render({})).toEqual(render({}));
    const other = render({}, { peerToken: "u".repeat(43) });
    expect(checksum(other)).not.toBe(checksum(render({})));
    const trackerSum = (o: ManifestObject[]) =>
      find(o, "StatefulSet").spec.template.metadata.annotations["peerpull.io/config-checksum"];
    expect(trackerSum(other)).not.toBe(trackerSum(render({})));
  });

  it("owns every object when given the live config, without blockOwnerDeletion", () => {
    const owner = {
      apiVersion: "peerpull.io/v1alpha1",
      kind: "P2PAccelerationConfig",
      name: "default",
      uid: "u1",
    };
    for (const o of render({}, { owner }))
      expect(o.metadata.ownerReferences).toEqual([{ ...owner, controller: true }]);
  });

  const refusals: { name: string; input: Partial<DesiredInput>; reason: string; problem: RegExp }[] = [
    { name: "no registry", input: { registries: [] }, reason: "NoRegistries", problem: /spec.registries/ },
    {
      name: "a value the agent rejects (zero rate)",
      input: { spec: { p2p: { ratelimit: "0" } } },
      reason: "InvalidConfig",
      problem: /ratelimit: must be greater than 0/,
    },
    {
      name: "a registry port that is the peer port",
      input: { spec: { p2p: { port: 65002 } } },
      reason: "InvalidConfig",
      problem: /p2p.port: 65002 is the agents' peer port/,
    },
    {
      name: "an origin the agent rejects",
      input: { registries: [{ host: "r.io", origin: "ftp://r.io", source: "static" }] },
      reason: "InvalidConfig",
      problem: /http or https/,
    },
  ];
  it.each(refusals)("refuses $name with a reason and renders nothing", ({ input, reason, problem }) => {
    const out = desiredObjects({
      spec: {},
      registries,
      peerToken: "t".repeat(20),
      namespace: "ns",
      ...input,
    });
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.reason).toBe(reason);
    expect(out.problems.join("; ")).toMatch(problem);
  });
});
