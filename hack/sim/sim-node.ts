/**
 * One simulated node downloading one blob: it runs the agent's real decisions (download-plan.ts,
 * with the real piece picker, and the real SwarmView taking in the tracker's answers and the HAVE
 * bitfields of peers) the way swarm-download.ts does, with the network and the disk simulated:
 * origin Range requests are flows on the origin's uplink, peer pieces are flows on the peer's
 * uplink (upload slots, 503 when full), announces go to the real tracker logic after a round trip.
 * Proofs are not signed or checked here (no crypto in a scheduling simulation): a piece is servable
 * once its holder has the tracker's answer for it, as in the agent.
 */
import { Bitfield } from "../../protocol/pieces";
import type { AnnounceRequest, AnnounceResponse } from "../../protocol/tracker-api";
import {
  DownloadState,
  OriginRun,
  PEER_BUSY_BACKOFF_MS,
  planDownload,
  PlanLimits,
} from "../../agent/src/swarm/download-plan";
import { HAVE_PUSH_PEERS, PushDecision, PushPacing } from "../../agent/src/swarm/have-push";
import type { PieceRequest } from "../../agent/src/swarm/piece-picker";
import { missingRuns, SwarmView } from "../../agent/src/swarm/swarm-view";
import type { EventQueue } from "./event-queue";
import type { Uplink } from "./uplink";

export interface SimWorld {
  queue: EventQueue;
  origin: Uplink;
  digest: string;
  size: number;
  pieceSize: number;
  pieceCount: number;
  rttMs: number;
  uploadSlots: number;
  havePushGapMs: number;
  stallTimeoutMs: number;
  limits: Omit<PlanLimits, "originStreams">;
  outcomes: Outcomes;
  /** A pseudo-random integer below `n` (seeded, so a run can be repeated). */
  random(n: number): number;
  announce(request: AnnounceRequest, source: string): AnnounceResponse | undefined;
  node(peerId: string): SimNode | undefined;
  originBytes(bytes: number): void;
}

const ORIGIN_STREAMS = 2;
const FAKE_HASH = "0".repeat(64);

/** What the nodes' peer requests amounted to, and how many times they planned. */
export interface Outcomes {
  ok: number;
  busy: number;
  missing: number;
  steps: number;
  /** HAVE pushes sent. */
  pushes: number;
}

export class SimNode {
  readonly have: Bitfield;
  /** Pieces this node can serve: held with a proof (from a peer, or signed in an announce answer). */
  readonly servable: Bitfield;
  readonly view: SwarmView;
  uploads = 0;
  doneAtMs?: number;
  startedAtMs?: number;
  fallback?: string;
  private readonly originRuns = new Set<OriginRun>();
  private peerRequests: (PieceRequest & { startedMs: number })[] = [];
  private readonly unsigned = new Set<number>();
  private announceState = { running: false, lastMs: 0, intervalMs: 1_000, dirty: false };
  private lastProgressMs = 0;
  private stallMs: number;
  private stepQueued = false;
  private readonly pushPacing: PushPacing;
  private active = false;
  private nextWakeAt = Infinity;
  private readonly pickStartAt: number;

  constructor(
    private readonly world: SimWorld,
    readonly id: string,
    readonly address: string,
    readonly uplink: Uplink,
  ) {
    this.have = new Bitfield(world.pieceCount);
    this.servable = new Bitfield(world.pieceCount);
    this.view = new SwarmView(world.pieceCount, 2);
    this.stallMs = world.stallTimeoutMs;
    this.pickStartAt = world.random(world.pieceCount);
    this.pushPacing = new PushPacing(world.havePushGapMs);
  }

  start(): void {
    const { queue } = this.world;
    this.startedAtMs = queue.now;
    this.lastProgressMs = queue.now;
    this.announce(res => {
      const alone = res.leases.length === 0 && res.swarmMembers <= 1;
      if (alone) return this.fallBack("no-peers");
      this.active = true;
      this.kick();
    });
  }

