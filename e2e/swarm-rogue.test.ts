/**
 * A rogue swarm member (it has the peer token) reports false piece hashes for a blob as a seeder,
 * gets them signed, and serves pieces that match them with those proofs. Every piece then passes
 * its piece check, so only the whole-blob digest can catch it: the first pull must fail without a corrupt blob reaching the cache, and the agent
 * must then fetch that digest from the origin. Real registry, real tracker, real agent; the rogue is
 * this test speaking the tracker and peer APIs.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createServer, Server } from "node:http";
import { AddressInfo } from "node:net";
import { join } from "node:path";
import pino from "pino";
import { Bitfield, pieceCount, pieceSpan, sha256Hex } from "../protocol/pieces";
import { startAgent } from "../hack/testenv/agent";
import { buildImage, OciLayout, pushImage } from "../hack/testenv/oci-image";
import { removeDir, tempDir, Teardown } from "../hack/testenv/processes";
import { Registry, startRegistry } from "../hack/testenv/registry";
import { createTracker } from "../tracker/src/tracker";

jest.setTimeout(120_000);

const UPSTREAM = "registry.test";
const TOKEN = "rogue-test-token-0123456789";
const PIECE = 1024 * 1024;
const teardown = new Teardown();
let registry: Registry;
let layout: OciLayout;
let tokenFile: string;
let trackerUrl: string;

beforeAll(async () => {
  registry = await startRegistry();
  teardown.add(() => registry.stop());
  layout = await buildImage({ layers: [3 * PIECE + 4321] });
  teardown.add(() => layout.remove());
  await pushImage(layout, registry, "app", "1");
  const dir = await tempDir("rogue-token");
  teardown.add(() => removeDir(dir));
  tokenFile = join(dir, "token");
  await writeFile(tokenFile, TOKEN + "\n");
  const tracker = createTracker({
    token: TOKEN,
    log: pino({ level: "silent" }),
    peerTtlMs: 60_000,
    leaseTimeoutMs: 5_000,
    maxOriginStreams: 4,
    announceIntervalMs: 15_000,
    maxPeers: 100,
    defaultMetrics: false,
  });
  teardown.add(() => tracker.close(100));
  const address = await tracker.listen("127.0.0.1", 0);
  trackerUrl = `http://127.0.0.1:${address.port}`;
});
afterAll(() => teardown.run());

/** Serves forged pieces of `digest` on the peer API and announces them, with their hashes, as a seeder. */
async function startRogue(digest: string, size: number): Promise<Server> {
  const forged = randomBytes(size);
  const pieceOf = (i: number) => {
    const span = pieceSpan(i, size, PIECE);
    return forged.subarray(span.start, span.end + 1);
  };
  // The tracker signs the rogue's false hashes (a seeder may report a blob's first hashes), so the
  // rogue can serve forged pieces with proofs that verify.
  let proofs: Record<number, string> = {};
  let trackerKey = "";
  const server = createServer((req, res) => {
    const match = /\/pieces\/(\d+)$/.exec(req.url ?? "");
    if (req.headers.authorization !== `Bearer ${TOKEN}` || !match) return res.writeHead(404).end();
    const index = Number(match[1]);
    res
      .writeHead(200, {
        "content-length": pieceOf(index).length,
        "x-peerpull-piece-hash": sha256Hex(pieceOf(index)),
        "x-peerpull-piece-proof": proofs[index],
        "x-peerpull-tracker-key": trackerKey,
      })
      .end(pieceOf(index));
  });
  server.listen(0, "127.0.0.1");
  await new Promise(resolve => server.once("listening", resolve));
  teardown.add(() => new Promise<void>(resolve => server.close(() => resolve())));
  const count = pieceCount(size, PIECE);
  const hashes = Object.fromEntries(Array.from({ length: count }, (_, i) => [i, sha256Hex(pieceOf(i))]));
  const res = await fetch(`${trackerUrl}/v1/announce`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({
      digest,
      size,
      pieceSize: PIECE,
      peerId: "rogue",
      address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
      have: Bitfield.full(count).encode(),
      pieceHashes: hashes,
      complete: true,
      wantLease: false,
      releaseLease: false,
    }),
  });
  expect(res.status).toBe(200);
  ({ proofs, trackerKey } = (await res.json()) as { proofs: Record<number, string>; trackerKey: string });
  expect(Object.keys(proofs)).toHaveLength(count);
  return server;
}

/** The body's sha256 and length; a cut stream counts as what arrived before the cut. */
async function pull(url: string): Promise<{ status: number; digest: string; bytes: number; cut: boolean }> {
  const res = await fetch(url);
  const hash = createHash("sha256");
  let bytes = 0;
  let cut = false;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      bytes += chunk.length;
    }
  } catch {
    cut = true;
  }
  return { status: res.status, digest: "sha256:" + hash.digest("hex"), bytes, cut };
}

describe("a member reporting false piece hashes", () => {
  it("fails the first pull without caching anything, then serves the digest from the origin", async () => {
    const layer = layout.layers[0];
    await startRogue(layer.digest, layer.size);
    const agent = await startAgent({
      upstreams: [`${UPSTREAM}=${registry.url}`],
      args: ["--tracker", trackerUrl, "--peer-token-file", tokenFile, "--stall-timeout", "5s"],
    });
    teardown.add(() => agent.stop());
    const url = `${agent.url}/v2/${UPSTREAM}/app/blobs/${layer.digest}`;

    const first = await pull(url);
    expect(first.digest).not.toBe(layer.digest);
    expect(first.cut || first.bytes < layer.size).toBe(true);
    expect(await agent.metric("peerpull_fallback_total", { reason: "digest" })).toBe(1);
    expect(existsSync(join(agent.cacheDir, "blobs", "sha256", layer.digest.slice(7)))).toBe(false);

    const mark = await registry.mark();
    const second = await pull(url);
    expect(second).toMatchObject({ status: 200, digest: layer.digest, bytes: layer.size, cut: false });
    expect((await registry.blobGets(mark)).get(layer.digest)?.bytes).toBe(layer.size);
  });
});
