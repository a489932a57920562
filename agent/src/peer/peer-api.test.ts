/** The peer piece route on a real peer server (port 0): token check, 404 unless held, exact bytes. */
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { Registry } from "prom-client";
import { generateKeyPairSync, sign } from "node:crypto";
import { proofPayload, publicKeyFromWire, publicKeyToWire, verifyProof } from "../../../protocol/piece-proof";
import { Bitfield, pieceSpan, sha256Hex } from "../../../protocol/pieces";
import { FsBlobStore } from "../cache/fs-blob-store";
import { PartialBlob, PartialStore } from "../cache/partial-store";
import { blobOf } from "../testing/blob-store-conformance";
import type { Asker } from "../../../protocol/peer-wire";
import { createPeerApi, HeldPieces } from "./peer-api";
import { createPeerServer } from "../http/peer-server";
import { HeldProofs } from "./held-proofs";

const TOKEN = "peer-api-test-token-0123";
const PIECE = 1000;
let dir: string;
let server: Server;
let base: string;
let uploaded = 0;
let taken = 0;
let pushesTaken = 0;
/** While set, uploads wait on the limiter: a slot stays taken. */
let gate: Promise<void> | undefined;
const complete = blobOf(2500);
const partialBlob = blobOf(3500);

const piece = (bytes: Buffer, index: number) => {
  const span = pieceSpan(index, bytes.length, PIECE);
  return bytes.subarray(span.start, span.end + 1);
};
const tracker = generateKeyPairSync("ed25519");
const trackerKey = publicKeyToWire(tracker.publicKey);