  /** Serves a peer's request for `piece` (after the request's trip): the answer, as the peer API gives it. */
  serve(
    piece: number,
    askerId: string,
    askerAddress: string,
    askerHave: string,
    deliver: (outcome: "busy" | "missing" | "ok", have: string) => void,
  ): void {
    // The request's own HAVE: the asker becomes a known peer with what it holds.
    if (this.active) this.view.learnAsker(askerId, askerAddress, askerHave, this.world.queue.now);
    const have = () => this.servable.encode();
    if (!this.servable.has(piece)) return deliver("missing", have());
    if (this.uploads >= this.world.uploadSlots) return deliver("busy", have());
    this.uploads++;
    this.uplink.start(this.world.pieceSize, () => {
      this.uploads--;
      deliver("ok", have());
    });
  }

  /** For the timeline: requests in flight, and known peers holding a needed piece (all, and not busy). */
  diagnose(): { inFlight: number; holders: number; usable: number; known: number } {
    const now = this.world.queue.now;
    let holders = 0;
    let usable = 0;
    for (const peer of this.view.peers) {
      if (!peer.have.holdsAnyMissingFrom(this.have) || peer.banned) continue;
      holders++;
      if (!((peer.busyUntil ?? 0) > now)) usable++;
    }
    return { inFlight: this.peerRequests.length, holders, usable, known: this.view.peers.length };
  }

  private kick(): void {
    if (!this.active || this.stepQueued) return;
    this.stepQueued = true;
    this.world.queue.after(0, () => {
      this.stepQueued = false;
      this.step();
    });
  }

  private step(): void {
    if (!this.active) return;
    const now = this.world.queue.now;
    this.world.outcomes.steps++;
    const plan = planDownload(this.state(), { ...this.world.limits, originStreams: ORIGIN_STREAMS }, now);
    if (plan.done) return this.finish();
    if (plan.fallback) return this.fallBack(plan.fallback);
    for (const run of plan.origin) this.startOrigin(run.from, run.to);
    for (const pick of plan.peers) this.startPeer(pick);
    if (plan.announce) this.announce(() => this.kick());
    const wakeAt = now + plan.wakeInMs;
    if (wakeAt < this.nextWakeAt) {
      this.nextWakeAt = wakeAt;
      this.world.queue.at(wakeAt, () => {
        if (this.nextWakeAt === wakeAt) this.nextWakeAt = Infinity;
        this.kick();
      });
    }
  }

  private state(): DownloadState {
    return {
      pieceCount: this.world.pieceCount,
      have: this.have,
      lease: this.view.leases[0],
      originRuns: [...this.originRuns],
      peerRequests: this.peerRequests,
      peers: this.view.peers,
      lastProgressMs: this.lastProgressMs,
      stallMs: this.stallMs,
      announce: this.announceState,
      pickStartAt: this.pickStartAt,
    };
  }

  /** A lease's Range request: pieces arrive one after another on the origin's uplink. */
  private startOrigin(from: number, to: number): void {
    const run: OriginRun = { next: from, end: to };
    this.originRuns.add(run);
    const next = () => {
      if (run.next >= run.end || !this.active || !this.view.inLease(run.next)) {
        this.originRuns.delete(run);
        return this.kick();
      }
      this.world.origin.start(this.world.pieceSize, () => {
        this.world.originBytes(this.world.pieceSize);
        this.store(run.next, "origin");
        run.next++;
        next();
      });
    };
    this.world.queue.after(this.world.rttMs, next);
  }

  private startPeer(pick: PieceRequest): void {
    const peer = this.view.peers.find(p => p.id === pick.peerId);
    const source = peer && this.world.node(peer.id);
    if (!peer || !source) return;
    const running = { ...pick, startedMs: this.world.queue.now };
    this.peerRequests.push(running);
    const settle = () => {
      this.peerRequests = this.peerRequests.filter(r => r !== running);
      this.kick();
    };
    const mine = this.servable.encode();
    this.world.queue.after(this.world.rttMs / 2, () =>
      source.serve(pick.piece, this.id, this.address, mine, (outcome, have) =>
        this.world.queue.after(this.world.rttMs / 2, () => {
          const now = this.world.queue.now;
          this.world.outcomes[outcome]++;
          this.view.learnHave(peer.id, have, now);
          if (outcome === "busy") this.view.peerBusy(peer.id, now, PEER_BUSY_BACKOFF_MS);
          if (outcome === "ok") this.view.peerServed(peer.id);
          if (outcome === "ok" && !this.have.has(pick.piece)) {
            this.servable.set(pick.piece); // the proof came with the piece
            this.store(pick.piece, "peer");
          }
          settle();
        }),
      ),
    );
  }

