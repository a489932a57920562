/**
 * Clients that open connections and never finish a request cannot hold the agent's sockets or its
 * file descriptors: idle and slowly dripping connections are closed within the headers timeout,
 * and with a low open-file limit a flood of them on the registry port leaves /healthz answering.
 */
import { connect, Socket } from "node:net";
import { AgentProcess, startAgent } from "../hack/testenv/agent";
import { Teardown, waitFor } from "../hack/testenv/processes";
import { Registry, startRegistry } from "../hack/testenv/registry";
import { HEADERS_TIMEOUT_MS } from "../agent/src/http/server-limits";

jest.setTimeout(90_000);

const teardown = new Teardown();
let registry: Registry;
let agent: AgentProcess;

beforeAll(async () => {
  registry = await startRegistry();
  teardown.add(() => registry.stop());
  agent = await startAgent({ upstreams: [`registry.test=${registry.url}`], fileLimit: 256 });
  teardown.add(() => agent.stop());
});
afterAll(() => teardown.run());

interface Tracked {
  socket: Socket;
  closedAt?: number;
}

function open(port: number, onConnect?: (socket: Socket) => void): Tracked {
  const socket = connect(port, "127.0.0.1", () => onConnect?.(socket));
  const tracked: Tracked = { socket };
  socket.on("error", () => undefined);
  socket.on("data", () => undefined);
  socket.on("close", () => (tracked.closedAt = Date.now()));
  teardown.add(async () => {
    socket.destroy();
  });
  return tracked;
}

it("closes idle and dripping connections, and /healthz answers through a flood of them", async () => {
  const port = Number(agent.host.split(":")[1]);
  const started = Date.now();
  const drip = open(port, socket => {
    socket.write("GET /v2/ HTTP/1.1\r\n");
    const timer = setInterval(() => socket.writable && socket.write("X-Slow: 1\r\n"), 2_000);
    socket.on("close", () => clearInterval(timer));
  });
  await waitFor("drip connected", async () => (drip.socket.connecting ? undefined : true), {
    timeoutMs: 5_000,
  });
  const idle = Array.from({ length: 300 }, () => open(port));
  await waitFor(
    "connections opened",
    async () => (idle.every(t => t.socket.connecting === false) ? true : undefined),
    {
      timeoutMs: 10_000,
    },
  );
  const health = await fetch(`${agent.peerUrl}/healthz`);
  expect(health.status).toBe(200);

  const bound = HEADERS_TIMEOUT_MS + 5_000;
  await waitFor(
    "every idle and dripping connection closed by the agent",
    async () => ([...idle, drip].every(t => t.closedAt !== undefined) ? true : undefined),
    { timeoutMs: bound + 5_000 },
  );
  const latest = Math.max(...[...idle, drip].map(t => t.closedAt! - started));
  expect(latest).toBeLessThan(bound);
  expect(drip.closedAt! - started).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 1_000);

  // and the agent serves normally afterwards
  expect((await fetch(`${agent.url}/v2/`, { headers: { authorization: "Basic Og==" } })).status).toBe(200);
  expect((await fetch(`${agent.peerUrl}/healthz`)).status).toBe(200);
  expect(agent.process.hasExited()).toBe(false);
});
