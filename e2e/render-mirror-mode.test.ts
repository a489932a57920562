/**
 * Mirror mode as rendered, run: `peerpull-render` of a `mode: mirror` config; its agent DaemonSet is
 * started exactly as rendered (e2e/support/kubelet.ts) on a network-namespace node whose containerd
 * hosts directory is a test directory, shared by the node's pods like a hostPath. The agent writes
 * `hosts.toml` there from its rendered config (`containerdHostsDir`) and serves containerd's mirror
 * naming (`?ns=`); on SIGTERM it leaves the file. Then the config goes back to rewrite: the rendered
 * DaemonSet's `mirror-cleanup` init container, run as rendered (root, no capabilities, read-only
 * root), removes the agent's file and leaves a hosts.toml someone else wrote byte for byte.
 * (containerd reading these files is e2e/agent-mirror-mode.test.ts.) Needs root; skipped otherwise.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { V1PodSpec } from "@kubernetes/client-node";
import { parseAllDocuments, stringify } from "yaml";
import { render } from "../capabilities/reconciler/render";
import { AGENT_BIN, startRegistryIn, SwarmCluster } from "../hack/netns/cluster";
import { createNetwork, httpIn, logIn, NetnsNetwork, NetnsNode, waitForHttpIn } from "../hack/netns/netns";
import { buildImage, OciLayout } from "../hack/testenv/oci-image";
import { ManagedProcess, removeDir, tempDir, waitFor } from "../hack/testenv/processes";
import { containerProcess, launchScript, PodContext } from "./support/kubelet";
import { describeWith, NETNS_NEEDS } from "./support/prerequisites";

const NEEDS = { ...NETNS_NEEDS, files: [{ path: AGENT_BIN, madeBy: "npm run build" }] };
jest.setTimeout(180_000);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = any;

const CERTS_D = "/etc/containerd/certs.d";
const CONTAINERD_CONFIG = `version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "${CERTS_D}"\n`;
const FOREIGN = `# the platform team's own file\nserver = "https://foreign.test"\n`;

describeWith(NEEDS, "mirror mode as rendered, on a netns node (needs root)", () => {
  let network: NetnsNetwork;
  let node: NetnsNode;
  let dir: string;
  let hostsDir: string;
  let containerdDir: string;
  let registry: SwarmCluster["registry"];
  let image: OciLayout;
  let agent: ManagedProcess | undefined;

  beforeAll(async () => {
    network = await createNetwork({ nodes: 1 });
    node = network.nodes[0];
    dir = await tempDir("render-mirror");
    registry = await startRegistryIn(network, dir);
    image = await buildImage({ layers: [512 * 1024] });
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
    // the node's /etc/containerd: its config (CRI reads certs.d) and certs.d, as kubelet leaves them
    // once the DaemonSet's DirectoryOrCreate hostPaths exist
    containerdDir = join(dir, "node-containerd");
    hostsDir = join(containerdDir, "certs.d");
    await mkdir(containerdDir, { recursive: true, mode: 0o755 });
    await writeFile(join(containerdDir, "config.toml"), CONTAINERD_CONFIG);
    await mkdir(join(hostsDir, "foreign.test"), { recursive: true, mode: 0o755 });
    await writeFile(join(hostsDir, "foreign.test", "hosts.toml"), FOREIGN);
  });

  afterAll(async () => {
    await network?.destroy();
    await image?.remove();
    if (dir) await removeDir(dir);
  });

  async function renderDaemonSet(mode: "mirror" | "rewrite", extra: string[] = []): Promise<Manifest> {
    const configFile = join(dir, `config-${mode}.yaml`);
    await writeFile(
      configFile,
      stringify({
        apiVersion: "peerpull.io/v1alpha1",
        kind: "P2PAccelerationConfig",
        metadata: { name: "default" },
        spec: {
          mode,
          registries: [{ host: "registry.test", origin: registry.url }],
          p2p: { downloadPattern: "source" },
        },
      }),
    );
    const out = await render(["-f", configFile, ...extra]);
    expect(out).toMatchObject({ code: 0, stderr: "" });
    const objects = parseAllDocuments(out.stdout).map(d => d.toJSON());
    return { objects, daemonSet: objects.find(o => o.kind === "DaemonSet") };
  }

  function podContext(objects: Manifest[], podName: string): PodContext {
    return {
      fieldRefs: { "status.hostIP": node.ip, "status.podIP": node.ip, "spec.nodeName": node.ns },
      objects,
      dir: join(dir, podName),
      hostPaths: { [CERTS_D]: hostsDir, "/etc/containerd": containerdDir },
    };
  }

  const agentFile = () => join(hostsDir, "registry.test", "hosts.toml");

  it("the rendered mirror-mode agent writes hosts.toml into the node's directory and serves ?ns= naming", async () => {
    const { objects, daemonSet } = await renderDaemonSet("mirror");
    const pod: V1PodSpec = daemonSet.spec.template.spec;
    expect(pod.volumes).toContainEqual({
      name: "containerd-certs",
      hostPath: { path: CERTS_D, type: "DirectoryOrCreate" },
    });
    const ctx = podContext(objects, "agent-mirror");
    const proc = await containerProcess(pod, "agent", ctx);
    agent = await network.spawnIn(
      node.ns,
      "unshare",
      ["--mount", "--propagation", "private", "bash", "-c", launchScript(proc, ctx.dir, [])],
      { logPath: logIn(dir, "agent-mirror") },
    );
    await waitForHttpIn(network, node.ns, `http://${node.ip}:65002/readyz`, {
      statuses: [200],
      process: agent,
      timeoutMs: 30_000,
    });
    const written = await waitFor(
      "the agent's hosts.toml",
      async () => (existsSync(agentFile()) ? readFile(agentFile(), "utf8") : undefined),
      { timeoutMs: 30_000, process: agent },
    );
    expect(written.split("\n")[0]).toBe("# managed-by: peerpull-agent");
    // the rendered agent read the node's containerd config through its read-only mount
    expect(await readFile(agent.logPath, "utf8")).toContain("mirror mode: containerd reads the hosts dir");
    expect(written).toContain(`server = "${registry.url}"`);
    expect(written).toContain('[host."http://127.0.0.1:65001"]');

    const manifest = await httpIn(
      network,
      node.ns,
      "http://127.0.0.1:65001/v2/team/app/manifests/v1?ns=registry.test",
      {
        keepBody: true,
        headers: { Accept: "application/vnd.oci.image.manifest.v1+json" },
      },
    );
    expect(manifest.status).toBe(200);
    expect(JSON.parse(manifest.body).layers).toHaveLength(1);

    await agent.stop(10_000);
    expect(await readFile(agentFile(), "utf8")).toBe(written); // SIGTERM leaves it: no flapping on restarts
  });

  it("back to rewrite: the rendered cleanup init container removes the agent's file, not the foreign one", async () => {
    expect(existsSync(agentFile())).toBe(true);
    const { objects, daemonSet } = await renderDaemonSet("rewrite", ["--mirror-cleanup"]);
    const pod: V1PodSpec = daemonSet.spec.template.spec;
    expect(pod.initContainers?.map(c => c.name)).toEqual(["mirror-cleanup"]);
    const ctx = podContext(objects, "agent-rewrite");
    const init = await containerProcess(pod, "mirror-cleanup", ctx);
    expect(init.user).toMatchObject({ uid: 0, dropAllCapabilities: true });
    expect(init.readOnlyRoot).toBe(true);
    await network.exec(
      node.ns,
      "unshare",
      ["--mount", "--propagation", "private", "bash", "-c", launchScript(init, ctx.dir, [])],
      { timeoutMs: 60_000 },
    );
    expect(existsSync(join(hostsDir, "registry.test"))).toBe(false);
    expect(await readFile(join(hostsDir, "foreign.test", "hosts.toml"), "utf8")).toBe(FOREIGN);
    // the rewrite-mode agent itself neither mounts the directory nor is told to write there
    const agentProc = await containerProcess(pod, "agent", ctx);
    expect(agentProc.mounts.map(m => m.target)).not.toContain(CERTS_D);
    const config = objects.find((o: Manifest) => o.kind === "ConfigMap").data["agent.yaml"];
    expect(config).not.toContain("containerdHostsDir");
  });
});
