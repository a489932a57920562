/**
 * Authorization state stays bounded however many credentials and manifests pass through. Two
 * floods, each on a fresh agent, each must keep its peak RSS under the 150 MiB memory target:
 * one 1.3 MB image manifest listing 10,000 layers fetched by 400 different credentials (too large
 * to grant anything), and a 500-layer manifest fetched by 400 credentials (200,000 would-be grants
 * for an LRU of 20,000: the newest stay, the oldest cost a HEAD again). The 10,000 layers are laid
 * out in the real registry's filesystem storage (pushing them one by one would take minutes); the
 * registry still verifies every one when the manifest is put.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { peakRss, resetPeakRss } from "../hack/bench/measure";
import { AgentProcess, startAgent } from "../hack/testenv/agent";
import { Teardown } from "../hack/testenv/processes";
import { Registry, startRegistry } from "../hack/testenv/registry";
import { RegistryWriter } from "./support/registry-writer";

jest.setTimeout(180_000);

const UPSTREAM = "open.test";
const REPO = "flood/app";
const LAYERS = 10_000;
const CREDENTIALS = 400;
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const MiB = 1024 * 1024;
const teardown = new Teardown();
let registry: Registry;
let layers: { mediaType: string; digest: string; size: number }[];

beforeAll(async () => {
  registry = await startRegistry();
  teardown.add(() => registry.stop());
  const writer = new RegistryWriter(registry.url);
  const config = await writer.pushBlob(REPO, Buffer.from("{}"));
  layers = [];
  for (let i = 0; i < LAYERS; i++)
    layers.push({
      mediaType: "application/vnd.oci.image.layer.v1.tar",
      digest: await layBlob(randomBytes(16)),
      size: 16,
    });
  const manifest = (count: number) => ({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config, size: 2 },
    layers: layers.slice(0, count),
  });
  expect(Buffer.byteLength(JSON.stringify(manifest(LAYERS)))).toBeGreaterThan(MiB);
  expect(await writer.putManifest(REPO, "huge", manifest(LAYERS), OCI_MANIFEST)).toMatchObject({
    status: 201,
  });
  expect(await writer.putManifest(REPO, "granting", manifest(500), OCI_MANIFEST)).toMatchObject({
    status: 201,
  });
});
afterAll(() => teardown.run());

/** Writes a blob and its link into distribution's filesystem layout, as a push would leave them. */
async function layBlob(bytes: Buffer): Promise<string> {
  const hex = createHash("sha256").update(bytes).digest("hex");
  const root = join(registry.storageDir, "docker", "registry", "v2");
  const blobDir = join(root, "blobs", "sha256", hex.slice(0, 2), hex);
  const linkDir = join(root, "repositories", REPO, "_layers", "sha256", hex);
  await mkdir(blobDir, { recursive: true });
  await writeFile(join(blobDir, "data"), bytes);
  await mkdir(linkDir, { recursive: true });
  await writeFile(join(linkDir, "link"), `sha256:${hex}`);
  return `sha256:${hex}`;
}

const credential = (n: number) => "Basic " + Buffer.from(`user${n}:pw${n}`).toString("base64");

async function freshAgent(): Promise<AgentProcess> {
  const agent = await startAgent({
    upstreams: [`${UPSTREAM}=${registry.url}`],
    args: ["--log-level", "info"],
  });
  teardown.add(() => agent.stop());
  return agent;
}

/** Every credential fetches the manifest (8 at a time); resolves with the agent's peak RSS in MiB. */
async function flood(agent: AgentProcess, tag: string): Promise<number> {
  await resetPeakRss(agent.process.pid);
  let next = 0;
  const worker = async () => {
    while (next < CREDENTIALS) {
      const res = await fetch(`${agent.url}/v2/${UPSTREAM}/${REPO}/manifests/${tag}`, {
        headers: { authorization: credential(next++), accept: OCI_MANIFEST },
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return (await peakRss(agent.process.pid)) / MiB;
}

/** HEADs the origin saw while `credential` fetched `digest` through the agent. */
async function headsFor(agent: AgentProcess, n: number, digest: string): Promise<number> {
  const mark = await registry.mark();
  const res = await fetch(`${agent.url}/v2/${UPSTREAM}/${REPO}/blobs/${digest}`, {
    headers: { authorization: credential(n) },
  });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return (await registry.accessLog(mark)).filter(e => e.method === "HEAD").length;
}

it("400 credentials x a 1.3 MB, 10,000-layer manifest: under 150 MiB, and it grants nothing", async () => {
  const agent = await freshAgent();
  expect(await flood(agent, "huge")).toBeLessThan(150);
  expect(await headsFor(agent, CREDENTIALS - 1, layers[9_999].digest)).toBe(1);
});

it("400 credentials x a 500-layer manifest: under 150 MiB; the newest grants stay, the oldest are gone", async () => {
  const agent = await freshAgent();
  expect(await flood(agent, "granting")).toBeLessThan(150);
  expect(await headsFor(agent, CREDENTIALS - 1, layers[1].digest)).toBe(0);
  expect(await headsFor(agent, 0, layers[1].digest)).toBe(1);
});
