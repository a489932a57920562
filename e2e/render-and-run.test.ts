/**
 * The rendered manifests run, not only parse. `peerpull-render` renders the example-like config;
 * each tracker replica and each agent is started exactly as its StatefulSet / DaemonSet says
 * (e2e/support/kubelet.ts: command, args with $(NODE_IP), env from the downward API, the ConfigMap
 * and the peer-token Secret written where their volumes mount, the securityContext's user, fsGroup
 * and read-only root filesystem) on network-namespace nodes (hack/netns), with the headless
 * Service's per-replica names in /etc/hosts. Then node 1 pulls an image through its agent (skopeo,
 * rewrite naming), and node 2 pulls it again and gets the layers from node 1, not the registry.
 * Needs root; skipped by name otherwise.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { V1PodSpec } from "@kubernetes/client-node";
import { parseAllDocuments, stringify } from "yaml";
import { render } from "../capabilities/reconciler/render";
import { startRegistryIn, SwarmCluster } from "../hack/netns/cluster";
import { createNetwork, httpIn, logIn, NetnsNetwork, NetnsNode, waitForHttpIn } from "../hack/netns/netns";
import { buildImage, OciLayout } from "../hack/testenv/oci-image";
import { ManagedProcess, removeDir, tempDir } from "../hack/testenv/processes";
import { parsePromText } from "../hack/testenv/prom-text";
import { containerProcess, launchScript } from "./support/kubelet";
import { describeWith, NETNS_NEEDS } from "./support/prerequisites";

const NEEDS = { ...NETNS_NEEDS, commands: [...(NETNS_NEEDS.commands ?? []), ["skopeo", "--version"]] };
jest.setTimeout(240_000);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = any;

describeWith(NEEDS, "rendered DaemonSet and StatefulSet run on netns nodes (needs root)", () => {
  let network: NetnsNetwork;
  let dir: string;
  let registry: SwarmCluster["registry"];
  let objects: Manifest[];
  let image: OciLayout;
  const agents: { node: NetnsNode; process: ManagedProcess }[] = [];

  beforeAll(async () => {
    // nodes 1-2 run agents; node 3 is the second tracker replica's pod
    network = await createNetwork({ nodes: 3 });
    dir = await tempDir("render-run");
    registry = await startRegistryIn(network, dir, undefined);
    image = await buildImage({ layers: [3 * 1024 * 1024, 2 * 1024 * 1024] });
    await network.exec(
      network.registry.ns,
      "skopeo",
      [
        "copy",
        "--dest-tls-verify=false",
        `oci:${image.dir}:${image.tag}`,
        `docker://${registry.host}/team/app:v1`,
      ],
      { timeoutMs: 120_000 },
    );

    const configFile = join(dir, "config.yaml");
    await writeFile(
      configFile,
      stringify({
        apiVersion: "peerpull.io/v1alpha1",
        kind: "P2PAccelerationConfig",
        metadata: { name: "default" },
        spec: {
          registries: [{ host: "registry.test", origin: registry.url }],
          p2p: { ratelimit: "512M", cacheTTL: "1h" },
          tracker: { replicas: 2 },
        },
      }),
    );
    const rendered = await render(["-f", configFile]);
    expect(rendered).toMatchObject({ code: 0, stderr: "" });
    objects = parseAllDocuments(rendered.stdout).map(d => d.toJSON());
  });

  afterAll(async () => {
    await network?.destroy();
    await image?.remove();
    if (dir) await removeDir(dir);
  });

  const byKind = (kind: string): Manifest => objects.find(o => o.kind === kind);

  /** The cluster DNS names of the tracker replicas (headless Service) -> their pods' addresses. */
  function trackerHosts(): string[] {
    const ns = byKind("Service").metadata.namespace;
    const pods = [network.tracker, network.nodes[2]];
    return pods.map((pod, i) => `${pod.ip} peerpull-tracker-${i}.peerpull-tracker.${ns}.svc`);
  }

  async function start(
    pod: V1PodSpec,
    container: string,
    where: NetnsNode,
    podName: string,
    hostIP: string,
  ): Promise<ManagedProcess> {
    const podDir = join(dir, podName);
    const proc = await containerProcess(pod, container, {
      fieldRefs: { "status.hostIP": hostIP, "status.podIP": where.ip, "spec.nodeName": where.ns },
      objects,
      dir: podDir,
    });
    const script = launchScript(proc, podDir, trackerHosts());
    const spawned = await network.spawnIn(
      where.ns,
      "unshare",
      ["--mount", "--propagation", "private", "bash", "-c", script],
      { logPath: logIn(dir, podName) },
    );
    // the rendered readiness probe: httpGet on the pod IP (the node IP with hostNetwork)
    const spec = pod.containers.find(c => c.name === container)!;
    const probe = spec.readinessProbe!.httpGet!;
    const port = spec.ports!.find(p => p.name === probe.port)!.containerPort;
    const ip = pod.hostNetwork ? hostIP : where.ip;
    await waitForHttpIn(network, where.ns, `http://${ip}:${port}${probe.path}`, {
      statuses: [200],
      process: spawned,
      timeoutMs: 30_000,
    });
    return spawned;
  }

  it("starts every tracker replica and agent exactly as rendered", async () => {
    const tracker = byKind("StatefulSet");
    expect(tracker.spec.replicas).toBe(2);
    await start(
      tracker.spec.template.spec,
      "tracker",
      network.tracker,
      "peerpull-tracker-0",
      network.tracker.ip,
    );
    await start(
      tracker.spec.template.spec,
      "tracker",
      network.nodes[2],
      "peerpull-tracker-1",
      network.nodes[2].ip,
    );
    const daemonSet = byKind("DaemonSet");
    for (const node of network.nodes.slice(0, 2)) {
      const name = `peerpull-agent-${node.ns.split("-").pop()}`;
      agents.push({
        node,
        process: await start(daemonSet.spec.template.spec, "agent", node, name, node.ip),
      });
    }
    // the agent runs as the image's user, not root
    const { stdout } = await network.exec(agents[0].node.ns, "ps", [
      "-o",
      "uid=",
      "-p",
      String(agents[0].process.pid),
    ]);
    expect(stdout.trim()).toBe("65532");
    // readOnlyRootFilesystem: in the agent's mount namespace only its volumes take writes
    const inAgent = (script: string) =>
      network.exec(agents[0].node.ns, "nsenter", [
        "-t",
        String(agents[0].process.pid),
        "-m",
        "sh",
        "-c",
        script,
      ]);
    await expect(inAgent("touch /tmp/peerpull-ro-check")).rejects.toThrow(/Read-only file system/);
    await inAgent("touch /var/lib/peerpull/rw-check && rm /var/lib/peerpull/rw-check");
  });

  it("pulls the image through node 1's agent, and node 2 gets its layers from node 1", async () => {
    expect(agents).toHaveLength(2);
    const pull = async (node: NetnsNode) => {
      const out = join(dir, `pull-${node.ns}`);
      await network.exec(
        node.ns,
        "skopeo",
        [
          "copy",
          "--src-tls-verify=false",
          "docker://127.0.0.1:65001/registry.test/team/app:v1",
          `dir:${out}`,
        ],
        { timeoutMs: 120_000 },
      );
      return out;
    };
    const mark = await registry.mark();
    const first = await pull(agents[0].node);
    for (const layer of image.layers)
      expect(existsSync(join(first, layer.digest.slice("sha256:".length)))).toBe(true);
    const afterFirst = await registry.mark();
    await pull(agents[1].node);
    const second = await registry.blobGets(afterFirst);
    for (const layer of image.layers) expect(second.get(layer.digest)?.bytes ?? 0).toBe(0);
    const firstGets = await registry.blobGets(mark);
    for (const layer of image.layers) expect(firstGets.get(layer.digest)?.bytes).toBe(layer.size);

    const metrics = await httpIn(network, agents[1].node.ns, `http://${agents[1].node.ip}:65002/metrics`, {
      keepBody: true,
    });
    const peerBytes = parsePromText(metrics.body)
      .filter(s => s.name === "peerpull_peer_download_bytes_total")
      .reduce((sum, s) => sum + s.value, 0);
    expect(peerBytes).toBeGreaterThanOrEqual(image.layers.reduce((sum, l) => sum + l.size, 0));
  });
});
