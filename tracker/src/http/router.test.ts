// The real tracker server on port 0: auth, input errors, size limit, round trip, metrics, restart.
import http from "node:http";
import pino from "pino";
import { publicKeyFromWire, verifyProof } from "../../../protocol/piece-proof";
import { AnnounceResponse, decodeAnnounceResponse, encodeBitfield } from "../../../protocol/tracker-api";
import { createTracker, Tracker } from "../tracker";

const TOKEN = "test-token-0123456789abcdef";
const DIGEST = "sha256:" + "cd".repeat(32);
const HASH = "ee".repeat(32);

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: () => unknown;
}

function request(
  port: number,
  method: string,
  path: string,
  opts: { token?: string; body?: string | Buffer; headers?: http.OutgoingHttpHeaders; from?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { "content-type": "application/json", ...opts.headers };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    const target = {
      host: "127.0.0.1",
      port,
      method,
      path,
      headers,
      timeout: 10_000,
      localAddress: opts.from,
    };
    const req = http.request(target, res => {
      const chunks: Buffer[] = [];
      res.on("data", c => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

function announceBody(peerId: string, haveBits: number[], extra: object = {}): string {
  const have = new Uint8Array(2); // 10 pieces of 100 bytes
  for (const i of haveBits) have[i >> 3] |= 0x80 >> (i & 7);
  return JSON.stringify({
    digest: DIGEST,
    size: 1000,
    pieceSize: 100,
    peerId,
    address: `127.0.0.${peerId.length}:65002`,
    have: encodeBitfield(have),
    ...extra,
  });
}

async function announce(port: number, body: string): Promise<AnnounceResponse> {
  const reply = await request(port, "POST", "/v1/announce", { token: TOKEN, body });
  expect(reply.status).toBe(200);
  return decodeAnnounceResponse(reply.json());
}

function metricValue(text: string, name: string): number | undefined {
  const line = text.split("\n").find(l => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

function start(): { tracker: Tracker; ready: Promise<number> } {
  const tracker = createTracker({
    token: TOKEN,
    log: pino({ level: "silent" }),
    peerTtlMs: 60_000,
    leaseTimeoutMs: 15_000,
    maxOriginStreams: 2,
    announceIntervalMs: 10_000,
    maxPeers: 50,
    minPieceSize: 100,
  });
  return { tracker, ready: tracker.listen("127.0.0.1", 0).then(a => a.port) };
}

describe("tracker HTTP API", () => {
  let tracker: Tracker;
  let port: number;

  beforeEach(async () => {
    const started = start();
    tracker = started.tracker;
    port = await started.ready;
  });
  afterEach(() => tracker.close(1000));

  it("answers health and metrics without a token", async () => {
    expect((await request(port, "GET", "/healthz")).status).toBe(200);
    expect((await request(port, "GET", "/readyz")).status).toBe(200);
    const metrics = await request(port, "GET", "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain("peerpull_tracker_swarms 0");
  });

  it.each([
    { name: "no token", token: undefined },
    { name: "wrong token", token: "wrong-token-0123456789abcdef" },
    { name: "token prefix", token: TOKEN.slice(0, -1) },
  ])("401 with $name", async ({ token }) => {
    const reply = await request(port, "POST", "/v1/announce", { token, body: announceBody("a", []) });
    expect(reply.status).toBe(401);
    expect(reply.json()).toEqual({
      error: { code: "UNAUTHORIZED", message: expect.stringContaining("Bearer") },
    });
    expect(reply.headers["www-authenticate"]).toMatch(/^Bearer/);
  });

  it("401 before 404 for unknown routes", async () => {
    expect((await request(port, "GET", "/v1/swarms")).status).toBe(401);
    expect((await request(port, "GET", "/v1/swarms", { token: TOKEN })).status).toBe(404);
    expect((await request(port, "GET", "/v1/announce", { token: TOKEN })).status).toBe(405);
  });

  it.each([
    { name: "invalid JSON", body: "{", reason: /^body: invalid JSON/ },
    { name: "bad digest", body: announceBody("a", [], { digest: "sha256:xyz" }), reason: /^digest:/ },
    {
      name: "bitfield length",
      body: announceBody("a", [], { have: "AA==" }),
      reason: /^have: expected 2 bytes/,
    },
    { name: "unknown field", body: announceBody("a", [], { evil: true }), reason: /^evil: unknown field/ },
  ])("400 with the reason: $name", async ({ body, reason }) => {
    const reply = await request(port, "POST", "/v1/announce", { token: TOKEN, body });
    expect(reply.status).toBe(400);
    const error = (reply.json() as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.message).toMatch(reason);
  });

  it("415 on a non-JSON content type", async () => {
    const reply = await request(port, "POST", "/v1/announce", {
      token: TOKEN,
      body: announceBody("a", []),
      headers: { "content-type": "text/plain" },
    });
    expect(reply.status).toBe(415);
  });

  it("413 on a body over 1 MiB, declared or streamed", async () => {
    const huge = Buffer.alloc(1024 * 1024 + 1, 0x20);
    const declared = await request(port, "POST", "/v1/announce", { token: TOKEN, body: huge });
    expect(declared.status).toBe(413);
    expect((declared.json() as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
    const streamed = await request(port, "POST", "/v1/announce", {
      token: TOKEN,
      body: huge,
      headers: { "transfer-encoding": "chunked" },
    }).catch(err => ({ status: -1, error: err }));
    // The server may close while the client still sends; either way it never accepts the body.
    expect([413, -1]).toContain(streamed.status);
  });

  it("409 when a swarm member announces another size for the digest", async () => {
    await announce(port, announceBody("a", []));
    const reply = await request(port, "POST", "/v1/announce", {
      token: TOKEN,
      body: announceBody("bb", [], { size: 999 }),
    });
    expect(reply.status).toBe(409);
  });

  it("round-trips announces: peers, proofs, leases, piece size", async () => {
    const first = await announce(port, announceBody("a", [0], { pieceHashes: { "0": HASH } }));
    expect(first).toMatchObject({
      pieceSize: 100,
      pieceCount: 10,
      peers: [],
      leases: [{ start: 1, end: 10, fetchEnd: 3 }],
    });
    // no lease covered piece 0: the first report is signed, and the proof verifies
    const key = publicKeyFromWire(first.trackerKey);
    const signature = Buffer.from(first.proofs[0], "base64");
    expect(verifyProof(key, { digest: DIGEST, pieceSize: 100, index: 0, hashHex: HASH, signature })).toBe(
      true,
    );
    // a's lease covers piece 1: another member's hash for it is not signed, a's is
    const racer = await announce(port, announceBody("zz", [1], { pieceHashes: { "1": "ab".repeat(32) } }));
    expect(racer.proofs).toEqual({});
    const holder = await announce(port, announceBody("a", [0, 1], { pieceHashes: { "1": HASH } }));
    expect(Object.keys(holder.proofs)).toEqual(["1"]);
    await request(port, "POST", "/v1/leave", { token: TOKEN, body: JSON.stringify({ peerId: "zz" }) });
    const second = await announce(port, announceBody("bb", []));
    expect(second.peers).toEqual([
      { peerId: "a", address: "127.0.0.1:65002", have: "wAA=", complete: false },
    ]);
    expect(second.leases).toEqual([{ start: 6, end: 10, fetchEnd: 8 }]);
    const third = await announce(port, announceBody("ccc", []));
    expect(third.leases).toEqual([]); // maxOriginStreams = 2
    // a holds something ccc lacks; bb holds nothing, and fills the sample after it (a HAVE push target)
    expect(third.peers.map(p => p.peerId)).toEqual(["a", "bb"]);
    const mismatch = await announce(port, announceBody("dddd", [], { pieceSize: 50, have: "AAAA" }));
    expect(mismatch.pieceSize).toBe(100);
    expect(mismatch.leases).toEqual([]);

    const left = await request(port, "POST", "/v1/leave", {
      token: TOKEN,
      body: JSON.stringify({ peerId: "a" }),
    });
    expect(left.json()).toEqual({ ok: true, removed: 1 });
    const afterLeave = await announce(port, announceBody("ccc", []));
    expect(afterLeave.peers.map(p => p.peerId)).toEqual(["bb"]); // a is gone; bb, holding nothing, fills
    expect(afterLeave.leases).toEqual([{ start: 0, end: 6, fetchEnd: 2 }]); // a left: its lease and pieces are free
  });

  it("binds a peer id to the address it announces from: no one else may announce or leave as it", async () => {
    await announce(port, announceBody("a", [0]));
    for (const path of ["/v1/announce", "/v1/leave"]) {
      const body = path === "/v1/leave" ? JSON.stringify({ peerId: "a" }) : announceBody("a", []);
      const hijack = await request(port, "POST", path, { token: TOKEN, body, from: "127.0.0.66" });
      expect(hijack.status).toBe(403);
      expect(hijack.json()).toMatchObject({ error: { code: "FORBIDDEN" } });
    }
    const still = await announce(port, announceBody("bb", []));
    expect(still.peers).toEqual([expect.objectContaining({ peerId: "a", have: "gAA=" })]);
  });

  it("fixes the piece size by the blob size: a member cannot choose it", async () => {
    const chosen = await announce(port, announceBody("a", [], { size: 1000, pieceSize: 1000, have: "gA==" }));
    expect(chosen).toMatchObject({ pieceSize: 100, pieceCount: 10, leases: [], peers: [] });
    const text = (await request(port, "GET", "/metrics")).text;
    expect(text).toMatch(/^peerpull_tracker_swarms 0$/m);
  });

  it("counts swarms, peers, announces and leases", async () => {
    await announce(port, announceBody("a", []));
    await announce(port, announceBody("bb", []));
    await request(port, "POST", "/v1/announce", { token: TOKEN, body: "{" });
    const text = (await request(port, "GET", "/metrics")).text;
    expect(text).toMatch(/^peerpull_tracker_swarms 1$/m);
    expect(text).toMatch(/^peerpull_tracker_peers 2$/m);
    expect(text).toMatch(/^peerpull_tracker_announces_total\{result="ok"\} 2$/m);
    expect(text).toMatch(/^peerpull_tracker_announces_total\{result="BAD_REQUEST"\} 1$/m);
    expect(text).toMatch(/^peerpull_tracker_leases_total\{event="granted"\} 2$/m);
    expect(text).toMatch(/^peerpull_tracker_leases_total\{event="split"\} 1$/m);
    expect(text).toMatch(/^peerpull_tracker_leases_total\{event="expired"\} 0$/m);
    expect(text).toMatch(/^peerpull_tracker_leases 2$/m);
    // One swarm of 1000 bytes started (by "a"); "bb" joined it.
    expect(text).toMatch(/^peerpull_tracker_swarm_blob_bytes_total 1000$/m);
  });

  it("rebuilds its state from announces after a restart", async () => {
    await announce(port, announceBody("a", [0, 1, 2], { pieceHashes: { "1": HASH } }));
    await announce(port, announceBody("bb", [5]));
    await tracker.close(1000);

    const restarted = start();
    tracker = restarted.tracker;
    port = await restarted.ready;
    const empty = (await request(port, "GET", "/metrics")).text;
    expect(empty).toMatch(/^peerpull_tracker_peers 0$/m);

    // Each agent re-announces on its heartbeat with what it holds.
    await announce(port, announceBody("a", [0, 1, 2], { pieceHashes: { "1": HASH } }));
    const rebuilt = await announce(port, announceBody("bb", [5]));
    expect(rebuilt.peers).toEqual([expect.objectContaining({ peerId: "a", have: "4AA=" })]);
    expect(rebuilt.swarmCopies).toBe(4);
    const text = (await request(port, "GET", "/metrics")).text;
    expect(text).toMatch(/^peerpull_tracker_peers 2$/m);
    expect(metricValue(text, "peerpull_tracker_swarms")).toBe(1);
  });
});
