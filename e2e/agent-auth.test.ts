/**
 * Private images through a real agent from a real htpasswd docker-registry: the agent never gives a
 * byte of a private repository to a request the origin has not authorized, cached or not.
 */
import { buildImage, clearSkopeoBlobInfoCache, pushImage } from "../hack/testenv/oci-image";
import { join } from "node:path";
import { removeDir, run, Teardown, tempDir, waitFor } from "../hack/testenv/processes";
import { Registry, startRegistry } from "../hack/testenv/registry";
import { AgentProcess, startAgent } from "../hack/testenv/agent";
import { expectSamePull, skopeoPull } from "./support/pull";

const UPSTREAM = "private.test";
const CREDS = { user: "alice", password: "s3cret-pw" };
const basic = (user: string, password: string) =>
  "Basic " + Buffer.from(`${user}:${password}`).toString("base64");
const teardown = new Teardown();
let registry: Registry;
let agent: AgentProcess;
let layerDigest: string;

beforeAll(async () => {
  registry = await startRegistry({ auth: CREDS });
  teardown.add(() => registry.stop());
  agent = await startAgent({ upstreams: [`${UPSTREAM}=${registry.url}`] });
  teardown.add(() => agent.stop());
  const layout = await buildImage({ layers: [1_500_000, 700_000] });
  teardown.add(() => layout.remove());
  await pushImage(layout, registry, "team/secret", "1", { creds: CREDS });
  layerDigest = layout.layers[0].digest;
});
afterAll(() => teardown.run());

const manifestUrl = () => `${agent.url}/v2/${UPSTREAM}/team/secret/manifests/1`;
const blobUrl = (digest = layerDigest) => `${agent.url}/v2/${UPSTREAM}/team/secret/blobs/${digest}`;

it("answers 401 with a Basic challenge when no credentials are sent", async () => {
  const res = await fetch(manifestUrl());
  expect(res.status).toBe(401);
  expect(res.headers.get("www-authenticate")).toBe('Basic realm="peerpull"');
  expect(((await res.json()) as { errors: { code: string }[] }).errors[0].code).toBe("UNAUTHORIZED");
});

it("refuses wrong credentials", async () => {
  const res = await fetch(manifestUrl(), { headers: { authorization: basic("alice", "wrong") } });
  expect([401, 403]).toContain(res.status);
  const blob = await fetch(blobUrl(), { headers: { authorization: basic("mallory", "x") } });
  expect([401, 403]).toContain(blob.status);
});

it("pulls with the right credentials, byte for byte", async () => {
  await clearSkopeoBlobInfoCache();
  const direct = await skopeoPull(`${registry.host}/team/secret:1`, { creds: CREDS });
  const viaAgent = await skopeoPull(`${agent.host}/${UPSTREAM}/team/secret:1`, { creds: CREDS });
  teardown.add(() => removeDir(direct));
  teardown.add(() => removeDir(viaAgent));
  await expectSamePull(direct, viaAgent);
});

it("still refuses a blob that is already cached to unauthorized requests", async () => {
  const authorized = await fetch(blobUrl(), {
    headers: { authorization: basic(CREDS.user, CREDS.password) },
  });
  expect(authorized.status).toBe(200);
  await authorized.arrayBuffer();
  await waitFor("blob cached", async () =>
    (await agent.metric("peerpull_cache_blobs")) > 0 ? true : undefined,
  );

  for (const headers of [
    {},
    { authorization: basic("alice", "wrong") },
    { authorization: "Bearer forged" },
  ] as Record<string, string>[]) {
    for (const method of ["GET", "HEAD"]) {
      const res = await fetch(blobUrl(), { method, headers });
      expect([401, 403]).toContain(res.status);
      const body = method === "GET" ? await res.text() : "";
      expect(body).not.toContain("\u0000");
    }
  }
  const ranged = await fetch(blobUrl(), { headers: { range: "bytes=0-10" } });
  expect(ranged.status).toBe(401);
});

it("GET /v2/ tells the truth about credentials: the origin checks them once per authTTL", async () => {
  const ping = (authorization: string, ns = "") =>
    fetch(`${agent.url}/v2/${ns ? `?ns=${ns}` : ""}`, { headers: { authorization } });
  expect((await ping(basic("alice", "wrong"))).status).toBe(401);
  expect((await ping(basic(CREDS.user, CREDS.password))).status).toBe(200);
  expect((await ping(basic(CREDS.user, CREDS.password), UPSTREAM)).status).toBe(200);
  expect((await ping(basic(CREDS.user, CREDS.password), "evil.example.com")).status).toBe(404);
  const mark = await registry.mark();
  expect((await ping(basic(CREDS.user, CREDS.password))).status).toBe(200);
  expect((await ping(basic("alice", "wrong"))).status).toBe(401);
  expect(await registry.accessLog(mark)).toHaveLength(0); // both verdicts cached

  // what a user sees: `skopeo login` against the agent fails with a wrong password
  const dir = await tempDir("login");
  teardown.add(() => removeDir(dir));
  const login = (password: string) =>
    run(
      "skopeo",
      [
        "login",
        "--tls-verify=false",
        "--authfile",
        join(dir, "auth.json"),
        "-u",
        CREDS.user,
        "-p",
        password,
        agent.host,
      ],
      {
        timeoutMs: 30_000,
      },
    );
  await expect(login("wrong")).rejects.toThrow();
  await expect(login(CREDS.password)).resolves.toBeDefined();
});

it("never fetches from a registry that is not a configured upstream", async () => {
  const mark = await registry.mark();
  for (const url of [
    `${agent.url}/v2/${registry.host}/team/secret/manifests/1`,
    `${agent.url}/v2/evil.example.com/team/secret/blobs/${layerDigest}`,
    `${agent.url}/v2/team/secret/manifests/1?ns=evil.example.com`,
  ]) {
    const res = await fetch(url, { headers: { authorization: basic(CREDS.user, CREDS.password) } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0].code).toBe("NAME_UNKNOWN");
  }
  expect(await registry.accessLog(mark)).toHaveLength(0);
});
