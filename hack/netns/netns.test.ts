// The netns harness against the real kernel: connectivity through the bridge, tbf shaping, teardown.
// Needs root and iproute2; reports itself skipped by name otherwise (and fails under CI=true as root).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { run, tempDir, removeDir, waitFor } from "../testenv/processes";
import { buildImage } from "../testenv/oci-image";
import { describeWith, NETNS_NEEDS } from "../../e2e/support/prerequisites";
import { startSwarmCluster } from "./cluster";
import {
  createNetwork,
  destroyRun,
  httpIn,
  listRunNamespaces,
  newRunId,
  waitForHttpIn,
  type NetnsNetwork,
} from "./netns";

const MiB = 1024 * 1024;
const SERVER = `
const http = require("node:http");
http.createServer((req, res) => {
  const n = Number(new URL(req.url, "http://x").searchParams.get("bytes") ?? 0);
  res.writeHead(200, { "content-length": n });
  res.end(Buffer.alloc(n, 7));
}).listen(8080, process.argv[1]);
`;

async function rootLinksMentioning(runId: string): Promise<string[]> {
  const { stdout } = await run("ip", ["-o", "link"]);
  return stdout.split("\n").filter(line => line.includes(runId));
}

describeWith(NETNS_NEEDS, "netns network", () => {
  let network: NetnsNetwork;
  let dir: string;

  beforeAll(async () => {
    dir = await tempDir("netns-test");
    network = await createNetwork({ nodes: 3 });
  });
  afterAll(async () => {
    await network?.destroy();
    await removeDir(dir);
  });

  it("names every namespace pp-<runId>- and puts nothing in the root namespace", async () => {
    expect(await listRunNamespaces(network.runId)).toHaveLength(6); // br, reg, trk, n1..n3
    expect(network.nodes.map(n => n.ns)).toEqual([1, 2, 3].map(i => `pp-${network.runId}-n${i}`));
    expect(network.subnet).toMatch(/^10\.231\.\d{1,3}\.0\/24$/);
    expect(await rootLinksMentioning(network.runId)).toEqual([]);
  });

  it("carries HTTP between node namespaces through the bridge", async () => {
    const [n1, n2, n3] = network.nodes;
    const server = await network.spawnIn(n1.ns, process.execPath, ["-e", SERVER, n1.ip], {
      logPath: join(dir, "server.log"),
    });
    await waitForHttpIn(network, n2.ns, `http://${n1.ip}:8080/?bytes=1`, {
      statuses: [200],
      process: server,
    });
    for (const client of [n2, n3]) {
      const reply = await httpIn(network, client.ns, `http://${n1.ip}:8080/?bytes=1000`);
      expect(reply).toMatchObject({ status: 200, bytes: 1000 });
    }
    // Loopback is up in each namespace, and the bridge is the only way out.
    const tcp = await network
      .exec(n2.ns, "bash", ["-c", `exec 3<>/dev/tcp/${n3.ip}/1 || echo refused`])
      .catch(e => e);
    expect(String(tcp.stdout ?? "") + String(tcp.message ?? "")).toMatch(/refused/i);
    await server.stop();
  });

  it("shapes a node's upload with tbf: a shaped transfer is much slower than an unshaped one", async () => {
    const [n1, n2] = network.nodes;
    const server = await network.spawnIn(n1.ns, process.execPath, ["-e", SERVER, n1.ip], {
      logPath: join(dir, "server2.log"),
    });
    const url = `http://${n1.ip}:8080/?bytes=${4 * MiB}`;
    await waitForHttpIn(network, n2.ns, url, { statuses: [200], process: server });
    const fast = await httpIn(network, n2.ns, url);
    await network.shape(n1, { rateBits: 16e6 });
    const slow = await httpIn(network, n2.ns, url, { timeoutMs: 30_000 });
    const qdisc = await network.exec(n1.ns, "tc", ["qdisc", "show", "dev", n1.dev]);
    expect(qdisc.stdout).toMatch(/tbf .*rate 16Mbit/);
    expect([fast.bytes, slow.bytes]).toEqual([4 * MiB, 4 * MiB]);
    expect(slow.seconds).toBeGreaterThan(2 * fast.seconds);
    // 4 MiB at 16 Mbit/s is ~2.1 s; allow for the burst and timer slack.
    expect(slow.seconds).toBeGreaterThan(1);
    await server.stop();
  });
});

