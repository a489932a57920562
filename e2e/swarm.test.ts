/**
 * The swarm with real parts on loopback: a docker-registry, the real tracker (tracker/src) and 3-4
 * agent processes with --tracker, pulling the same 2-layer image at once. The origin serves each
 * layer about once, the rest moves between peers; a peer serving corrupt pieces is banned; with the
 * tracker down every pull still completes from the origin.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest, Server } from "node:http";
import { AddressInfo, createServer as createNetServer, Socket } from "node:net";
import { join } from "node:path";
import pino from "pino";
import { buildImage, OciLayout, pushImage } from "../hack/testenv/oci-image";
import { freePort, tempDir, removeDir, Teardown, waitFor } from "../hack/testenv/processes";
import { Registry, startRegistry } from "../hack/testenv/registry";
import { AGENT_BIN, AgentProcess, startAgent } from "../hack/testenv/agent";
import { createTracker, Tracker } from "../tracker/src/tracker";
import { rendezvousPick } from "../agent/src/swarm/tracker-shards";
import { SHA256_HEX } from "../protocol/digest";
import { explained } from "./support/explained";

jest.setTimeout(180_000);

const UPSTREAM = "registry.test";
const TOKEN = "swarm-test-token-0123456789";
const LAYER_BYTES = 9 * 1024 * 1024;
const teardown = new Teardown();
let registry: Registry;
let layout: OciLayout;
let tokenFile: string;

beforeAll(async () => {
  registry = await startRegistry();
  teardown.add(() => registry.stop());
  layout = await buildImage({ layers: [LAYER_BYTES, LAYER_BYTES + 123_457] });
  teardown.add(() => layout.remove());
  await pushImage(layout, registry, "app", "1");
  const dir = await tempDir("swarm-token");
  teardown.add(() => removeDir(dir));
  tokenFile = join(dir, "token");
  await writeFile(tokenFile, TOKEN + "\n");
});
afterAll(() => teardown.run());

async function startTracker(leaseTimeoutMs = 5_000): Promise<{ tracker: Tracker; url: string }> {
  const tracker = createTracker({
    token: TOKEN,
    log: pino({ level: "silent" }),
    peerTtlMs: 60_000,
    leaseTimeoutMs,
    leecherTtlMs: leaseTimeoutMs,
    maxOriginStreams: 4,
    announceIntervalMs: 15_000,
    maxPeers: 100,
    defaultMetrics: false,
  });
  const address = await tracker.listen("127.0.0.1", 0);
  return { tracker, url: `http://127.0.0.1:${address.port}` };
}

async function swarmAgent(
  trackerUrl: string,
  extra: string[] = [],
  cacheDir?: string,
): Promise<AgentProcess> {
  const agent = await startAgent({
    upstreams: [`${UPSTREAM}=${registry.url}`],
    cacheDir,
    args: ["--tracker", trackerUrl, "--peer-token-file", tokenFile, "--stall-timeout", "5s", ...extra],
  });
  teardown.add(() => agent.stop());
  return agent;
}

async function pullDigest(agent: AgentProcess, digest: string): Promise<string> {
  const res = await fetch(`${agent.url}/v2/${UPSTREAM}/app/blobs/${digest}`);
  expect(res.status).toBe(200);
  const hash = createHash("sha256");
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
  return "sha256:" + hash.digest("hex");
}

/** Every agent fetches every layer at the same moment; resolves with the digests they received. */
async function herd(agents: AgentProcess[]): Promise<string[][]> {
  return Promise.all(agents.map(agent => Promise.all(layout.layers.map(l => pullDigest(agent, l.digest)))));
}

const layerDigests = () => layout.layers.map(l => l.digest);
const totalLayerBytes = () => layout.layers.reduce((sum, l) => sum + l.size, 0);

/** Digests of the blobs in an agent's cache, each re-hashed from its file. */
async function cachedDigests(agent: AgentProcess): Promise<string[]> {
  const dir = join(agent.cacheDir, "blobs", "sha256");
  const out: string[] = [];
  for (const name of (await readdir(dir)).filter(n => SHA256_HEX.test(n))) {
    const hex = createHash("sha256")
      .update(await readFile(join(dir, name)))
      .digest("hex");
    expect(hex).toBe(name);
    out.push(`sha256:${hex}`);
  }
  return out.sort();
}

async function originBytesOf(agents: AgentProcess[]): Promise<number> {
  let sum = 0;
  for (const agent of agents) sum += await agent.metric("peerpull_origin_bytes_total");
  return sum;
}

