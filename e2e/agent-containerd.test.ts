/**
 * containerd through the agent: `ctr images pull` in rewrite naming (--plain-http) and in mirror
 * naming (--hosts-dir, containerd adds ?ns=), and the kubelet's own path, CRI ImageService/PullImage
 * with the pod's pull secret as `auth`, against a private registry.
 */
import {
  Containerd,
  startContainerd,
  writeMirrorHosts,
  writePlainHttpHost,
} from "../hack/testenv/containerd";
import { buildImage, OciLayout, pushImage } from "../hack/testenv/oci-image";
import { tempDir, removeDir, Teardown } from "../hack/testenv/processes";
import { Registry, startRegistry } from "../hack/testenv/registry";
import { AgentProcess, startAgent } from "../hack/testenv/agent";

const CREDS = { user: "bob", password: "pull-secret" };
const teardown = new Teardown();
let registry: Registry;
let privateRegistry: Registry;
let agent: AgentProcess;
let containerd: Containerd;
let layout: OciLayout;

beforeAll(async () => {
  registry = await startRegistry();
  teardown.add(() => registry.stop());
  privateRegistry = await startRegistry({ auth: CREDS });
  teardown.add(() => privateRegistry.stop());
  agent = await startAgent({
    upstreams: [`registry.test=${registry.url}`, `private.test=${privateRegistry.url}`],
  });
  teardown.add(() => agent.stop());
  containerd = await startContainerd();
  teardown.add(() => containerd.stop());
  layout = await buildImage({ layers: [2 * 1024 * 1024, 600_000] });
  teardown.add(() => layout.remove());
  await pushImage(layout, registry, "team/app", "1");
  await pushImage(layout, registry, "team/docker", "1", { format: "v2s2" });
  await pushImage(layout, privateRegistry, "team/secret", "1", { creds: CREDS });
});
afterAll(() => teardown.run());

async function expectAllLayers(namespace?: string): Promise<void> {
  const content = await containerd.contentDigests(namespace);
  for (const layer of layout.layers) expect(content.has(layer.digest)).toBe(true);
  expect(content.has(layout.config.digest)).toBe(true);
}

it("ctr pulls in rewrite naming through the agent (OCI and Docker v2s2)", async () => {
  for (const repo of ["team/app", "team/docker"]) {
    const image = await containerd.ctrPull(`${agent.host}/registry.test/${repo}:1`, { plainHttp: true });
    expect(image.ref).toBe(`${agent.host}/registry.test/${repo}:1`);
    await expectAllLayers();
  }
});

it("ctr pulls in mirror naming (hosts.toml, ?ns=) and a second pull costs the origin no blob", async () => {
  await containerd.forgetAll();
  const hostsDir = await tempDir("hosts");
  teardown.add(() => removeDir(hostsDir));
  await writeMirrorHosts(hostsDir, "registry.test", agent.url);
  const mark = await registry.mark();
  const image = await containerd.ctrPull("registry.test/team/app:1", { hostsDir });
  expect(image.ref).toBe("registry.test/team/app:1");
  await expectAllLayers();
  // The blobs were cached by the rewrite-naming pull above: same digests, served locally.
  expect((await registry.blobGets(mark)).size).toBe(0);
  const served = (await registry.accessLog(mark)).map(entry => entry.path);
  expect(served.every(path => !path.includes("ns="))).toBe(true);
});

it("CRI PullImage with the pod's pull secret goes through the agent (kubelet path)", async () => {
  await writePlainHttpHost(containerd.hostsDir, agent.host);
  const image = `${agent.host}/private.test/team/secret:1`;
  await expect(containerd.criPullImage({ image })).rejects.toThrow();
  const ref = await containerd.criPullImage({
    image,
    auth: { username: CREDS.user, password: CREDS.password },
  });
  expect(ref).toBe(layout.config.digest);
  await expectAllLayers("k8s.io");
});

it("CRI PullImage in mirror mode sends ?ns= and needs no image rewrite", async () => {
  await containerd.forgetAll("k8s.io");
  await writeMirrorHosts(containerd.hostsDir, "private.test", agent.url);
  const ref = await containerd.criPullImage({
    image: "private.test/team/secret:1",
    auth: { username: CREDS.user, password: CREDS.password },
  });
  expect(ref).toBe(layout.config.digest);
});
