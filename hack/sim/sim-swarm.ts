/**
 * The swarm simulation (issue 18): N nodes pull one blob of S bytes through the real tracker logic
 * (announce.ts, the lease policy, the swarm store) and each node's real scheduling (sim-node.ts),
 * on simulated links: every node's upload and the origin's upload run at B; downloads are not
 * limited. Nodes start together (herd) or `gapMs` apart (rolling). Reports origin bytes / S, node
 * completion over S/B (p50, p99, last), and the tracker's messages and answer bytes.
 */
import { randomBytes } from "node:crypto";
import { choosePieceSize } from "../../protocol/pieces";
import type { AnnounceRequest, AnnounceResponse } from "../../protocol/tracker-api";
import { announce, AnnounceOptions, ProofSigner } from "../../tracker/src/announce";
import { SwarmStore } from "../../tracker/src/swarm-store";
import { PLAN_LIMITS } from "../../agent/src/swarm/download-plan";
import { HAVE_PUSH_GAP_MS } from "../../agent/src/swarm/have-push";
import { EventQueue } from "./event-queue";
import { Outcomes, SimNode, SimWorld } from "./sim-node";
import { Uplink } from "./uplink";

export interface SimOptions {
  nodes: number;
  sizeBytes: number;
  mbit: number;
  /** 0 = herd; otherwise each node starts this long after the previous one. */
  gapMs: number;
  rttMs: number;
  maxPeers: number;
  maxOriginStreams: number;
  leaseTimeoutMs: number;
  /** Pieces each node uploads at once (the agent's --peer-upload-slots). */
  uploadSlots: number;
  /** The tracker's --max-announce-rate (default DEFAULT_MAX_ANNOUNCE_RATE). */
  maxAnnounceRate?: number;
  /** Seed of the simulation's pseudo-random choices (default 1). */
  seed?: number;
  /** The agent's shortest time between two HAVE pushes to one peer (default HAVE_PUSH_GAP_MS). */
  havePushGapMs?: number;
  /** Overrides of the agent's request limits, for experiments. */
  limits?: Partial<typeof PLAN_LIMITS>;
}

export interface SimResult {
  nodes: number;
  pieces: number;
  pieceSize: number;
  sOverB: number;
  originOverS: number;
  /** When the origin sent its last byte, over S/B. */
  originDoneOverSB: number;
  /** Bytes the nodes uploaded over what their links could have carried until the last node was done. */
  uploadUtilization: number;
  p50OverSB: number;
  p99OverSB: number;
  lastOverSB: number;
  fallbacks: Record<string, number>;
  trackerMessages: number;
  trackerAnswerBytes: number;
  trackerAnswerBytesPerNode: number;
  simulatedSeconds: number;
  wallSeconds: number;
  events: number;
  /** What the nodes' peer requests amounted to, and how many times they planned. */
  peerRequests: Outcomes;
}

/** No crypto in the simulation: the tracker's proofs are placeholders of the right length. */
const SIM_SIGNER: ProofSigner = {
  publicKey: Buffer.alloc(32, 7).toString("base64"),
  sign: () => Buffer.alloc(64),
};

