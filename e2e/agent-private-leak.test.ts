/**
 * The crafted-manifest attack on cached private blobs (DESIGN 2.2), with real registries: alice pulls
 * a private image through the agent, so its layers are cached; mallory, who can push only to her own
 * repository (per-repository access control through a token issuer) or to an open registry, pushes a
 * manifest whose `subject` names a private layer, pulls it through the agent, then asks the agent for
 * the private layer by every route. No route may return a private byte; alice still gets hers from
 * the cache.
 */
import { randomBytes } from "node:crypto";
import { AgentProcess, startAgent } from "../hack/testenv/agent";
import { buildImage, OciLayout, pushImage } from "../hack/testenv/oci-image";
import { Teardown } from "../hack/testenv/processes";
import { Registry, startRegistry } from "../hack/testenv/registry";
import { startTokenIssuer } from "../hack/testenv/token-issuer";
import { startTrackerProcess } from "../hack/testenv/tracker";
import { rawRequest } from "./support/raw-http";
import { RegistryWriter } from "./support/registry-writer";

jest.setTimeout(120_000);

const ACL = "acl.test";
const OPEN = "open.test";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const ALICE = { user: "alice", password: "alice-pw" };
const MALLORY = { user: "mallory", password: "mallory-pw" };
const basic = (c: { user: string; password: string }) =>
  "Basic " + Buffer.from(`${c.user}:${c.password}`).toString("base64");

const teardown = new Teardown();
let aclRegistry: Registry;
let openRegistry: Registry;
let agent: AgentProcess;
let layout: OciLayout;
let privateLayer: { digest: string; size: number; head: Buffer };

beforeAll(async () => {
  const issuer = await startTokenIssuer({
    alice: { password: ALICE.password, repositories: { "private/*": ["pull", "push"] } },
    mallory: { password: MALLORY.password, repositories: { "mallory/*": ["pull", "push"] } },
  });
  teardown.add(() => issuer.stop());
  aclRegistry = await startRegistry({ configLines: issuer.registryConfigLines });
  teardown.add(() => aclRegistry.stop());
  openRegistry = await startRegistry();
  teardown.add(() => openRegistry.stop());
  const tracker = await startTrackerProcess(["--log-level", "info"]);
  teardown.add(() => tracker.stop());
  agent = await startAgent({
    upstreams: [`${ACL}=${aclRegistry.url}`, `${OPEN}=${openRegistry.url}`],
    args: ["--tracker", tracker.url, "--peer-token-file", tracker.tokenFile],
  });
  teardown.add(() => agent.stop());

  layout = await buildImage({ layers: [2_500_000, 300_000], seed: "private" });
  teardown.add(() => layout.remove());
  await pushImage(layout, aclRegistry, "private/app", "1", { creds: ALICE });
  const { digest, size } = layout.layers[0];
  // alice pulls through the agent: the private layers are now in its cache
  const pulled = await agentGet(`/v2/${ACL}/private/app/blobs/${digest}`, basic(ALICE));
  expect(pulled.status).toBe(200);
  privateLayer = { digest, size, head: pulled.body.subarray(0, 64) };
  await expect(agentGet(`/v2/${ACL}/private/app/manifests/1`, basic(ALICE))).resolves.toMatchObject({
    status: 200,
  });
});
afterAll(() => teardown.run());

function agentGet(path: string, authorization?: string, headers: Record<string, string> = {}) {
  return rawRequest(agent.url, path, {
    headers: { ...headers, ...(authorization ? { authorization } : {}) },
  });
}

/** A manifest mallory writes: her own config blob, no layers, the private layer as `subject`. */
async function craftSubjectManifest(writer: RegistryWriter, repo: string): Promise<object> {
  const config = await writer.pushBlob(repo, Buffer.from(`{"mallory":"${randomBytes(4).toString("hex")}"}`));
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config, size: 27 },
    layers: [],
    subject: { mediaType: OCI_MANIFEST, digest: privateLayer.digest, size: privateLayer.size },
    annotations: { "org.example.digest": privateLayer.digest },
  };
}

