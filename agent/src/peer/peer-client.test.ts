/**
 * PeerClient against a real HTTP server on port 0 that answers like a peer would (the bytes with the
 * proof and HAVE headers of protocol/peer-wire.ts), including slowly (a piece trickling in small
 * writes, its last bytes after a pause) and on one reused connection: the kernel is asked to gather
 * bytes before waking the reader, and that must never hold back a piece's last bytes or the next
 * answer on the same connection.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { PEER_HEADERS } from "../../../protocol/peer-wire";
import { PeerBusyError, PeerClient, PeerMissingError, PeerUnavailableError } from "./peer-client";
import { loadReceiveLowat, RCVLOWAT_CAP, ReceiveLowat } from "./receive-lowat";

const TOKEN = "peer-client-test-token";
const DIGEST = `sha256:${"ab".repeat(32)}`;
const pieces = [randomBytes(1024 * 1024), randomBytes(10), randomBytes(300_000)];
const PROOF = { hashHex: "cd".repeat(32), signature: "c2lnbmF0dXJl", trackerKey: "a2V5" };
const HAVE = "4A==";
let server: Server;
let address: string;
const connections = new Set<unknown>();
let seenAsker: unknown[] = [];
let seenAuth: string | undefined;
let seenPush: unknown[] = [];

/**
 * What the server does: "slow" trickles the piece, "busy" answers 503, "missing" 404, "long"/"short"
 * send more or fewer bytes than the piece has, "bare" sends the piece without its proof.
 */
let mode: "normal" | "slow" | "busy" | "missing" | "long" | "short" | "bare" = "normal";

function pieceHeaders(length: number): Record<string, string | number> {
  return {
    "content-length": length,
    [PEER_HEADERS.have]: HAVE,
    ...(mode === "bare"
      ? {}
      : {
          [PEER_HEADERS.pieceHash]: PROOF.hashHex,
          [PEER_HEADERS.proof]: PROOF.signature,
          [PEER_HEADERS.trackerKey]: PROOF.trackerKey,
        }),
  };
}

async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
  seenAuth = req.headers.authorization;
  seenAsker = [PEER_HEADERS.peerId, PEER_HEADERS.peerAddress, PEER_HEADERS.have].map(h => req.headers[h]);
  connections.add(req.socket);
  if (req.url?.endsWith("/have")) {
    seenPush = [req.method, req.url];
    if (mode === "busy") return void res.writeHead(500, { "content-length": 0 }).end();
    return void res.writeHead(204).end();
  }
  const body = pieces[Number(/pieces\/(\d+)$/.exec(req.url ?? "")?.[1])];
  if (mode === "busy")
    return void res.writeHead(503, { "content-length": 5, [PEER_HEADERS.have]: HAVE }).end("busy\n");
  if (mode === "missing")
    return void res.writeHead(404, { "content-length": 0, [PEER_HEADERS.have]: HAVE }).end();
  if (mode === "long")
    return void res.writeHead(200, pieceHeaders(body.length + 5)).end(Buffer.concat([body, Buffer.alloc(5)]));
  res.writeHead(200, pieceHeaders(body.length));
  if (mode === "short") {
    res.write(body.subarray(0, body.length - 1));
    return void res.destroy();
  }
  if (mode !== "slow") return void res.end(body);
  // 4 KiB writes, then the last 100 bytes after a pause
  for (let at = 0; at < body.length - 100; at += 4096) {
    res.write(body.subarray(at, Math.min(at + 4096, body.length - 100)));
    await new Promise(resolve => setImmediate(resolve));
  }
  await new Promise(resolve => setTimeout(resolve, 300));
  res.end(body.subarray(body.length - 100));
}

/** The real setter, recording every mark asked for and the sockets it was asked on. */
function watchedLowat(): ReceiveLowat & { marks: number[]; sockets: Set<Socket> } {
  const real = loadReceiveLowat();
  const marks: number[] = [];
  const sockets = new Set<Socket>();
  return {
    unavailable: real.unavailable,
    marks,
    sockets,
    set(socket, bytes) {
      marks.push(bytes);
      sockets.add(socket);
      real.set(socket, bytes);
    },
    read: socket => real.read(socket),
  };
}

