/**
 * The origin client against real HTTP servers on port 0: an origin that fails, cuts blob streams,
 * ignores Range, and one that uses the Docker token dance.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";
import { parseAuthorization } from "../credentials/client-credentials";
import { UpstreamStatusError } from "./errors";
import { UpstreamClient } from "./upstream-client";

const blob = randomBytes(3 * 1024 * 1024 + 17);
const digest = "sha256:" + createHash("sha256").update(blob).digest("hex");
const basic = (u: string, p: string) =>
  parseAuthorization("Basic " + Buffer.from(`${u}:${p}`).toString("base64"))!;
const anonymous = parseAuthorization(undefined)!;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Server[] = [];

async function serve(handler: Handler): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function sendBlob(req: IncomingMessage, res: ServerResponse, cutAfter?: number): void {
  const match = /bytes=(\d+)-/.exec(req.headers.range ?? "");
  const start = match ? Number(match[1]) : 0;
  const body = blob.subarray(start);
  res.writeHead(match ? 206 : 200, {
    "content-length": body.length,
    ...(match ? { "content-range": `bytes ${start}-${blob.length - 1}/${blob.length}` } : {}),
  });
  if (cutAfter === undefined) return void res.end(body);
  res.write(body.subarray(0, cutAfter), () => res.destroy());
}

async function collect(iter: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of iter) chunks.push(chunk);
  return Buffer.concat(chunks);
}

let client: UpstreamClient;
beforeEach(() => {
  client = new UpstreamClient({ timeoutMs: 5000, retries: 3, backoffBaseMs: 5 });
});
afterEach(async () => {
  await client.close();
  await Promise.all(servers.splice(0).map(s => new Promise(resolve => s.close(resolve))));
});

it("retries 5xx and resumes a cut blob stream with Range, delivering exact bytes", async () => {
  const seen: string[] = [];
  let calls = 0;
  const origin = await serve((req, res) => {
    calls++;
    seen.push(req.headers.range ?? "none");
    if (calls === 1) return void res.writeHead(503).end();
    sendBlob(req, res, calls < 4 ? 1024 * 1024 : undefined);
  });
  const got = await collect(client.blob({ host: "o", origin }, "app", digest, anonymous));
  expect(got.equals(blob)).toBe(true);
  expect(seen[0]).toBe("none");
  expect(seen.slice(2).every(r => r.startsWith("bytes="))).toBe(true);
});

it("resumes a stream that goes silent past idleTimeoutMs from the last byte received", async () => {
  const seen: string[] = [];
  const stalled: ServerResponse[] = [];
  const origin = await serve((req, res) => {
    seen.push(req.headers.range ?? "none");
    if (seen.length > 1) return sendBlob(req, res);
    res.writeHead(206, { "content-length": blob.length - 1 });
    res.write(blob.subarray(1, 1 + 700_000)); // then silence, the connection left open
    stalled.push(res);
  });
  // The client's own timeout is longer than the test's: only the per-request one can end the wait.
  const patient = new UpstreamClient({ timeoutMs: 120_000, retries: 3, backoffBaseMs: 5 });
  const span = { offset: 1, end: blob.length - 1, idleTimeoutMs: 300 };
  const got = await collect(patient.blob({ host: "o", origin }, "app", digest, anonymous, span)).finally(() =>
    patient.close(),
  );
  expect(got.equals(blob.subarray(1))).toBe(true);
  expect(seen).toEqual([`bytes=1-${blob.length - 1}`, `bytes=700001-${blob.length - 1}`]);
  stalled.forEach(res => res.destroy());
});

it("skips already-received bytes when the origin ignores Range", async () => {
  let calls = 0;
  const origin = await serve((req, res) => {
    calls++;
    res.writeHead(200, { "content-length": blob.length });
    if (calls === 1) res.write(blob.subarray(0, 500_000), () => res.destroy());
    else res.end(blob);
  });
  const got = await collect(client.blob({ host: "o", origin }, "app", digest, anonymous));
  expect(got.equals(blob)).toBe(true);
});

it("gives up after the retry budget with the origin's error", async () => {
  const origin = await serve((_req, res) => void res.writeHead(502).end());
  await expect(collect(client.blob({ host: "o", origin }, "app", digest, anonymous))).rejects.toBeInstanceOf(
    UpstreamStatusError,
  );
});

describe("one retry budget per call (retries 4: at most 5 requests, never a loop inside a loop)", () => {
  const RETRIES = 4;
  let counted: UpstreamClient;
  let requests: number;
  beforeEach(() => {
    counted = new UpstreamClient({ timeoutMs: 5000, retries: RETRIES, backoffBaseMs: 1 });
    requests = 0;
  });
  afterEach(() => counted.close());

  const failures: { name: string; answer: (req: IncomingMessage, res: ServerResponse) => void }[] = [
    { name: "a persistent 503", answer: (_req, res) => void res.writeHead(503).end() },
    { name: "a stream cut every time", answer: (req, res) => sendBlob(req, res, 1000) },
    {
      name: "503s and cut streams in turn",
      answer: (req, res) => (requests % 2 ? res.writeHead(503).end() : sendBlob(req, res, 1000)),
    },
  ];

  it.each(failures)("blob(): $name", async ({ answer }) => {
    const origin = await serve((req, res) => {
      requests++;
      answer(req, res);
    });
    await expect(collect(counted.blob({ host: "o", origin }, "app", digest, anonymous))).rejects.toThrow();
    expect(requests).toBe(RETRIES + 1);
  });

  it.each([
    {
      name: "headBlob()",
      call: (up: { host: string; origin: string }) => counted.headBlob(up, "app", digest, anonymous),
    },
    {
      name: "manifest()",
      call: (up: { host: string; origin: string }) => counted.manifest(up, "app", "1", anonymous, "GET"),
    },
  ])("$name: a persistent 503", async ({ call }) => {
    const origin = await serve((_req, res) => {
      requests++;
      res.writeHead(503).end();
    });
    await expect(call({ host: "o", origin })).rejects.toMatchObject({ statusCode: 503 });
    expect(requests).toBe(RETRIES + 1);
  });
});

it("does not retry a 404", async () => {
  let calls = 0;
  const origin = await serve((_req, res) => {
    calls++;
    res.writeHead(404).end();
  });
  await expect(client.headBlob({ host: "o", origin }, "app", digest, anonymous)).rejects.toMatchObject({
    statusCode: 404,
  });
  expect(calls).toBe(1);
});

describe("token auth", () => {
  let tokenRequests: string[];
  let origin: string;
  beforeEach(async () => {
    tokenRequests = [];
    const tokenServer = await serve((req, res) => {
      tokenRequests.push(req.url!);
      if (req.headers.authorization !== "Basic " + Buffer.from("alice:pw").toString("base64"))
        return void res.writeHead(401).end();
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ token: "tok-alice", expires_in: 300 }));
    });
    origin = await serve((req, res) => {
      if (req.headers.authorization !== "Bearer tok-alice") {
        res.writeHead(401, {
          "www-authenticate": `Bearer realm="${tokenServer}/token",service="reg",scope="repository:app:pull"`,
        });
        return void res.end();
      }
      res.writeHead(200, { "content-length": blob.length }).end();
    });
  });

  it("exchanges Basic credentials for a token once and reuses it", async () => {
    const up = { host: "o", origin };
    expect(await client.headBlob(up, "app", digest, basic("alice", "pw"))).toBe(blob.length);
    expect(await client.headBlob(up, "app", digest, basic("alice", "pw"))).toBe(blob.length);
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]).toContain("scope=repository%3Aapp%3Apull");
    expect(tokenRequests[0]).toContain("service=reg");
  });

  it("reports 401 for wrong credentials and for none", async () => {
    const up = { host: "o", origin };
    await expect(client.headBlob(up, "app", digest, basic("alice", "nope"))).rejects.toMatchObject({
      statusCode: 401,
    });
    await expect(client.headBlob(up, "app", digest, anonymous)).rejects.toMatchObject({ statusCode: 401 });
  });
});
