/**
 * The conflicts probe against real HTTP servers on loopback, one "node" per 127.0.0.x address on the
 * same port (as agents on the host network of different nodes): answers, a silent agent (timeout),
 * a wrong or oversized body, an agent not in mirror mode, not-ready pods skipped, bounded
 * concurrency, answers kept for the max age, and a deadline per read.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { MAX_BODY_BYTES } from "../../protocol/mirror-conflicts";
import { AgentConflictsProbe } from "./agent-conflicts";
import type { AgentPod } from "./cluster";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const json =
  (body: unknown): Handler =>
  (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
const conflict = (registry: string) => ({
  registry,
  path: `/etc/containerd/certs.d/${registry}/hosts.toml`,
  reason: "hosts.toml not written by peerpull-agent",
});

let port = 0;
const servers: Server[] = [];
const hits = new Map<string, number>();
let inFlight = 0;
let maxInFlight = 0;

async function agentAt(ip: string, handler: Handler): Promise<void> {
  const server = createServer((req, res) => {
    hits.set(ip, (hits.get(ip) ?? 0) + 1);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on("close", () => (inFlight -= 1));
    if (req.url !== "/mirror/conflicts") return void res.writeHead(404).end();
    handler(req, res);
  });
  server.listen(port, ip);
  await new Promise(resolve => server.once("listening", resolve));
  port = (server.address() as AddressInfo).port;
  servers.push(server);
}

const pod = (n: number, ready = true): AgentPod => ({
  name: `peerpull-agent-${n}`,
  node: `node-${n}`,
  ip: `127.0.0.${n}`,
  ready,
});

beforeAll(async () => {
  await agentAt("127.0.0.1", json({ mirror: true, conflicts: [conflict("docker.io")] }));
  await agentAt("127.0.0.2", json({ mirror: true, conflicts: [] }));
  await agentAt("127.0.0.3", () => undefined); // silent
  await agentAt("127.0.0.4", json({ mirror: true, conflicts: "nope" }));
  await agentAt("127.0.0.5", json({ mirror: false, conflicts: [] }));
  await agentAt("127.0.0.6", (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(`{"mirror":true,"conflicts":[],"pad":"${"x".repeat(MAX_BODY_BYTES)}"}`);
  });
  for (let n = 7; n <= 30; n++)
    await agentAt(`127.0.0.${n}`, (_req, res) =>
      setTimeout(json({ mirror: true, conflicts: [conflict(`r${n}.test`)] }), 20, _req, res),
    );
});
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise(resolve => server.close(resolve));
  }
});
beforeEach(() => {
  hits.clear();
  maxInFlight = 0;
});

describe("AgentConflictsProbe", () => {
  it("collects conflicts per node and says which agents did not answer usably, and why", async () => {
    const probe = new AgentConflictsProbe({ port, timeoutMs: 500 });
    const reading = await probe.read([1, 2, 3, 4, 5, 6].map(n => pod(n)).concat(pod(9, false)));
    expect(reading.agents).toBe(6);
    expect(reading.answered).toBe(2);
    expect(reading.conflicts).toEqual([
      { node: "node-1", registry: "docker.io", reason: "hosts.toml not written by peerpull-agent" },
    ]);
    const why = Object.fromEntries(reading.failed.map(f => [f.node, f.error]));
    expect(why["node-3"]).toMatch(/timeout|aborted/i);
    expect(why["node-4"]).toContain("conflicts: not an array");
    expect(why["node-5"]).toContain("not in mirror mode");
    expect(why["node-6"]).toContain(`larger than ${MAX_BODY_BYTES}`);
    expect(hits.has("127.0.0.9")).toBe(false); // not ready: not asked
  });

  it("asks at most `concurrency` agents at once, and keeps answers for the max age", async () => {
    let now = 1_000_000;
    const probe = new AgentConflictsProbe({ port, concurrency: 4, maxAgeMs: 60_000, now: () => now });
    const pods = Array.from({ length: 24 }, (_, i) => pod(i + 7));
    const first = await probe.read(pods);
    expect(first.answered).toBe(24);
    expect(first.conflicts).toHaveLength(24);
    expect(maxInFlight).toBeLessThanOrEqual(4);
    expect(maxInFlight).toBeGreaterThan(1);
    hits.clear();
    now += 59_000;
    expect((await probe.read(pods)).conflicts).toHaveLength(24);
    expect(hits.size).toBe(0);
    now += 1_000;
    await probe.read(pods.slice(0, 2)); // and pods gone are forgotten
    expect([...hits.keys()].sort()).toEqual(["127.0.0.7", "127.0.0.8"]);
  });

  it("stops starting requests at the deadline; the rest are asked on a later read", async () => {
    let now = 0;
    const probe = new AgentConflictsProbe({
      port,
      concurrency: 1,
      deadlineMs: 3,
      now: () => now++, // each look at the clock is 1 ms later
    });
    const pods = Array.from({ length: 10 }, (_, i) => pod(i + 7));
    const first = await probe.read(pods);
    expect(first.answered).toBeGreaterThan(0);
    expect(first.answered).toBeLessThan(10);
    expect(first.failed).toEqual([]);
    let total = first.answered;
    for (let i = 0; i < 10 && total < 10; i++) total = (await probe.read(pods)).answered;
    expect(total).toBe(10);
  });
});
