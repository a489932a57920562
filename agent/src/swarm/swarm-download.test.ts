/**
 * The swarm runner (swarm-download.ts) on its own: the tracker's real announce logic in-process
 * (hack/testenv/in-process-tracker.ts, real Ed25519 proofs), a real PartialStore on a temp dir, an
 * in-memory cache, and an origin and peers played by the test. The e2e swarm suites run it between
 * processes; these pin what it does with each answer: how it asks the origin, what a bad peer
 * costs it, and how it falls back.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { Bitfield, pieceSpan, sha256Hex } from "../../../protocol/pieces";
import { inProcessTracker, type InProcessTracker } from "../../../hack/testenv/in-process-tracker";
import { PartialStore } from "../cache/partial-store";
import { ANONYMOUS } from "../credentials/client-credentials";
import { MemoryBlobStore } from "../testing/memory-blob-store";
import type { PeerApi, PeerPiece } from "../peer/peer-client";
import type { HavePushResult, PeerBanReason } from "../metrics";
import { SwarmBook } from "./swarm-book";
import { SwarmDownload } from "./swarm-download";

const MiB = 1024 * 1024;
const SIZE = 6 * MiB + 123; // 7 pieces of 1 MiB, the last one short
const BLOB = randomBytes(SIZE);
const DIGEST = `sha256:${createHash("sha256").update(BLOB).digest("hex")}`;
const UPSTREAM = { host: "registry.test", origin: "http://registry.test" };

/** The origin: the blob's bytes in 64 KiB chunks for each Range asked, every span recorded. */
function origin() {
  const spans: { offset: number; end?: number }[] = [];
  return {
    spans,
    async *blob(
      _u: unknown,
      _r: string,
      _d: string,
      _c: unknown,
      span = { offset: 0 } as { offset: number; end?: number },
    ) {
      spans.push({ offset: span.offset, end: span.end });
      const stop = span.end === undefined ? SIZE : span.end + 1;
      for (let at = span.offset; at < stop; at += 64 * 1024)
        yield BLOB.subarray(at, Math.min(stop, at + 64 * 1024));
    },
  };
}

interface Setup {
  dir: string;
  store: MemoryBlobStore;
  partials: PartialStore;
  tracker: InProcessTracker;
  counters: {
    bans: PeerBanReason[];
    fallbacks: string[];
    peerBytes: number;
    verifyFailures: number;
    pushes: HavePushResult[];
  };
}

let setup: Setup;
beforeEach(async () => {
  const dir = await mkdtemp(join(tmpdir(), "swarm-download-"));
  const store = new MemoryBlobStore();
  setup = {
    dir,
    store,
    partials: await PartialStore.open(dir, store),
    tracker: inProcessTracker(),
    counters: { bans: [], fallbacks: [], peerBytes: 0, verifyFailures: 0, pushes: [] },
  };
});
afterEach(() => rm(setup.dir, { recursive: true, force: true }));

async function download(
  peers: PeerApi,
  client = origin(),
): Promise<{ bytes: Buffer; client: ReturnType<typeof origin> }> {
  const { counters } = setup;
  const writer = await setup.store.create(DIGEST, SIZE);
  await new SwarmDownload(
    {
      tracker: setup.tracker,
      peers,
      client,
      partials: setup.partials,
      book: new SwarmBook(),
      limiter: { take: async () => undefined },
      counters: {
        peerBytes: n => (counters.peerBytes += n),
        verifyFailure: () => counters.verifyFailures++,
        fallback: reason => counters.fallbacks.push(reason),
        ban: reason => counters.bans.push(reason),
        havePush: result => counters.pushes.push(result),
      },
      distrust: () => undefined,
      log: pino({ level: "silent" }),
      peerId: "agent-under-test",
      address: "10.0.0.1:65002",
      stallTimeoutMs: 10_000,
    },
    { upstream: UPSTREAM, repo: "team/app", digest: DIGEST, credentials: ANONYMOUS, size: SIZE },
    writer,
  ).run();
  const chunks: Buffer[] = [];
  for await (const chunk of await setup.store.open(DIGEST)) chunks.push(chunk as Buffer);
  return { bytes: Buffer.concat(chunks), client };
}

const noPeers: PeerApi = {
  piece: () => Promise.reject(new Error("no peer should be asked")),
  pushHave: () => Promise.reject(new Error("no peer should be told")),
};

/** HAVE pushes made, by the peer address told. */
function pushesTo(told: { address: string; have: Bitfield }[]): PeerApi["pushHave"] {
  return async (address, _digest, asker) => {
    told.push({ address, have: Bitfield.decode(asker.have, Math.ceil(SIZE / MiB)) });
  };
}

