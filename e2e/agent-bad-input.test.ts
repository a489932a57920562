/**
 * Hostile and malformed requests against a real agent: each gets its OCI error code, the agent
 * stays up, and neither the cache nor the origin is touched.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { Teardown } from "../hack/testenv/processes";
import { Registry, startRegistry } from "../hack/testenv/registry";
import { AgentProcess, startAgent } from "../hack/testenv/agent";
import { rawRequest } from "./support/raw-http";

const UPSTREAM = "registry.test";
const D = "sha256:" + "ab".repeat(32);
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

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.map(e => join(e.parentPath ?? "", e.name)).sort();
}

const rows = [
  {
    name: "dot-dot in the name",
    path: `/v2/${UPSTREAM}/../../etc/passwd/blobs/${D}`,
    status: 400,
    code: "NAME_INVALID",
  },
  {
    name: "encoded slashes",
    path: `/v2/${UPSTREAM}/a%2F..%2F..%2Fetc/blobs/${D}`,
    status: 400,
    code: "NAME_INVALID",
  },
  { name: "encoded dots", path: `/v2/${UPSTREAM}/%2e%2e/blobs/${D}`, status: 400, code: "NAME_INVALID" },
  {
    name: "digest with a path in it",
    path: `/v2/${UPSTREAM}/app/blobs/sha256:../../x`,
    status: 400,
    code: "NAME_INVALID",
  },
  {
    name: "non-hex digest",
    path: `/v2/${UPSTREAM}/app/blobs/sha256:${"g".repeat(64)}`,
    status: 400,
    code: "DIGEST_INVALID",
  },
  { name: "short digest", path: `/v2/${UPSTREAM}/app/blobs/sha256:abc`, status: 400, code: "DIGEST_INVALID" },
  {
    name: "unsupported algorithm",
    path: `/v2/${UPSTREAM}/app/blobs/sha512:${"a".repeat(128)}`,
    status: 405,
    code: "UNSUPPORTED",
  },
  { name: "unknown upstream", path: `/v2/other.test/app/blobs/${D}`, status: 404, code: "NAME_UNKNOWN" },
  {
    name: "unknown ns upstream",
    path: `/v2/app/blobs/${D}?ns=other.test`,
    status: 404,
    code: "NAME_UNKNOWN",
  },
  { name: "push endpoint", path: `/v2/${UPSTREAM}/app/blobs/uploads/`, status: 405, code: "UNSUPPORTED" },
  { name: "catalog", path: "/v2/_catalog", status: 404, code: "NAME_INVALID" },
];

it.each(rows)("$name -> $status $code, nothing touched", async ({ path, status, code }) => {
  const before = await listTree(agent.cacheDir);
  const mark = await registry.mark();
  const res = await rawRequest(agent.url, path);
  expect(res.status).toBe(status);
  expect(JSON.parse(res.body.toString()).errors[0].code).toBe(code);
  expect(await listTree(agent.cacheDir)).toEqual(before);
  expect(await registry.accessLog(mark)).toHaveLength(0);
});

it("rejects writes with UNSUPPORTED", async () => {
  const res = await rawRequest(agent.url, `/v2/${UPSTREAM}/app/blobs/uploads/`, { method: "POST" });
  expect(res.status).toBe(405);
  expect(JSON.parse(res.body.toString()).errors[0].code).toBe("UNSUPPORTED");
});

it("refuses huge headers (431, or the connection closed while they were still being sent) and keeps serving", async () => {
  // Node answers 431 and closes; a client still writing its 64 KiB of headers may see the reset first.
  const outcome = await rawRequest(agent.url, "/v2/", { headers: { "x-junk": "a".repeat(64 * 1024) } }).then(
    res => res.status,
    (err: NodeJS.ErrnoException) => err.code,
  );
  expect([431, "ECONNRESET", "EPIPE"]).toContain(outcome);
  expect((await rawRequest(agent.url, "/v2/")).status).toBe(401);
  expect((await rawRequest(agent.url, "/v2/", { headers: { authorization: "Basic Og==" } })).status).toBe(
    200,
  );
});

it("answers an invalid Range with 416 RANGE_INVALID without fetching the blob", async () => {
  const { buildImage, pushImage } = await import("../hack/testenv/oci-image");
  const layout = await buildImage({ layers: [100_000] });
  teardown.add(() => layout.remove());
  await pushImage(layout, registry, "app", "1");
  const digest = layout.layers[0].digest;
  const mark = await registry.mark();
  for (const range of ["bytes=999999999-", "bytes=5-2", "bytes=banana"]) {
    const res = await rawRequest(agent.url, `/v2/${UPSTREAM}/app/blobs/${digest}`, { headers: { range } });
    expect(res.status).toBe(416);
    expect(JSON.parse(res.body.toString()).errors[0].code).toBe("RANGE_INVALID");
  }
  expect((await registry.blobGets(mark)).size).toBe(0);
  // A range unit other than bytes is ignored (RFC 9110 14.2): the whole blob.
  const whole = await rawRequest(agent.url, `/v2/${UPSTREAM}/app/blobs/${digest}`, {
    headers: { range: "pages=1-2" },
  });
  expect(whole.status).toBe(200);
  expect(whole.body.length).toBe(layout.layers[0].size);
  expect(whole.headers["content-range"]).toBeUndefined();
});

it("a flood of requests for an unknown digest costs the origin one request", async () => {
  const missing = "sha256:" + "0".repeat(64);
  const mark = await registry.mark();
  for (let i = 0; i < 200; i++) {
    const res = await rawRequest(agent.url, `/v2/${UPSTREAM}/app/blobs/${missing}`);
    expect(res.status).toBe(404);
  }
  const asked = (await registry.accessLog(mark)).filter(e => e.path.includes(missing));
  expect(asked.length).toBeGreaterThanOrEqual(1);
  expect(asked.length).toBeLessThanOrEqual(2); // one per 10 s memory, should the loop cross it
});

it("outside mirror mode, GET /mirror/conflicts says so; other methods are not routed there", async () => {
  const res = await fetch(`${agent.peerUrl}/mirror/conflicts`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ mirror: false, conflicts: [] });
  expect((await fetch(`${agent.peerUrl}/mirror/conflicts`, { method: "POST" })).status).toBe(404);
});

it("is still healthy after all of it", async () => {
  expect((await fetch(`${agent.peerUrl}/healthz`)).status).toBe(200);
  expect(agent.process.hasExited()).toBe(false);
});
