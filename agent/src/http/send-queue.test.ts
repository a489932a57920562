/** The peer port's send-queue cap on real TCP sockets of this kernel. */
import { once } from "node:events";
import { createServer, Socket, connect, type AddressInfo } from "node:net";
import pino from "pino";
import { Registry } from "prom-client";
import { createPeerServer } from "./peer-server";
import { itWith, Needs } from "../../../e2e/support/prerequisites";
import { loadSendQueueTuning, NOTSENT_LOWAT_BYTES } from "./send-queue";

const tuning = loadSendQueueTuning();
/** The cap is a Linux socket option set through the sockopt addon that `npm ci` compiles. */
const LINUX: Needs = {
  check: () => (process.platform === "linux" ? undefined : "TCP_NOTSENT_LOWAT is Linux-only"),
};
const ADDON: Needs = {
  check: () =>
    LINUX.check?.() ?? (tuning.unavailable && `the sockopt addon is unavailable: ${tuning.unavailable}`),
};

async function accepted(
  server: ReturnType<typeof createServer>,
): Promise<{ client: Socket; socket: Socket }> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const socketP = once(server, "connection") as Promise<[Socket]>;
  const client = connect(port, "127.0.0.1");
  const [socket] = await socketP;
  return { client, socket };
}

describe("send queue cap", () => {
  itWith(LINUX, "loads on Linux (CI builds the sockopt addon at npm ci)", () => {
    expect(tuning.unavailable).toBeUndefined();
  });

  it("caps every peer-port connection", async () => {
    const server = createPeerServer({
      metricsRegistry: new Registry(),
      isReady: () => true,
      log: pino({ level: "silent" }),
      sendQueue: tuning,
    });
    const { client, socket } = await accepted(server);
    try {
      await new Promise(resolve => setImmediate(resolve));
      if (tuning.unavailable) expect(tuning.read(socket)).toBeUndefined();
      else expect(tuning.read(socket)).toBe(NOTSENT_LOWAT_BYTES);
    } finally {
      client.destroy();
      server.closeAllConnections();
      server.close();
    }
  });

  itWith(
    ADDON,
    "holds a big write in user space while the receiver does not read, instead of in the kernel",
    async () => {
      const results: number[] = [];
      for (const capped of [false, true]) {
        const server = createServer();
        const { client, socket } = await accepted(server);
        try {
          client.pause(); // the receiver reads nothing: only the kernel's buffers can take bytes
          if (capped) expect(tuning.limit(socket)).toBe(true);
          const chunk = Buffer.alloc(64 * 1024);
          for (let i = 0; i < 128; i++) socket.write(chunk); // 8 MiB in chunks the kernel takes one by one
          await new Promise(resolve => setTimeout(resolve, 200));
          results.push(socket.writableLength); // what the kernel refused, still queued in Node
        } finally {
          client.destroy();
          socket.destroy();
          server.close();
        }
      }
      const [uncapped, capped] = results;
      // Without the cap the kernel's autotuned buffers take megabytes the receiver never read; with it,
      // about the receive window plus the cap.
      expect(capped - uncapped).toBeGreaterThan(1024 * 1024);
    },
  );

  it("a closed socket is not an error", async () => {
    const server = createServer();
    const { client, socket } = await accepted(server);
    client.destroy();
    socket.destroy();
    server.close();
    expect(tuning.limit(socket)).toBe(false);
  });
});