export function simulateSwarm(options: SimOptions): SimResult {
  const wallStart = Date.now();
  const nextRandom = mulberry32(options.seed ?? 1);
  const queue = new EventQueue();
  const bytesPerMs = (options.mbit * 1_000_000) / 8 / 1000;
  const pieceSize = choosePieceSize(options.sizeBytes);
  const pieceCount = Math.ceil(options.sizeBytes / pieceSize);
  const size = pieceCount * pieceSize;
  const store = new SwarmStore({ peerTtlMs: 3_600_000, leecherTtlMs: 10_000 });
  const announceOptions: AnnounceOptions = {
    leaseTimeoutMs: options.leaseTimeoutMs,
    maxOriginStreams: options.maxOriginStreams,
    announceIntervalMs: 15_000,
    maxPeers: options.maxPeers,
    maxAnnounceRate: options.maxAnnounceRate,
  };
  const nodes = new Map<string, SimNode>();
  let originBytes = 0;
  let originDoneMs = 0;
  let trackerMessages = 0;
  let trackerAnswerBytes = 0;
  const world: SimWorld = {
    queue,
    origin: new Uplink(queue, bytesPerMs),
    digest: "sha256:" + randomBytes(32).toString("hex"),
    size,
    pieceSize,
    pieceCount,
    rttMs: options.rttMs,
    uploadSlots: options.uploadSlots,
    havePushGapMs: options.havePushGapMs ?? HAVE_PUSH_GAP_MS,
    stallTimeoutMs: 10_000,
    limits: { ...PLAN_LIMITS, ...options.limits },
    outcomes: { ok: 0, busy: 0, missing: 0, steps: 0, pushes: 0 },
    random: n => Math.floor(nextRandom() * n),
    announce(request: AnnounceRequest, source: string): AnnounceResponse | undefined {
      trackerMessages++;
      try {
        const { response } = announce(store, request, announceOptions, SIM_SIGNER, queue.now, source);
        trackerAnswerBytes += JSON.stringify(response).length;
        return response;
      } catch {
        return undefined;
      }
    },
    node: id => nodes.get(id),
    originBytes: bytes => {
      originBytes += bytes;
      originDoneMs = queue.now;
    },
  };
  for (let i = 0; i < options.nodes; i++) {
    const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:65002`;
    const node = new SimNode(world, `node-${i}`, address, new Uplink(queue, bytesPerMs));
    nodes.set(node.id, node);
    queue.at(i * options.gapMs, () => node.start());
  }
  const all = [...nodes.values()];
  const sOverBMs = size / bytesPerMs;
  const timeline: Record<string, number>[] = [];
  const sample = () => {
    timeline.push({
      t: Math.round((queue.now / sOverBMs) * 100) / 100,
      uploading: Math.round((all.filter(n => n.uplink.active > 0).length / all.length) * 100) / 100,
      held:
        Math.round((all.reduce((sum, n) => sum + n.have.count(), 0) / (all.length * pieceCount)) * 100) / 100,
      done: all.filter(n => n.doneAtMs !== undefined).length,
      ...diagnoseAll(all, queue.now),
    });
    if (!all.every(n => n.doneAtMs !== undefined)) queue.after(sOverBMs / 10, sample);
  };
  if (process.env.PEERPULL_SIM_TIMELINE) queue.at(0, sample);
  queue.runUntil(
    () => all.every(n => n.doneAtMs !== undefined),
    sOverBMs * 50 + options.nodes * options.gapMs,
  );
  const times = all.map(n => ((n.doneAtMs ?? Infinity) - n.startedAtMs!) / sOverBMs).sort((a, b) => a - b);
  const fallbacks: Record<string, number> = {};
  for (const node of all) if (node.fallback) fallbacks[node.fallback] = (fallbacks[node.fallback] ?? 0) + 1;
  return {
    nodes: options.nodes,
    pieces: pieceCount,
    pieceSize,
    sOverB: sOverBMs / 1000,
    originOverS: originBytes / size,
    originDoneOverSB: originDoneMs / sOverBMs,
    uploadUtilization:
      all.reduce((sum, n) => sum + n.uplink.bytesSent, 0) / (all.length * bytesPerMs * queue.now),
    p50OverSB: quantile(times, 0.5),
    p99OverSB: quantile(times, 0.99),
    lastOverSB: times[times.length - 1],
    fallbacks,
    trackerMessages,
    trackerAnswerBytes,
    trackerAnswerBytesPerNode: trackerAnswerBytes / options.nodes,
    simulatedSeconds: queue.now / 1000,
    wallSeconds: (Date.now() - wallStart) / 1000,
    events: queue.processed,
    peerRequests: { ...world.outcomes },
    ...(timeline.length ? { timeline } : {}),
  };
}

/**
 * Why nodes are not downloading faster, for the timeline. Among nodes still downloading: the share
 * with no peer request out (`idle`), and of those the share that knows no holder of a piece it
 * needs (`noHolder`) or only holders it is backing off from (`allBusy`); per node, requests out,
 * known peers holding a needed piece, known peers. Among nodes with something to serve and no
 * upload running (`idleUploaders`, a share of all nodes): per such node, how many downloading nodes
 * know it, truly lack a piece it holds, see that in its HAVE as they know it, and are not backing
 * off from it.
 */
function diagnoseAll(all: SimNode[], now: number): Record<string, number> {
  const active = all.filter(n => n.doneAtMs === undefined && n.fallback === undefined);
  if (active.length === 0) return {};
  const round = (x: number) => Math.round(x * 100) / 100;
  const idleUp = new Map(
    all.filter(n => n.uplink.active === 0 && n.servable.count() > 0).map(n => [n.id, n]),
  );
  const c = { idle: 0, noHolder: 0, allBusy: 0, inFlight: 0, holders: 0, known: 0 };
  const u = { knownBy: 0, trulyUseful: 0, seenUseful: 0, notBackedOff: 0 };
  for (const node of active) {
    const d = node.diagnose();
    c.inFlight += d.inFlight;
    c.holders += d.holders;
    c.known += d.known;
    if (d.inFlight === 0) {
      c.idle++;
      if (d.holders === 0) c.noHolder++;
      else if (d.usable === 0) c.allBusy++;
    }
    for (const peer of node.view.peers) {
      const up = idleUp.get(peer.id);
      if (!up) continue;
      u.knownBy++;
      if (up.servable.holdsAnyMissingFrom(node.have)) u.trulyUseful++;
      if (!peer.have.holdsAnyMissingFrom(node.have)) continue;
      u.seenUseful++;
      if (!((peer.busyUntil ?? 0) > now)) u.notBackedOff++;
    }
  }
  return {
    ...Object.fromEntries(Object.entries(c).map(([k, v]) => [k, round(v / active.length)])),
    idleUploaders: round(idleUp.size / all.length),
    ...Object.fromEntries(Object.entries(u).map(([k, v]) => [k, round(v / Math.max(1, idleUp.size))])),
  };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** A small seeded PRNG (mulberry32), so a simulation run can be repeated exactly. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
