/**
 * Cache behaviour of a real agent: single flight under concurrent pulls, TTL and size eviction,
 * the offline rule, and metric values after a known sequence of pulls.
 */
import { createHash } from "node:crypto";
import { buildImage, OciLayout, pushImage } from "../hack/testenv/oci-image";
import { Teardown, waitFor } from "../hack/testenv/processes";
import { Registry, startRegistry } from "../hack/testenv/registry";
import { startAgent } from "../hack/testenv/agent";
import { FaultProxy, startFaultProxy } from "./support/fault-proxy";

const UPSTREAM = "registry.test";
const teardown = new Teardown();
let registry: Registry;
let proxy: FaultProxy;
let layout: OciLayout;

beforeAll(async () => {
  registry = await startRegistry();
  teardown.add(() => registry.stop());
  proxy = await startFaultProxy(registry.url);
  teardown.add(() => proxy.stop());
  layout = await buildImage({ layers: [3 * 1024 * 1024, 2 * 1024 * 1024] });
  teardown.add(() => layout.remove());
  await pushImage(layout, registry, "app", "1");
});
afterAll(() => teardown.run());

async function agentWith(args: string[] = []) {
  const agent = await startAgent({ upstreams: [`${UPSTREAM}=${proxy.url}`], args });
  teardown.add(() => agent.stop());
  return agent;
}

async function getBlob(base: string, digest: string): Promise<string> {
  const res = await fetch(`${base}/v2/${UPSTREAM}/app/blobs/${digest}`);
  expect(res.status).toBe(200);
  return (
    "sha256:" +
    createHash("sha256")
      .update(Buffer.from(await res.arrayBuffer()))
      .digest("hex")
  );
}

it("serves 8 concurrent requests for one missing blob with one origin fetch", async () => {
  const agent = await agentWith(["--ratelimit", "8M"]);
  const digest = layout.layers[0].digest;
  const before = proxy.counts.blobGets;
  const results = await Promise.all(Array.from({ length: 8 }, () => getBlob(agent.url, digest)));
  expect(results.every(got => got === digest)).toBe(true);
  expect(proxy.counts.blobGets - before).toBe(1);
});

it("evicts blobs unused for the TTL", async () => {
  const agent = await agentWith(["--cache-ttl", "2s"]);
  await getBlob(agent.url, layout.layers[1].digest);
  await waitFor("blob cached", async () =>
    (await agent.metric("peerpull_cache_blobs")) === 1 ? true : undefined,
  );
  await waitFor(
    "ttl eviction",
    async () =>
      (await agent.metric("peerpull_cache_evictions_total", { reason: "ttl" })) >= 1 ? true : undefined,
    { timeoutMs: 10_000 },
  );
  expect(await agent.metric("peerpull_cache_blobs")).toBe(0);
});

it("evicts the least recently used blob above the size limit", async () => {
  const agent = await agentWith(["--cache-max-bytes", "4M", "--cache-ttl", "10s"]);
  const [big, small] = layout.layers;
  await getBlob(agent.url, big.digest);
  await waitFor("first blob cached", async () =>
    (await agent.metric("peerpull_cache_blobs")) === 1 ? true : undefined,
  );
  await getBlob(agent.url, small.digest);
  await waitFor(
    "size eviction",
    async () =>
      (await agent.metric("peerpull_cache_evictions_total", { reason: "size" })) >= 1 ? true : undefined,
    { timeoutMs: 10_000 },
  );
  expect(await agent.metric("peerpull_cache_bytes")).toBe(small.size);
  const gets = proxy.counts.blobGets;
  await getBlob(agent.url, small.digest);
  expect(proxy.counts.blobGets).toBe(gets);
});

it("allows a recently authorized pair while the origin is down, only with offline grace", async () => {
  const strict = await agentWith(["--auth-ttl", "1ms", "--upstream-retries", "0"]);
  const graceful = await agentWith([
    "--auth-ttl",
    "1ms",
    "--auth-offline-grace",
    "1h",
    "--upstream-retries",
    "0",
  ]);
  const digest = layout.layers[1].digest;
  for (const agent of [strict, graceful]) {
    await getBlob(agent.url, digest);
    await waitFor("cached", async () =>
      (await agent.metric("peerpull_cache_blobs")) === 1 ? true : undefined,
    );
  }
  proxy.plan = { down: true };
  try {
    expect((await fetch(`${strict.url}/v2/${UPSTREAM}/app/blobs/${digest}`)).status).toBe(503);
    expect(await getBlob(graceful.url, digest)).toBe(digest);
    expect(await graceful.metric("peerpull_auth_decisions_total", { result: "offline" })).toBe(1);
    const other = await fetch(`${graceful.url}/v2/${UPSTREAM}/other/blobs/${digest}`);
    expect(other.status).toBe(503);
  } finally {
    proxy.plan = {};
  }
});

it("reports exact metric values after a known sequence of pulls", async () => {
  const agent = await agentWith();
  const manifest = await fetch(`${agent.url}/v2/${UPSTREAM}/app/manifests/1`);
  expect(manifest.status).toBe(200);
  const manifestBytes = (await manifest.arrayBuffer()).byteLength;
  const blobs = [layout.config, ...layout.layers];
  for (const blob of blobs) expect(await getBlob(agent.url, blob.digest)).toBe(blob.digest);
  await waitFor("all cached", async () =>
    (await agent.metric("peerpull_cache_blobs")) === blobs.length ? true : undefined,
  );
  for (const blob of blobs) await getBlob(agent.url, blob.digest);
  const total = blobs.reduce((sum, blob) => sum + blob.size, 0);
  expect(await agent.metric("peerpull_blob_bytes_total", { source: "origin" })).toBe(total);
  expect(await agent.metric("peerpull_blob_bytes_total", { source: "cache" })).toBe(total);
  expect(await agent.metric("peerpull_origin_bytes_total")).toBe(total + manifestBytes);
  expect(await agent.metric("peerpull_cache_bytes")).toBe(total);
  expect(await agent.metric("peerpull_requests_total", { kind: "blob", code: "200" })).toBe(2 * blobs.length);
  expect(await agent.metric("peerpull_requests_total", { kind: "manifest", code: "200" })).toBe(1);
  expect(await agent.metric("peerpull_auth_decisions_total", { result: "grant" })).toBe(2 * blobs.length);
  expect(await agent.metric("peerpull_blob_fetch_duration_seconds_count", { source: "origin" })).toBe(
    blobs.length,
  );
});