/** Proofs for `indexes` of a blob as the tracker would sign them; `unsigned` get a hash only. */
function proofsFor(
  blob: { digest: string; bytes: Buffer },
  indexes: number[],
  unsigned: number[] = [],
): HeldProofs {
  const proofs = new HeldProofs(Math.ceil(blob.bytes.length / PIECE));
  const signatures: Record<number, string> = {};
  for (const index of [...indexes, ...unsigned]) proofs.setHash(index, sha256Hex(piece(blob.bytes, index)));
  for (const index of indexes)
    signatures[index] = sign(
      null,
      proofPayload(blob.digest, PIECE, index, sha256Hex(piece(blob.bytes, index))),
      tracker.privateKey,
    ).toString("base64");
  proofs.acceptSignatures(trackerKey, signatures);
  return proofs;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pp-peer-api-"));
  const store = await FsBlobStore.open(dir, { ttlMs: 60_000, maxBytes: 0 });
  const writer = await store.create(complete.digest, complete.bytes.length);
  await writer.write(complete.bytes);
  await writer.commit();
  // What the swarm's book would hold: this partial download, and the complete blob as a seed.
  const proofsOf = new Map<string, HeldProofs>();
  const partialOf = new Map<string, PartialBlob>();
  const book: HeldPieces = {
    proofs: digest => proofsOf.get(digest),
    partial: digest => partialOf.get(digest),
    pieceSizeOf: () => PIECE,
    askedBy: (digest, asker) => askers.push({ digest, ...asker }),
  };
  const partials = await PartialStore.open(dir, store);
  const partial = await partials.create(partialBlob.digest, partialBlob.bytes.length, PIECE);
  await partial.writePiece(1, piece(partialBlob.bytes, 1));
  await partial.writePiece(3, piece(partialBlob.bytes, 3));
  await partial.writePiece(2, piece(partialBlob.bytes, 2)); // held, its proof not signed yet
  partialOf.set(partialBlob.digest, partial);
  proofsOf.set(partialBlob.digest, proofsFor(partialBlob, [1, 3], [2]));
  proofsOf.set(complete.digest, proofsFor(complete, [0, 1, 2]));
  const peerApi = createPeerApi({
    token: TOKEN,
    store,
    book,
    limiter: {
      take: async n => {
        taken += n;
        await gate;
      },
    },
    onUpload: n => (uploaded += n),
    onHavePush: () => pushesTaken++,
    uploadSlots: 1,
  });
  server = createPeerServer({
    metricsRegistry: new Registry(),
    isReady: () => true,
    log: pino({ level: "silent" }),
    peerApi,
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise(resolve => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const askers: ({ digest: string } & Asker)[] = [];
const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    headers: { ...headers, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
  });
const piecePath = (digest: string, index: number) => `/p2p/v1/blobs/${digest}/pieces/${index}`;

const unauthorized = [
  { name: "no token", token: undefined },
  { name: "wrong token", token: "peer-api-test-token-0124" },
  { name: "empty token", token: "" },
  { name: "a prefix of the token", token: TOKEN.slice(0, 10) },
];

describe("peer piece API", () => {
  it.each(unauthorized)("401 with $name, before looking at the path", async ({ token }) => {
    expect((await get(piecePath(complete.digest, 0), token)).status).toBe(401);
    expect((await get("/p2p/v1/anything", token)).status).toBe(401);
  });

  it.each([
    { name: "unknown blob", path: piecePath("sha256:" + "0".repeat(64), 0) },
    { name: "piece past the end of a complete blob", path: piecePath(complete.digest, 3) },
    { name: "piece a partial does not hold yet", path: piecePath(partialBlob.digest, 0) },
    { name: "piece held but not yet proven by the tracker", path: piecePath(partialBlob.digest, 2) },
    { name: "malformed path", path: "/p2p/v1/blobs/sha256:xyz/pieces/0" },
  ])("404 for $name", async ({ path }) => {
    expect((await get(path, TOKEN)).status).toBe(404);
  });

  it("serves the exact bytes of pieces of complete and partial blobs, counted and paced", async () => {
    const before = uploaded;
    const cases = [
      { digest: complete.digest, index: 0, want: piece(complete.bytes, 0) },
      { digest: complete.digest, index: 2, want: piece(complete.bytes, 2) },
      { digest: partialBlob.digest, index: 1, want: piece(partialBlob.bytes, 1) },
      { digest: partialBlob.digest, index: 3, want: piece(partialBlob.bytes, 3) },
    ];
    for (const { digest, index, want } of cases) {
      const res = await get(piecePath(digest, index), TOKEN);
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(want)).toBe(true);
      // the proof rides along and verifies; the HAVE bitfield lists what can be served
      const hashHex = res.headers.get("x-peerpull-piece-hash")!;
      expect(hashHex).toBe(sha256Hex(want));
      expect(res.headers.get("x-peerpull-tracker-key")).toBe(trackerKey);
      const signature = Buffer.from(res.headers.get("x-peerpull-piece-proof")!, "base64");
      expect(
        verifyProof(publicKeyFromWire(trackerKey), { digest, pieceSize: PIECE, index, hashHex, signature }),
      ).toBe(true);
    }
    const partialHave = (await get(piecePath(partialBlob.digest, 0), TOKEN)).headers.get("x-peerpull-have")!;
    expect(Bitfield.decode(partialHave, 4).missing()).toEqual([0, 2]);
    const total = cases.reduce((sum, c) => sum + c.want.length, 0);
    expect(uploaded - before).toBe(total);
    expect(taken).toBeGreaterThanOrEqual(total);
  });

  it("answers 503 (busy) beyond its upload slots, and serves again once a slot frees", async () => {
    let release!: () => void;
    gate = new Promise(resolve => (release = resolve));
    const takenBefore = taken;
    const first = get(piecePath(complete.digest, 0), TOKEN);
    for (let i = 0; i < 200 && taken === takenBefore; i++) await new Promise(r => setTimeout(r, 5));
    const busy = await get(piecePath(complete.digest, 1), TOKEN);
    expect(busy.status).toBe(503);
    expect(busy.headers.get("retry-after")).toBe("1");
    gate = undefined;
    release();
    const res = await first;
    expect(Buffer.from(await res.arrayBuffer()).equals(piece(complete.bytes, 0))).toBe(true);
    const again = await get(piecePath(complete.digest, 1), TOKEN);
    expect(Buffer.from(await again.arrayBuffer()).equals(piece(complete.bytes, 1))).toBe(true);
  });

  it("tells the book who asked, as the request describes itself, only from the host it names", async () => {
    const have = "wA=="; // pieces 0 and 1
    const asker = { "x-peerpull-peer-id": "agent-0123456789abcdef", "x-peerpull-have": have };
    askers.length = 0;
    const tries: [string | undefined, string][] = [
      [TOKEN, "127.0.0.1:7001"],
      [TOKEN, "10.9.9.9:7001"], // another host than the request's source
      [TOKEN, "127.0.0.1:0"],
      [undefined, "127.0.0.1:7002"], // no token
    ];
    for (const [token, address] of tries)
      await get(piecePath(partialBlob.digest, 2), token, { ...asker, "x-peerpull-peer-address": address });
    expect(askers).toEqual([
      { digest: partialBlob.digest, peerId: "agent-0123456789abcdef", address: "127.0.0.1:7001", have },
    ]);
  });

  it("takes a HAVE push like a request's asker headers, answering 204", async () => {
    const push = (
      digest: string,
      token: string | undefined,
      headers: Record<string, string>,
      method = "POST",
    ) =>
      fetch(`${base}/p2p/v1/blobs/${digest}/have`, {
        method,
        headers: { ...headers, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      });
    const claim = {
      "x-peerpull-peer-id": "agent-pusher",
      "x-peerpull-peer-address": "127.0.0.1:7003",
      "x-peerpull-have": "4A==", // pieces 0, 1 and 2
    };
    askers.length = 0;
    pushesTaken = 0;
    const pushed = await push(partialBlob.digest, TOKEN, claim);
    expect([pushed.status, pushed.headers.get("x-peerpull-have")]).toEqual([204, null]);
    expect((await push("sha256:" + "0".repeat(64), TOKEN, claim)).status).toBe(204); // an unknown blob too

    const refused = [
      { status: 401, res: await push(partialBlob.digest, undefined, claim) },
      { status: 401, res: await push(partialBlob.digest, "wrong-token", claim) },
      { status: 405, res: await push(partialBlob.digest, TOKEN, claim, "GET") },
      {
        status: 400,
        res: await push(partialBlob.digest, TOKEN, { ...claim, "x-peerpull-peer-address": "10.9.9.9:7003" }),
      },
      {
        status: 400,
        res: await push(partialBlob.digest, TOKEN, { ...claim, "x-peerpull-have": "not base64!" }),
      },
      { status: 400, res: await push(partialBlob.digest, TOKEN, {}) },
      { status: 404, res: await push("sha256:xyz", TOKEN, claim) },
    ];
    expect(refused.map(r => r.res.status)).toEqual(refused.map(r => r.status));
    expect(askers).toEqual([
      { digest: partialBlob.digest, peerId: "agent-pusher", address: "127.0.0.1:7003", have: "4A==" },
      { digest: "sha256:" + "0".repeat(64), peerId: "agent-pusher", address: "127.0.0.1:7003", have: "4A==" },
    ]);
    expect(pushesTaken).toBe(2); // the refused ones are not counted
  });

  it("keeps health and metrics open without the token", async () => {
    expect((await get("/healthz")).status).toBe(200);
    expect((await get("/metrics")).status).toBe(200);
  });
});
