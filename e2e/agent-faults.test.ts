/**
 * Origin and agent failures with a real registry behind a fault-injecting proxy: the client always
 * ends with the exact bytes, and no partial or corrupt blob is ever served from the cache.
 */
import { createHash } from "node:crypto";
import { access, open } from "node:fs/promises";
import { join } from "node:path";
import { buildImage, OciLayout, pushImage } from "../hack/testenv/oci-image";
import { removeDir, tempDir, Teardown, waitFor } from "../hack/testenv/processes";
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
  layout = await buildImage({ layers: [24 * 1024 * 1024] });
  teardown.add(() => layout.remove());
  await pushImage(layout, registry, "app", "1");
});
afterAll(() => teardown.run());

const layer = () => layout.layers[0];
const blobPath = (digest: string) => `/v2/${UPSTREAM}/app/blobs/${digest}`;
const cacheFile = (cacheDir: string, digest: string) =>
  join(cacheDir, "blobs", "sha256", digest.slice("sha256:".length));

async function sha256Of(res: Response): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
  return "sha256:" + hash.digest("hex");
}

async function agentWith(args: string[] = [], cacheDir?: string) {
  const agent = await startAgent({ upstreams: [`${UPSTREAM}=${proxy.url}`], args, cacheDir });
  teardown.add(() => agent.stop());
  return agent;
}

it("retries origin 5xx answers and delivers the exact bytes", async () => {
  const agent = await agentWith();
  proxy.plan = { fail5xx: 2 };
  const res = await fetch(agent.url + blobPath(layer().digest));
  expect(res.status).toBe(200);
  expect(await sha256Of(res)).toBe(layer().digest);
  expect(proxy.plan.fail5xx).toBe(0);
});

it("resumes a blob stream the origin cut mid-way, exact bytes, no restart from zero", async () => {
  const agent = await agentWith();
  proxy.plan = { cutBodies: 2, cutAfterBytes: 5 * 1024 * 1024 };
  const before = proxy.counts.blobBytes;
  const res = await fetch(agent.url + blobPath(layer().digest));
  expect(await sha256Of(res)).toBe(layer().digest);
  // Resumed with Range: the origin sent the blob about once, not once per attempt.
  expect(proxy.counts.blobBytes - before).toBeLessThan(layer().size * 1.2);
});

it("never serves a partial blob after being killed mid-download, and the next pull succeeds", async () => {
  const cacheDir = await tempDir("crash-cache");
  teardown.add(() => removeDir(cacheDir));
  proxy.plan = {};
  const agent = await agentWith(["--ratelimit", "4M"], cacheDir);
  const res = await fetch(agent.url + blobPath(layer().digest));
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let received = 0;
  while (received < 2 * 1024 * 1024) received += (await reader.read()).value?.length ?? 0;
  await agent.crash();
  await reader.cancel().catch(() => undefined);
  await expect(access(cacheFile(cacheDir, layer().digest))).rejects.toThrow();

  const restarted = await agentWith([], cacheDir);
  const again = await fetch(restarted.url + blobPath(layer().digest));
  expect(await sha256Of(again)).toBe(layer().digest);
});

it("detects a corrupted cache file after a restart and refetches it", async () => {
  const cacheDir = await tempDir("corrupt-cache");
  teardown.add(() => removeDir(cacheDir));
  proxy.plan = {};
  const first = await agentWith([], cacheDir);
  expect(await sha256Of(await fetch(first.url + blobPath(layer().digest)))).toBe(layer().digest);
  await waitFor("blob committed", async () =>
    (await first.metric("peerpull_cache_blobs")) === 1 ? true : undefined,
  );
  await first.stop();

  const file = await open(cacheFile(cacheDir, layer().digest), "r+");
  await file.write(Buffer.from("corrupt!"), 0, 8, 1_000_000);
  await file.close();

  const restarted = await agentWith([], cacheDir);
  const gets = proxy.counts.blobGets;
  const res = await fetch(restarted.url + blobPath(layer().digest));
  expect(await sha256Of(res)).toBe(layer().digest);
  expect(proxy.counts.blobGets).toBe(gets + 1);
  expect(await restarted.metric("peerpull_piece_verify_failures_total")).toBeGreaterThanOrEqual(1);
});

it("denies access when the origin is unreachable and the pair was never authorized", async () => {
  const agent = await agentWith(["--auth-offline-grace", "1h", "--upstream-retries", "0"]);
  proxy.plan = { down: true };
  const res = await fetch(agent.url + blobPath(layer().digest));
  expect(res.status).toBe(503);
  proxy.plan = {};
});