/** Every way mallory can ask the agent for the private layer through her own repository. */
async function expectNoRouteLeaks(registryName: string, repo: string, authorization?: string) {
  const blob = `blobs/${privateLayer.digest}`;
  const attempts = [
    { name: "rewrite GET", res: await agentGet(`/v2/${registryName}/${repo}/${blob}`, authorization) },
    {
      name: "rewrite GET with Range",
      res: await agentGet(`/v2/${registryName}/${repo}/${blob}`, authorization, { range: "bytes=0-99" }),
    },
    {
      name: "rewrite HEAD",
      res: await rawRequest(agent.url, `/v2/${registryName}/${repo}/${blob}`, {
        method: "HEAD",
        headers: authorization ? { authorization } : {},
      }),
    },
    { name: "mirror GET", res: await agentGet(`/v2/${repo}/${blob}?ns=${registryName}`, authorization) },
    {
      name: "mirror GET with Range",
      res: await agentGet(`/v2/${repo}/${blob}?ns=${registryName}`, authorization, { range: "bytes=10-" }),
    },
    {
      name: "peer API without the token",
      res: await rawRequest(agent.peerUrl, `/p2p/v1/blobs/${privateLayer.digest}/pieces/0`),
    },
  ];
  for (const { name, res } of attempts) {
    expect({ name, refused: [401, 403, 404].includes(res.status) }).toEqual({ name, refused: true });
    expect({ name, leaked: res.body.includes(privateLayer.head) }).toEqual({ name, leaked: false });
  }
}

it("a registry verifies an image manifest's layers on push: mallory cannot list the private layer", async () => {
  const writer = new RegistryWriter(aclRegistry.url, MALLORY);
  const config = await writer.pushBlob("mallory/app", Buffer.from("{}"));
  const put = await writer.putManifest(
    "mallory/app",
    "layers",
    {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config, size: 2 },
      layers: [
        { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...privateLayer, head: undefined },
      ],
    },
    OCI_MANIFEST,
  );
  expect(put.status).toBe(400);
  expect(put.body).toContain("MANIFEST_BLOB_UNKNOWN");
});

it("per-repository access control: a subject naming the private layer unlocks nothing", async () => {
  const writer = new RegistryWriter(aclRegistry.url, MALLORY);
  const manifest = await craftSubjectManifest(writer, "mallory/app");
  expect((await writer.putManifest("mallory/app", "evil", manifest, OCI_MANIFEST)).status).toBe(201);
  const pulled = await agentGet(`/v2/${ACL}/mallory/app/manifests/evil`, basic(MALLORY));
  expect(pulled.status).toBe(200);
  expect(pulled.body.toString()).toContain(privateLayer.digest);
  await expectNoRouteLeaks(ACL, "mallory/app", basic(MALLORY));
  // and mallory's credentials on alice's repository get nothing either
  const direct = await agentGet(`/v2/${ACL}/private/app/blobs/${privateLayer.digest}`, basic(MALLORY));
  expect([401, 403, 404]).toContain(direct.status);
  expect(direct.body.includes(privateLayer.head)).toBe(false);
});

it("an open registry: a subject naming the private layer unlocks nothing", async () => {
  const writer = new RegistryWriter(openRegistry.url);
  const manifest = await craftSubjectManifest(writer, "evil/app");
  expect((await writer.putManifest("evil/app", "1", manifest, OCI_MANIFEST)).status).toBe(201);
  expect((await agentGet(`/v2/${OPEN}/evil/app/manifests/1`)).status).toBe(200);
  await expectNoRouteLeaks(OPEN, "evil/app");
  await expectNoRouteLeaks(OPEN, "evil/app", basic(MALLORY));
});

it("a login against the agent is checked by the token issuer (a token for no repository)", async () => {
  expect((await agentGet(`/v2/?ns=${ACL}`, basic(MALLORY))).status).toBe(200);
  expect((await agentGet(`/v2/?ns=${ACL}`, basic({ ...MALLORY, password: "guess" }))).status).toBe(401);
});

it("alice still gets her layer from the cache, and the origin is not asked for its bytes again", async () => {
  const mark = await aclRegistry.mark();
  for (const path of [
    `/v2/${ACL}/private/app/blobs/${privateLayer.digest}`,
    `/v2/private/app/blobs/${privateLayer.digest}?ns=${ACL}`,
  ]) {
    const res = await agentGet(path, basic(ALICE));
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(privateLayer.size);
  }
  expect((await aclRegistry.blobGets(mark)).get(privateLayer.digest)).toBeUndefined();
});
