import { createHash, randomBytes } from "node:crypto";
import { createServer, IncomingHttpHeaders, Server } from "node:http";
import { AddressInfo } from "node:net";
import { startThrottleProxy, ThrottleProxy } from "./throttle-proxy";

const BODY = randomBytes(200_000);
const DIGEST = "sha256:" + createHash("sha256").update(BODY).digest("hex");
let origin: Server;
let originUrl: string;
let seen: IncomingHttpHeaders[] = [];
let proxy: ThrottleProxy;

beforeAll(async () => {
  origin = createServer((req, res) => {
    seen.push(req.headers);
    if (req.url === "/missing") return void res.writeHead(404, { "content-type": "text/plain" }).end("nope");
    res.writeHead(200, { "content-length": BODY.length, "docker-content-digest": DIGEST });
    res.end(BODY);
  });
  await new Promise<void>(resolve => origin.listen(0, "127.0.0.1", resolve));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  proxy = await startThrottleProxy(originUrl, 1_000_000);
});
afterAll(async () => {
  await proxy.stop();
  await new Promise(resolve => origin.close(resolve));
});
beforeEach(() => (seen = []));

it("passes status, headers and body through unchanged, and request headers to the origin", async () => {
  const res = await fetch(`${proxy.url}/v2/demo/app/blobs/${DIGEST}`, {
    headers: { range: "bytes=0-", authorization: "Basic eDp5" },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("docker-content-digest")).toBe(DIGEST);
  expect(Buffer.from(await res.arrayBuffer()).equals(BODY)).toBe(true);
  expect(seen[0]).toMatchObject({
    range: "bytes=0-",
    authorization: "Basic eDp5",
    host: new URL(originUrl).host,
  });
});

it("passes error answers through", async () => {
  const res = await fetch(`${proxy.url}/missing`);
  expect(res.status).toBe(404);
  expect(await res.text()).toBe("nope");
});

it("never sends faster than its rate (a lower bound on time, which load can only raise)", async () => {
  const started = performance.now();
  await Promise.all([1, 2].map(async () => (await fetch(`${proxy.url}/blob`)).arrayBuffer()));
  // 400 kB at 1 MB/s: at least 0.4 s less one 20 ms burst
  expect(performance.now() - started).toBeGreaterThanOrEqual(380);
});

it("answers 502 when the origin is gone", async () => {
  const dead = await startThrottleProxy("http://127.0.0.1:1", 1_000_000);
  try {
    expect((await fetch(`${dead.url}/v2/`)).status).toBe(502);
  } finally {
    await dead.stop();
  }
});