  private store(piece: number, from: "origin" | "peer"): void {
    if (this.have.has(piece)) return;
    this.have.set(piece);
    if (from === "peer") this.pushHave();
    this.lastProgressMs = this.world.queue.now;
    if (from === "origin") {
      this.unsigned.add(piece);
      this.announceState.dirty = true;
    }
    this.kick();
  }

  /**
   * The agent's HAVE push (have-push.ts): the targets the real SwarmView picks, paced by the real
   * PushPacing, one trip each way.
   */
  private pushHave(): void {
    this.tell(this.pushPacing.gained(this.pushTargets(), this.world.queue.now));
  }

  private pushTargets() {
    return this.view.pushTargets(this.servable, HAVE_PUSH_PEERS);
  }

  private tell({ tellNow, againInMs }: PushDecision): void {
    const mine = this.servable.encode();
    if (againInMs !== undefined)
      this.world.queue.after(againInMs, () =>
        this.tell(this.pushPacing.release(this.pushTargets(), this.world.queue.now)),
      );
    for (const peer of tellNow) {
      const target = this.world.node(peer.id);
      if (!target) continue;
      this.world.outcomes.pushes++;
      this.world.queue.after(this.world.rttMs / 2, () => target.takeHavePush(this.id, this.address, mine));
    }
  }

  /** A peer's HAVE push, as the peer API takes it: like a request's asker headers. */
  takeHavePush(id: string, address: string, have: string): void {
    if (!this.active) return;
    this.view.learnAsker(id, address, have, this.world.queue.now);
    this.kick();
  }

  private announce(then: (res: AnnounceResponse) => void): void {
    this.announceState.running = true;
    this.announceState.dirty = false;
    this.announceState.lastMs = this.world.queue.now;
    const hashes: Record<number, string> = {};
    for (const piece of this.unsigned) hashes[piece] = FAKE_HASH;
    const request: AnnounceRequest = {
      digest: this.world.digest,
      size: this.world.size,
      pieceSize: this.world.pieceSize,
      peerId: this.id,
      address: this.address,
      have: this.have.encode(),
      pieceHashes: hashes,
      complete: this.have.isComplete(),
      wantLease: this.doneAtMs === undefined && this.fallback === undefined,
      releaseLease: false,
    };
    this.world.queue.after(this.world.rttMs, () => {
      const res = this.world.announce(request, this.address);
      this.announceState.running = false;
      if (!res) return then(undefined as never);
      const now = this.world.queue.now;
      let signed = 0;
      for (const key of Object.keys(res.proofs)) {
        this.unsigned.delete(Number(key));
        if (!this.servable.has(Number(key))) signed++;
        this.servable.set(Number(key));
      }
      this.announceState.intervalMs = res.downloadIntervalMs;
      this.stallMs = Math.max(this.world.stallTimeoutMs, 1.5 * res.leaseTimeoutMs);
      if (this.view.apply(res, request.wantLease, now)) this.lastProgressMs = now;
      if (signed > 0 && this.active) this.pushHave(); // as the agent does for its origin pieces
      then(res);
    });
  }

  private finish(): void {
    this.active = false;
    this.doneAtMs = this.world.queue.now;
    for (let piece = 0; piece < this.world.pieceCount; piece++) this.servable.set(piece);
    this.announce(() => undefined); // as a seeder from now on
  }

  /** The rest straight from the origin, as the agent's fallback does. */
  private fallBack(reason: string): void {
    this.active = false;
    this.fallback = reason;
    const runs = missingRuns(this.have);
    const next = () => {
      const run = runs.find(r => r.start < r.end);
      if (!run) return this.finish();
      this.world.origin.start(this.world.pieceSize, () => {
        this.world.originBytes(this.world.pieceSize);
        this.have.set(run.start++);
        next();
      });
    };
    next();
  }
}
