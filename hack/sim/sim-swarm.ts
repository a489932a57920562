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
import { EventQueue } from "./event-queue";
import { outcomes, SimNode, SimWorld } from "./sim-node";
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
  /** Overrides of the agent's request limits, for experiments. */
  limits?: Partial<typeof PLAN_LIMITS>;
}

export interface SimResult {
  nodes: number;
  pieces: number;
  pieceSize: number;
  sOverB: number;
  originOverS: number;
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
  peerRequests: { ok: number; busy: number; missing: number; steps: number };
}

/** No crypto in the simulation: the tracker's proofs are placeholders of the right length. */
const SIM_SIGNER: ProofSigner = {
  publicKey: Buffer.alloc(32, 7).toString("base64"),
  sign: () => Buffer.alloc(64),
};

export function simulateSwarm(options: SimOptions): SimResult {
  const wallStart = Date.now();
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
  };
  const nodes = new Map<string, SimNode>();
  let originBytes = 0;
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
    uploadSlots: 4,
    stallTimeoutMs: 10_000,
    limits: { ...PLAN_LIMITS, ...options.limits },
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
    originBytes: bytes => (originBytes += bytes),
  };
  for (let i = 0; i < options.nodes; i++) {
    const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:65002`;
    const node = new SimNode(world, `node-${i}`, address, new Uplink(queue, bytesPerMs));
    nodes.set(node.id, node);
    queue.at(i * options.gapMs, () => node.start());
  }
  const all = [...nodes.values()];
  const sOverBMs = size / bytesPerMs;
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
    peerRequests: { ...outcomes },
  };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