/** What an agent has fetched so far for its pulls, from the origin and from peers. */
async function bytesIn(agent: AgentProcess): Promise<number> {
  return (
    (await agent.metric("peerpull_origin_bytes_total")) +
    (await agent.metric("peerpull_peer_download_bytes_total"))
  );
}

/** Waits until every agent has fetched at least `bytes` (the swarm is moving, observably). */
function fetchedAtLeast(agents: AgentProcess[], bytes: number, what: string): Promise<true> {
  return waitFor(
    what,
    async () => ((await Promise.all(agents.map(bytesIn))).every(b => b >= bytes) ? true : undefined),
    { timeoutMs: 60_000 },
  );
}

const MiB = 1024 * 1024;

it("four agents pulling at once: exact bytes, each layer served by the registry about once, the rest from peers", async () => {
  const { tracker, url } = await startTracker();
  teardown.add(() => tracker.close(100));
  const agents = await Promise.all([0, 1, 2, 3].map(() => swarmAgent(url)));
  const mark = await registry.mark();

  const got = await herd(agents);

  for (const digests of got) expect(digests).toEqual(layerDigests());
  const gets = await registry.blobGets(mark);
  let registryBytes = 0;
  for (const layer of layout.layers) {
    const served = gets.get(layer.digest)?.bytes ?? 0;
    registryBytes += served;
    expect(served).toBeGreaterThanOrEqual(layer.size);
    expect(served).toBeLessThanOrEqual(layer.size * 1.25);
  }
  const peerBytes = await Promise.all(agents.map(a => a.metric("peerpull_peer_download_bytes_total")));
  const uploaded = await Promise.all(agents.map(a => a.metric("peerpull_peer_upload_bytes_total")));
  const origin = await originBytesOf(agents);
  const fallbacks = await Promise.all(agents.map(a => a.metric("peerpull_fallback_total")));
  const pushesTaken = await Promise.all(
    agents.map(a => a.metric("peerpull_have_pushes_total", { result: "received" })),
  );
  // What the clients got, by source: every byte counted once, the peer share matching the swarm.
  const delivered = await Promise.all(
    agents.map(async a => ({
      peer: await a.metric("peerpull_blob_bytes_total", { source: "peer" }),
      origin: await a.metric("peerpull_blob_bytes_total", { source: "origin" }),
    })),
  );
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const layerBytes = totalLayerBytes();
  const measured = { layerBytes, registryBytes, origin, peerBytes, uploaded, delivered, pushesTaken };
  await explained(measured, () => {
    expect(origin).toBe(registryBytes);
    expect(sum(peerBytes)).toBeGreaterThanOrEqual(2 * totalLayerBytes());
    expect(sum(uploaded)).toBeGreaterThanOrEqual(sum(peerBytes));
    expect(fallbacks).toEqual(agents.map(() => 0));
    expect(sum(pushesTaken)).toBeGreaterThan(0); // members told each other of new pieces
    for (const d of delivered) expect(d.peer + d.origin).toBe(totalLayerBytes());
    expect(sum(delivered.map(d => d.peer))).toBeGreaterThanOrEqual(2 * totalLayerBytes());
    expect(sum(delivered.map(d => d.origin))).toBeLessThanOrEqual(registryBytes + 16); // rounding per split
  });
});

it("rolling joins (each agent joins once the one before has its first MiB; 12 MiB/s each): the registry still serves each layer once", async () => {
  const { tracker, url } = await startTracker();
  teardown.add(() => tracker.close(100));
  const agents = await Promise.all([0, 1, 2, 3].map(() => swarmAgent(url, ["--ratelimit", "12M"])));
  const mark = await registry.mark();
  const pulls: Promise<string[][]>[] = [];
  for (const [i, agent] of agents.entries()) {
    pulls.push(herd([agent]));
    if (i < agents.length - 1) await fetchedAtLeast([agent], MiB, `agent ${i + 1}'s first MiB`);
  }
  for (const [digests] of await Promise.all(pulls)) expect(digests).toEqual(layerDigests());
  const gets = await registry.blobGets(mark);
  const served = layout.layers.map(l => gets.get(l.digest)?.bytes ?? 0);
  await explained({ layerBytes: layout.layers.map(l => l.size), served }, () =>
    layout.layers.forEach((layer, i) => expect(served[i]).toBeLessThanOrEqual(layer.size * 1.05)),
  );
});

/**
 * Forwards to a peer port (set later through `forwardTo`: the proxy's port is advertised by the
 * agent it fronts) and flips one byte in every piece body.
 */
