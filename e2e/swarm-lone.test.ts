/**
 * The most common pull with the swarm on: one node alone in a blob's swarm (a scale-up of one
 * Deployment, a new node). It must stream from the origin like a plain mirror, not piece by piece:
 * the tracker commits about a second of the member's own throughput ahead at each announce, so on a
 * fast origin the commitment grows geometrically and the registry sees a handful of Range requests
 * (not one per piece), and no byte twice. Counted from the registry's access log.
 */
import { createHash } from "node:crypto";
import { AgentProcess, startAgent } from "../hack/testenv/agent";
import { buildImage, OciLayout, pushImage } from "../hack/testenv/oci-image";
import { Teardown } from "../hack/testenv/processes";
import { Registry, startRegistry } from "../hack/testenv/registry";
import { startTrackerProcess, TrackerProcess } from "../hack/testenv/tracker";

jest.setTimeout(120_000);

const UPSTREAM = "registry.test";
const MiB = 1024 * 1024;
const teardown = new Teardown();
let registry: Registry;
let tracker: TrackerProcess;
let layout: OciLayout;

beforeAll(async () => {
  registry = await startRegistry();
  teardown.add(() => registry.stop());
  tracker = await startTrackerProcess(["--log-level", "info"]);
  teardown.add(() => tracker.stop());
  layout = await buildImage({ layers: [24 * MiB, 12 * MiB], seed: "lone" });
  teardown.add(() => layout.remove());
  await pushImage(layout, registry, "team/app", "1");
});
afterAll(() => teardown.run());

async function swarmAgent(): Promise<AgentProcess> {
  const agent = await startAgent({
    upstreams: [`${UPSTREAM}=${registry.url}`],
    args: ["--tracker", tracker.url, "--peer-token-file", tracker.tokenFile],
  });
  teardown.add(() => agent.stop());
  return agent;
}

async function pull(agent: AgentProcess, digest: string): Promise<string> {
  const res = await fetch(`${agent.url}/v2/${UPSTREAM}/team/app/blobs/${digest}`);
  expect(res.status).toBe(200);
  return (
    "sha256:" +
    createHash("sha256")
      .update(Buffer.from(await res.arrayBuffer()))
      .digest("hex")
  );
}

it("a lone member streams its lease in a few origin requests (not one per piece), each byte once", async () => {
  const agent = await swarmAgent();
  const mark = await registry.mark();
  for (const layer of layout.layers) expect(await pull(agent, layer.digest)).toBe(layer.digest);
  const served = await registry.blobGets(mark);
  for (const layer of layout.layers) {
    const pieces = layer.size / MiB; // 1 MiB pieces at these sizes
    expect(served.get(layer.digest)?.bytes).toBe(layer.size);
    expect(served.get(layer.digest)?.gets).toBeGreaterThanOrEqual(2);
    expect(served.get(layer.digest)?.gets).toBeLessThanOrEqual(Math.ceil(Math.log2(pieces)) + 1);
  }
  expect(await agent.metric("peerpull_fallback_total")).toBe(0);
  expect(await agent.metric("peerpull_origin_bytes_total")).toBe(
    layout.layers[0].size + layout.layers[1].size,
  );
});

it("a second member joining later gets everything from the first, and the origin nothing", async () => {
  const first = await swarmAgent();
  const digest = layout.layers[0].digest;
  expect(await pull(first, digest)).toBe(digest);
  const second = await swarmAgent();
  const mark = await registry.mark();
  expect(await pull(second, digest)).toBe(digest);
  expect((await registry.blobGets(mark)).get(digest)).toBeUndefined();
  expect(await second.metric("peerpull_peer_download_bytes_total")).toBe(layout.layers[0].size);
});