/** Every piece's sha256 hex, by index. */
function pieceHashes(): Record<number, string> {
  const out: Record<number, string> = {};
  for (let i = 0; i < Math.ceil(SIZE / MiB); i++) {
    const span = pieceSpan(i, SIZE, MiB);
    out[i] = sha256Hex(BLOB.subarray(span.start, span.end + 1));
  }
  return out;
}

/** An honest member holding the whole blob; the tracker's proofs of its hashes. */
async function seedAt(address: string): Promise<{ proofs: Record<string, string>; trackerKey: string }> {
  const pieces = Math.ceil(SIZE / MiB);
  const hashes = pieceHashes();
  return setup.tracker.announce({
    digest: DIGEST,
    size: SIZE,
    pieceSize: MiB,
    peerId: "seed-1",
    address,
    have: Bitfield.full(pieces).encode(),
    pieceHashes: hashes,
    complete: true,
    wantLease: false,
    releaseLease: false,
  });
}

describe("SwarmDownload", () => {
  it("alone in its swarm: the origin lease in a few Range requests, each byte once, the exact blob", async () => {
    const { bytes, client } = await download(noPeers);
    expect(bytes.equals(BLOB)).toBe(true);
    const asked = client.spans.map(s => (s.end ?? SIZE - 1) + 1 - s.offset);
    expect(asked.reduce((a, b) => a + b, 0)).toBe(SIZE); // each byte once
    expect(client.spans.length).toBeGreaterThanOrEqual(2);
    expect(client.spans.length).toBeLessThanOrEqual(4);
    expect(setup.counters.fallbacks).toEqual([]);
    // it joined, reported hashes for the pieces it fetched, and said it was complete
    expect(setup.tracker.announces[0]).toMatchObject({ peerId: "agent-under-test", wantLease: true });
    expect(setup.tracker.announces.at(-1)).toMatchObject({ complete: true });
  });

  it("alone: no piece is hashed twice on the way (issue 10); the last announce proves every piece", async () => {
    await download(noPeers);
    const { announces } = setup.tracker;
    const last = announces.at(-1)!;
    expect(last.complete).toBe(true);
    for (const earlier of announces.slice(0, -1)) expect(earlier.pieceHashes).toEqual({});
    expect(last.pieceHashes).toEqual(pieceHashes());
  });

  it("a member joins mid-download: the next announce carries the hashes of the pieces fetched alone", async () => {
    const client = origin();
    const joinAfterBytes = 3 * MiB;
    let sent = 0;
    const joining = {
      spans: client.spans,
      async *blob(...args: Parameters<typeof client.blob>) {
        for await (const chunk of client.blob(...args)) {
          yield chunk;
          sent += chunk.length;
          if (sent >= joinAfterBytes && sent - chunk.length < joinAfterBytes) {
            await joinAsLeecher();
            // The origin stalls a while: the runner's next announces (one learns of the newcomer,
            // the next reports the hashes) go out while it is still downloading.
            await new Promise(resolve => setTimeout(resolve, 400));
          }
        }
      },
    };
    await download(noPeers, joining);
    const before = setup.tracker.announces.filter(a => a.peerId === "agent-under-test" && !a.complete);
    const reported = Object.keys(Object.assign({}, ...before.map(a => a.pieceHashes))).map(Number);
    expect(reported.length).toBeGreaterThan(0); // while still downloading
    const all = pieceHashes();
    for (const index of reported)
      expect(before.find(a => a.pieceHashes[index])!.pieceHashes[index]).toBe(all[index]);
  });

  /** Another member joins the swarm holding `holding` (default nothing) and wanting no lease. */
  async function joinAsLeecher(holding: number[] = []): Promise<void> {
    const have = new Bitfield(Math.ceil(SIZE / MiB));
    for (const piece of holding) have.set(piece);
    const all = pieceHashes();
    await setup.tracker.announce({
      digest: DIGEST,
      size: SIZE,
      pieceSize: MiB,
      peerId: "leecher-1",
      address: "10.0.0.8:65002",
      have: have.encode(),
      pieceHashes: Object.fromEntries(holding.map(piece => [piece, all[piece]])),
      complete: false,
      wantLease: false,
      releaseLease: false,
    });
  }

  /** A peer that serves flipped bytes with a proof of its own making under `trackerKey`. */
  function forging(trackerKey: () => string, asked: number[]): PeerApi {
    return {
      async piece(_address, _digest, index, length): Promise<PeerPiece> {
        asked.push(index);
        const span = pieceSpan(index, SIZE, MiB);
        const data = Buffer.from(BLOB.subarray(span.start, span.end + 1));
        data[0] ^= 0xff;
        expect(length).toBe(data.length);
        const signature = randomBytes(64).toString("base64");
        return { data, proof: { hashHex: sha256Hex(data), signature, trackerKey: trackerKey() } };
      },
      pushHave: async () => undefined,
    };
  }

  it("a peer whose proof does not verify is banned for the blob at once, and its bytes are not kept", async () => {
    const { trackerKey } = await seedAt("10.0.0.9:65002");
    const asked: number[] = [];
    const { bytes } = await download(forging(() => trackerKey, asked));
    expect(bytes.equals(BLOB)).toBe(true);
    expect(asked.length).toBeLessThanOrEqual(2); // the requests in flight when the first answer came
    expect(setup.counters.bans).toEqual(["bad-piece"]);
    expect(setup.counters.verifyFailures).toBe(asked.length);
    expect(setup.counters.fallbacks).not.toContain("stall");
  });

  it("a peer answering under another tracker key is dropped after two answers, not waited on until the stall", async () => {
    await seedAt("10.0.0.9:65002");
    const asked: number[] = [];
    const { bytes } = await download(forging(() => randomBytes(32).toString("base64"), asked));
    expect(bytes.equals(BLOB)).toBe(true);
    expect(asked.length).toBeLessThanOrEqual(2);
    expect(setup.counters.bans).toEqual(["failures"]);
    expect(setup.counters.fallbacks).not.toContain("stall");
  });

  /** A peer serving every piece with the tracker's proof, after `delayMs`; its HAVE pushes recorded. */
  function honest(
    signed: { proofs: Record<string, string>; trackerKey: string },
    told: { address: string; have: Bitfield }[],
    delayMs = 0,
  ): PeerApi {
    return {
      pushHave: pushesTo(told),
      async piece(_address, _digest, index): Promise<PeerPiece> {
        const span = pieceSpan(index, SIZE, MiB);
        const data = BLOB.subarray(span.start, span.end + 1);
        if (delayMs) await new Promise(resolve => setTimeout(resolve, delayMs));
        return {
          data: Buffer.from(data),
          proof: { hashHex: sha256Hex(data), signature: signed.proofs[index], trackerKey: signed.trackerKey },
        };
      },
    };
  }

  it("pieces from an honest peer are checked against the tracker's proofs and kept", async () => {
    const signed = await seedAt("10.0.0.9:65002");
    const told: { address: string; have: Bitfield }[] = [];
    const { bytes, client } = await download(honest(signed, told));
    expect(bytes.equals(BLOB)).toBe(true);
    expect(setup.counters.bans).toEqual([]);
    expect(setup.counters.peerBytes).toBe(SIZE);
    expect(client.spans).toEqual([]); // the origin never asked
    expect(told).toEqual([]); // the only peer it knows holds everything: nobody to tell
  });

  it("tells a peer lacking what it gained, with its whole servable HAVE, as pieces arrive", async () => {
    const signed = await seedAt("10.0.0.9:65002");
    await joinAsLeecher([6]); // 10.0.0.8: the tracker names it (it holds a piece this node lacks)
    const told: { address: string; have: Bitfield }[] = [];
    const { bytes } = await download(honest(signed, told, 5)); // pieces 5 ms apart
    expect(bytes.equals(BLOB)).toBe(true);
    expect(told.length).toBeGreaterThan(0);
    expect(new Set(told.map(t => t.address))).toEqual(new Set(["10.0.0.8:65002"]));
    const counts = told.map(t => t.have.count());
    expect(counts[0]).toBeGreaterThan(0);
    expect([...counts].sort((a, b) => a - b)).toEqual(counts); // each push the HAVE as it then was
  });

  it("a lease holder tells a member still downloading of its origin pieces once the tracker signs them", async () => {
    await joinAsLeecher([]); // 10.0.0.8 holds nothing: the tracker's sample names it to fill
    const told: { address: string; have: Bitfield }[] = [];
    const { bytes, client } = await download({
      piece: () => Promise.reject(new Error("no peer holds anything")),
      pushHave: pushesTo(told),
    });
    expect(bytes.equals(BLOB)).toBe(true);
    expect(client.spans.length).toBeGreaterThan(0); // from the origin, under its lease
    expect(told.length).toBeGreaterThan(0);
    expect(new Set(told.map(t => t.address))).toEqual(new Set(["10.0.0.8:65002"]));
    expect(told[0].have.count()).toBeGreaterThan(0); // only signed pieces are claimed
    await new Promise(resolve => setImmediate(resolve));
    expect(setup.counters.pushes).toEqual(told.map(() => "sent"));
  });

  it("the tracker unreachable: the whole blob from the origin, the fallback counted", async () => {
    setup.tracker.down = true;
    const { bytes, client } = await download(noPeers);
    expect(bytes.equals(BLOB)).toBe(true);
    expect(setup.counters.fallbacks).toEqual(["tracker"]);
    expect(client.spans.map(s => (s.end ?? SIZE - 1) + 1 - s.offset).reduce((a, b) => a + b, 0)).toBe(SIZE);
  });
});