describeWith(NETNS_NEEDS, "netns teardown", () => {
  it("removes every namespace of a run, and cleans up after a failed create", async () => {
    const network = await createNetwork({ nodes: 2 });
    await network.destroy();
    expect(await listRunNamespaces(network.runId)).toEqual([]);

    // A namespace in the way makes create fail halfway; it must remove what it made and only that.
    const runId = newRunId();
    const squatter = `pp-${runId}-n2`;
    await run("ip", ["netns", "add", squatter]);
    try {
      await expect(createNetwork({ nodes: 3, runId })).rejects.toThrow(/n2/);
      expect(await listRunNamespaces(runId)).toEqual([squatter]);
    } finally {
      await run("ip", ["netns", "del", squatter]);
    }
    expect(await listRunNamespaces(runId)).toEqual([]);
  });

  it("down by run id removes namespaces and the processes left in them", async () => {
    const dir = await tempDir("netns-down");
    const network = await createNetwork({ nodes: 1 });
    const sleeper = await network.spawnIn(network.nodes[0].ns, "sleep", ["300"], {
      logPath: join(dir, "sleep.log"),
    });
    const removed = await destroyRun(network.runId);
    expect(removed).toHaveLength(4);
    await waitFor("sleeper to end", async () => (sleeper.hasExited() ? true : undefined), {
      timeoutMs: 5000,
    });
    expect(await listRunNamespaces(network.runId)).toEqual([]);
    await removeDir(dir);
  });
});

describeWith(NETNS_NEEDS, "startSwarmCluster without agents (registry + tracker)", () => {
  it("serves the registry and the token-guarded tracker to node namespaces, then tears down", async () => {
    const cluster = await startSwarmCluster({ nodes: 2, agents: false, shapeMbit: 200 });
    try {
      const n1 = cluster.network.nodes[0];
      expect(await httpIn(cluster.network, n1.ns, `${cluster.registry.url}/v2/`)).toMatchObject({
        status: 200,
      });
      const announce = `${cluster.tracker.url}/v1/announce`;
      const body = JSON.stringify({
        digest: "sha256:" + "ab".repeat(32),
        size: 4 * 1024 * 1024,
        pieceSize: 1024 * 1024,
        peerId: "n1",
        address: `${n1.ip}:65002`,
        have: "AA==",
      });
      const post = (headers: Record<string, string>) =>
        cluster.network.exec(n1.ns, "curl", [
          "-sS",
          "-w",
          "\n%{http_code}",
          "-H",
          "content-type: application/json",
          ...Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]),
          "--data",
          body,
          announce,
        ]);
      expect((await post({})).stdout).toMatch(/\n401$/);
      const ok = await post({ authorization: `Bearer ${cluster.token}` });
      expect(ok.stdout).toMatch(/\n200$/);
      expect(JSON.parse(ok.stdout.split("\n")[0])).toMatchObject({
        leases: [{ start: 0, end: 4, fetchEnd: 2 }],
      });
      const metrics = await httpIn(cluster.network, n1.ns, `${cluster.tracker.url}/metrics`, {
        keepBody: true,
      });
      expect(metrics.body).toMatch(/^peerpull_tracker_peers 1$/m);
      expect(await cluster.registry.blobGets()).toEqual(new Map());
    } finally {
      await cluster.stop();
    }
    expect(await listRunNamespaces(cluster.network.runId)).toEqual([]);
    expect(existsSync(cluster.dir)).toBe(false);
  });
});

describeWith(NETNS_NEEDS, "startSwarmCluster with the built agent", () => {
  it("starts one agent per node namespace, reachable from the other nodes, serving the pushed image", async () => {
    const cluster = await startSwarmCluster({ nodes: 2 });
    const image = await buildImage({ layers: [64 * 1024], seed: "netns" });
    try {
      await cluster.pushImage(image, "team/app", "v1");
      const [n1, n2] = cluster.network.nodes;
      expect(cluster.agents.map(a => a.node.ns)).toEqual([n1.ns, n2.ns]);
      // The peer port answers across the bridge; the registry API answers on the node itself.
      expect(await httpIn(cluster.network, n1.ns, `${cluster.agents[1].peerUrl}/readyz`)).toMatchObject({
        status: 200,
      });
      const layer = image.layers[0];
      const url = `${cluster.agents[0].url}/v2/${cluster.registry.host}/team/app/blobs/${layer.digest}`;
      await httpIn(
        cluster.network,
        n1.ns,
        `${cluster.agents[0].url}/v2/${cluster.registry.host}/team/app/manifests/v1`,
      );
      const blob = await httpIn(cluster.network, n1.ns, url);
      expect(blob).toMatchObject({ status: 200, bytes: layer.size });
      expect((await cluster.registry.blobGets()).get(layer.digest)?.gets).toBe(1);
    } finally {
      await image.remove();
      await cluster.stop();
    }
    expect(await listRunNamespaces(cluster.network.runId)).toEqual([]);
  });
});