beforeAll(async () => {
  server = createServer((req, res) => void answer(req, res));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise(resolve => server.close(resolve)));
beforeEach(() => {
  mode = "normal";
  connections.clear();
});

it("gets exact bytes, the proof and HAVE with the peer token, and the next answer on the same connection", async () => {
  const client = new PeerClient({ token: TOKEN, timeoutMs: 10_000 });
  try {
    for (const index of [0, 1, 2, 0]) {
      const got = await client.piece(address, DIGEST, index, pieces[index].length);
      expect(got.data.equals(pieces[index])).toBe(true);
      expect(got.proof).toEqual(PROOF);
      expect(got.have).toBe(HAVE);
    }
    expect(seenAuth).toBe(`Bearer ${TOKEN}`);
    expect(connections.size).toBe(1); // one kept-alive connection, answers never held back
  } finally {
    await client.close();
  }
});

it("sends this node's own id, address and HAVE with a request when given them", async () => {
  const client = new PeerClient({ token: TOKEN, timeoutMs: 10_000 });
  try {
    await client.piece(address, DIGEST, 0, pieces[0].length);
    expect(seenAsker).toEqual([undefined, undefined, undefined]);
    const asker = { peerId: "agent-00000000000000aa", address: "127.0.0.1:7001", have: "gA==" };
    await client.piece(address, DIGEST, 0, pieces[0].length, asker);
    expect(seenAsker).toEqual([asker.peerId, asker.address, asker.have]);
  } finally {
    await client.close();
  }
});

it("pushes this node's HAVE with the token; any answer but 204 is unavailable", async () => {
  const client = new PeerClient({ token: TOKEN, timeoutMs: 10_000 });
  try {
    const asker = { peerId: "agent-00000000000000aa", address: "127.0.0.1:7001", have: "gA==" };
    await client.pushHave(address, DIGEST, asker);
    expect(seenPush).toEqual(["POST", `/p2p/v1/blobs/${DIGEST}/have`]);
    expect(seenAuth).toBe(`Bearer ${TOKEN}`);
    expect(seenAsker).toEqual([asker.peerId, asker.address, asker.have]);
    mode = "busy"; // the test server answers a push 500 in this mode
    await expect(client.pushHave(address, DIGEST, asker)).rejects.toBeInstanceOf(PeerUnavailableError);
  } finally {
    await client.close();
  }
});

it("gets a piece that trickles in, its last bytes after a pause, then a small one right after", async () => {
  const lowat = watchedLowat();
  const client = new PeerClient({ token: TOKEN, timeoutMs: 10_000, receiveLowat: lowat });
  try {
    mode = "slow";
    expect((await client.piece(address, DIGEST, 0, pieces[0].length)).data.equals(pieces[0])).toBe(true);
    expect(Math.max(...lowat.marks)).toBe(RCVLOWAT_CAP); // raised while most of the piece was to come
    expect(lowat.marks[lowat.marks.length - 1]).toBe(1); // and back to 1 once it was all there
    expect(lowat.marks.filter((m, i) => m === lowat.marks[i - 1])).toEqual([]); // set only when it moves
    expect((await client.piece(address, DIGEST, 2, pieces[2].length)).data.equals(pieces[2])).toBe(true);
    mode = "normal";
    lowat.marks.length = 0;
    expect((await client.piece(address, DIGEST, 1, pieces[1].length)).data.equals(pieces[1])).toBe(true);
    expect(Math.max(...lowat.marks)).toBeLessThanOrEqual(pieces[1].length); // never more than the piece
    expect(lowat.sockets.size).toBe(1);
    // On this kernel with the addon, the socket itself says so (1 again: nothing held for the next answer).
    const [socket] = lowat.sockets;
    if (!lowat.unavailable) expect(lowat.read(socket)).toBe(1);
  } finally {
    await client.close();
  }
});

it("reports busy, not held, too many bytes and too few as errors the swarm acts on", async () => {
  const client = new PeerClient({ token: TOKEN, timeoutMs: 10_000 });
  try {
    mode = "busy";
    await expect(client.piece(address, DIGEST, 1, 10)).rejects.toMatchObject({
      constructor: PeerBusyError,
      have: HAVE,
    });
    mode = "missing";
    await expect(client.piece(address, DIGEST, 1, 10)).rejects.toMatchObject({
      constructor: PeerMissingError,
      have: HAVE,
    });
    mode = "long";
    await expect(client.piece(address, DIGEST, 2, pieces[2].length)).rejects.toThrow("more than");
    mode = "short";
    await expect(client.piece(address, DIGEST, 2, pieces[2].length)).rejects.toBeInstanceOf(
      PeerUnavailableError,
    );
    mode = "normal";
    await expect(client.piece(address, DIGEST, 1, 11)).rejects.toThrow("expected 11");
    expect((await client.piece(address, DIGEST, 1, 10)).data.equals(pieces[1])).toBe(true);
  } finally {
    await client.close();
  }
});

it("returns a piece sent without its proof with none (the caller refuses it)", async () => {
  const client = new PeerClient({ token: TOKEN, timeoutMs: 10_000 });
  try {
    mode = "bare";
    const got = await client.piece(address, DIGEST, 1, 10);
    expect(got.proof).toBeUndefined();
    expect(got.data.equals(pieces[1])).toBe(true);
  } finally {
    await client.close();
  }
});

it("fails a peer that is not there as unavailable", async () => {
  const client = new PeerClient({ token: TOKEN, timeoutMs: 2_000 });
  try {
    await expect(client.piece("127.0.0.1:1", DIGEST, 0, 10)).rejects.toBeInstanceOf(PeerUnavailableError);
  } finally {
    await client.close();
  }
});