async function startCorruptingProxy(): Promise<{
  server: Server;
  port: number;
  forwardTo(url: string): void;
}> {
  let target = "";
  const server = createServer((req, res) => {
    if (!target) return void res.writeHead(503).end();
    const upstream = httpRequest(`${target}${req.url}`, { headers: req.headers }, up => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      let first = true;
      up.on("data", (chunk: Buffer) => {
        if (first && req.url?.includes("/pieces/")) chunk[0] ^= 0xff;
        first = false;
        res.write(chunk);
      });
      up.on("end", () => res.end());
      up.on("error", () => res.destroy());
    });
    upstream.on("error", () => res.destroy());
    upstream.end();
  });
  server.listen(0, "127.0.0.1");
  await new Promise(resolve => server.once("listening", resolve));
  return { server, port: (server.address() as AddressInfo).port, forwardTo: url => (target = url) };
}

it("a peer serving corrupt pieces is banned and the pulls still complete with the exact bytes", async () => {
  const { tracker, url } = await startTracker();
  teardown.add(() => tracker.close(100));
  const proxy = await startCorruptingProxy();
  teardown.add(() => new Promise<void>(resolve => proxy.server.close(() => resolve())));
  const bad = await swarmAgent(url, ["--peer-advertise", `127.0.0.1:${proxy.port}`]);
  // The bad peer holds the whole image first, so the others can only get pieces from it (or the origin).
  expect(await herd([bad])).toEqual([layerDigests()]);
  proxy.forwardTo(bad.peerUrl);

  const good = await Promise.all([swarmAgent(url), swarmAgent(url)]);
  const got = await herd(good);

  for (const digests of got) expect(digests).toEqual(layerDigests());
  const failures = await Promise.all(good.map(a => a.metric("peerpull_piece_verify_failures_total")));
  expect(failures.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  const bans = await Promise.all(
    good.map(a => a.metric("peerpull_peer_bans_total", { reason: "bad-piece" })),
  );
  expect(bans.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
});

it("a silent peer (accepts, never answers) is dropped and the pulls complete", async () => {
  const { tracker, url } = await startTracker();
  teardown.add(() => tracker.close(100));
  const sockets = new Set<Socket>();
  const silent = createNetServer(socket => sockets.add(socket));
  silent.listen(0, "127.0.0.1");
  await new Promise(resolve => silent.once("listening", resolve));
  teardown.add(
    () =>
      new Promise<void>(resolve => {
        for (const socket of sockets) socket.destroy();
        silent.close(() => resolve());
      }),
  );
  const port = (silent.address() as AddressInfo).port;
  const seeder = await swarmAgent(url, ["--peer-advertise", `127.0.0.1:${port}`]);
  expect(await herd([seeder])).toEqual([layerDigests()]);

  const started = Date.now();
  const got = await herd(await Promise.all([swarmAgent(url), swarmAgent(url)]));
  for (const digests of got) expect(digests).toEqual(layerDigests());
  expect(Date.now() - started).toBeLessThan(60_000);
});

it("two tracker replicas: each layer's swarm lives on the replica its digest hashes to", async () => {
  const replicas = [await startTracker(), await startTracker()];
  for (const r of replicas) teardown.add(() => r.tracker.close(100));
  const urls = replicas.map(r => r.url).join(",");
  const agents = await Promise.all([0, 1, 2].map(() => swarmAgent(urls)));
  const mark = await registry.mark();
  for (const digests of await herd(agents)) expect(digests).toEqual(layerDigests());
  const gets = await registry.blobGets(mark);
  for (const layer of layout.layers) {
    expect(gets.get(layer.digest)?.bytes ?? 0).toBeLessThanOrEqual(layer.size * 1.25);
    const home = rendezvousPick(
      replicas.map(r => r.url),
      layer.digest,
    );
    expect(replicas[home].tracker.store.get(layer.digest)?.members.size).toBe(3);
    expect(replicas[1 - home].tracker.store.get(layer.digest)).toBeUndefined();
  }
});

it("with the tracker down from the start, every pull completes from the origin", async () => {
  const deadTracker = `http://127.0.0.1:${await freePort()}`;
  const agents = await Promise.all([0, 1, 2].map(() => swarmAgent(deadTracker)));
  const got = await herd(agents);
  for (const digests of got) expect(digests).toEqual(layerDigests());
  for (const agent of agents)
    expect(await agent.metric("peerpull_fallback_total", { reason: "tracker" })).toBe(layout.layers.length);
});

it("a restarted agent re-announces its cache: a new node gets every layer from it, none from the origin", async () => {
  const { tracker, url } = await startTracker();
  teardown.add(() => tracker.close(100));
  const cacheDir = await tempDir("swarm-seed-cache");
  teardown.add(() => removeDir(cacheDir));
  const first = await swarmAgent(url, [], cacheDir);
  expect(await herd([first])).toEqual([layerDigests()]);
  await first.stop();
  await swarmAgent(url, [], cacheDir); // announces the cached layers on start, after hashing them
  // Its announces may land after a newcomer's, which would then rightly get origin leases.
  await waitFor(
    "the restarted agent seeding every layer",
    async () => (layerDigests().every(digest => isSeeded(tracker, digest)) ? true : undefined),
    { timeoutMs: 30_000 },
  );
  const mark = await registry.mark();
  const newcomer = await swarmAgent(url);
  expect(await herd([newcomer])).toEqual([layerDigests()]);
  const gets = await registry.blobGets(mark);
  for (const digest of layerDigests()) expect(gets.get(digest)).toBeUndefined();
  expect(await newcomer.metric("peerpull_peer_download_bytes_total")).toBe(totalLayerBytes());
});

/** A complete member holds `digest` at the tracker, and every piece's hash is known there. */
function isSeeded(tracker: Tracker, digest: string): boolean {
  const swarm = tracker.store.get(digest);
  if (!swarm || ![...swarm.members.values()].some(member => member.complete)) return false;
  return Array.from({ length: swarm.pieceCount }, (_, index) => index).every(index =>
    swarm.proofs.isKnown(index),
  );
}

describe("faults mid-swarm (node rate limit 6 MiB/s so the herd takes a few seconds)", () => {
  const slow = ["--ratelimit", "6M"];

  it("the lease holder (first to join) killed mid-transfer: the others end with the exact bytes, caches clean", async () => {
    // The tracker forgets the dead holder once it is silent for the lease timeout (2 s): the pieces
    // only it had stop counting as held and are leased to the survivors. No survivor waits for the
    // stall timeout.
    const { tracker, url } = await startTracker(2_000);
    teardown.add(() => tracker.close(100));
    const agents = await Promise.all([0, 1, 2, 3].map(() => swarmAgent(url, slow)));
    const [victim, ...rest] = agents;
    const doomed = herd([victim]).then(
      () => "completed",
      () => "cut short",
    );
    await fetchedAtLeast([victim], MiB, "the lease holder's first MiB");
    const pulls = herd(rest);
    await fetchedAtLeast(rest, 1, "every other agent fetching");
    // Mid-transfer: 2 MiB short of the end, at 6 MiB/s, the victim cannot finish before the kill.
    const fetched = await bytesIn(victim);
    expect(fetched).toBeLessThan(totalLayerBytes() - 2 * MiB);
    await victim.crash();
    expect(await doomed).toBe("cut short");
    for (const digests of await pulls) expect(digests).toEqual(layerDigests());
    for (const agent of rest) {
      const samples = await agent.metrics();
      const stalls = samples.filter(s => s.name === "peerpull_fallback_total" && s.labels.reason === "stall");
      expect(stalls.map(s => s.value)).toEqual([0]); // the series exists from the start, at 0
    }
    // The client's last byte goes out once the digest matches; the cache file lands right after.
    const want = [...layerDigests()].sort();
    for (const agent of rest) {
      const cached = await waitFor("both layers in the cache", async () => {
        const digests = await cachedDigests(agent);
        return digests.length === want.length ? digests : undefined;
      });
      expect(cached).toEqual(want);
    }
  });

  it("the tracker killed mid-swarm: every pull completes with the exact bytes", async () => {
    const { tracker, url } = await startTracker();
    const agents = await Promise.all([0, 1, 2].map(() => swarmAgent(url, slow)));
    const pulls = herd(agents);
    await fetchedAtLeast(agents, 1, "every agent fetching");
    const fetched = await Promise.all(agents.map(bytesIn));
    expect(Math.max(...fetched)).toBeLessThan(totalLayerBytes() - 2 * MiB); // mid-swarm: none is done
    await tracker.close(0);
    for (const digests of await pulls) expect(digests).toEqual(layerDigests());
  });
});

it("--tracker without a usable peer token file is a config error (exit 2)", async () => {
  const dir = await tempDir("swarm-badtoken");
  teardown.add(() => removeDir(dir));
  const short = join(dir, "short");
  await writeFile(short, "too-short\n");
  const cases = [[], ["--peer-token-file", short], ["--peer-token-file", join(dir, "missing")]];
  for (const extra of cases) {
    const result = spawnSync(
      process.execPath,
      [
        AGENT_BIN,
        "--upstream",
        "registry.test=http://127.0.0.1:9",
        "--tracker",
        "http://127.0.0.1:9",
        "--cache-dir",
        dir,
        ...extra,
      ],
      { encoding: "utf8", timeout: 15_000 },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--peer-token-file");
  }
});
