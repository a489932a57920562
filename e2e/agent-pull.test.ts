/**
 * Pulls through a real agent process from a real docker-registry, with skopeo: rewrite naming, OCI
 * and Docker v2s2, single- and multi-layer and multi-arch images, and the second pull from cache.
 */
import {
  buildImage,
  buildMultiArchImage,
  clearSkopeoBlobInfoCache,
  OciLayout,
  pushImage,
} from "../hack/testenv/oci-image";
import { removeDir, Teardown } from "../hack/testenv/processes";
import { Registry, startRegistry } from "../hack/testenv/registry";
import { AgentProcess, startAgent } from "../hack/testenv/agent";
import { expectSamePull, skopeoPull } from "./support/pull";

const UPSTREAM = "registry.test";
const teardown = new Teardown();
let registry: Registry;
let agent: AgentProcess;

beforeAll(async () => {
  registry = await startRegistry();
  teardown.add(() => registry.stop());
  agent = await startAgent({ upstreams: [`${UPSTREAM}=${registry.url}`] });
  teardown.add(() => agent.stop());
});
afterAll(() => teardown.run());

async function image(spec: Parameters<typeof buildImage>[0]): Promise<OciLayout> {
  const layout = await buildImage(spec);
  teardown.add(() => layout.remove());
  return layout;
}

const cases = [
  { name: "single-layer OCI", layers: [2 * 1024 * 1024], format: "oci" as const },
  { name: "multi-layer OCI", layers: [1024 * 1024, 3 * 1024 * 1024, 10_000], format: "oci" as const },
  { name: "multi-layer Docker v2s2", layers: [2 * 1024 * 1024, 500_000], format: "v2s2" as const },
];

describe.each(cases)("$name through the agent (rewrite naming)", ({ name, layers, format }) => {
  const repo = `team/${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  let direct: string;

  beforeAll(async () => {
    const layout = await image({ layers });
    await pushImage(layout, registry, repo, "1", { format });
    await clearSkopeoBlobInfoCache();
    direct = await skopeoPull(`${registry.host}/${repo}:1`);
    teardown.add(() => removeDir(direct));
  });

  it("delivers the same bytes and digests as a direct pull, then serves blobs from cache", async () => {
    await clearSkopeoBlobInfoCache();
    const first = await skopeoPull(`${agent.host}/${UPSTREAM}/${repo}:1`);
    teardown.add(() => removeDir(first));
    await expectSamePull(direct, first);

    const mark = await registry.mark();
    await clearSkopeoBlobInfoCache();
    const second = await skopeoPull(`${agent.host}/${UPSTREAM}/${repo}:1`);
    teardown.add(() => removeDir(second));
    await expectSamePull(direct, second);
    expect((await registry.blobGets(mark)).size).toBe(0);
  });
});

it("passes a multi-arch image index through unchanged", async () => {
  const layout = await buildMultiArchImage({
    platforms: [
      { platform: { os: "linux", architecture: "amd64" }, layers: [300_000] },
      { platform: { os: "linux", architecture: "arm64" }, layers: [200_000] },
    ],
  });
  teardown.add(() => layout.remove());
  const pushed = await pushImage(layout, registry, "team/multi", "1");
  const res = await fetch(`${agent.url}/v2/${UPSTREAM}/team/multi/manifests/1`, {
    headers: { accept: "application/vnd.oci.image.index.v1+json" },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("docker-content-digest")).toBe(pushed.digest);
  expect(Buffer.from(await res.arrayBuffer()).equals(pushed.raw)).toBe(true);
});
