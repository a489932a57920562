/**
 * A fill for InFlight that gets a blob through the swarm (DESIGN 2.4). It carries out what
 * download-plan.ts decides and feeds every event back into it: join at the tracker, fetch the
 * origin lease with Range requests (hashing each piece; the tracker signs the hashes into proofs),
 * fetch other pieces from peers (each with its proof, checked by piece-check.ts; a bad one bans the
 * peer for this blob), keep pieces in a PartialBlob and feed the client's writer in order as
 * contiguous pieces land. Tracker unreachable, no usable peer, or no progress anywhere for the
 * stall timeout: the rest comes from the origin directly. The writer's commit verifies the digest.
 */
import { randomInt } from "node:crypto";
import type { Logger } from "pino";
import { isDigestMismatch } from "../../../protocol/digest";
import {
  choosePieceSize,
  pieceBytesLength,
  type PieceBytes,
  pieceCount,
  pieceSpan,
} from "../../../protocol/pieces";
import type { Asker } from "../../../protocol/peer-wire";
import type { AnnounceRequest, AnnounceResponse } from "../../../protocol/tracker-api";
import type { BlobRequest } from "../blobs/blob-source";
import type { BlobWriter } from "../cache/blob-store";
import type { SourceTally } from "../cache/in-flight";
import type { PartialBlob, PartialStore } from "../cache/partial-store";
import type { HavePushResult, PeerBanReason } from "../metrics";
import { HeldProofs } from "../peer/held-proofs";
import { PeerBusyError, PeerMissingError, type PeerApi } from "../peer/peer-client";
import type { UpstreamClient } from "../upstream/upstream-client";
import { DownloadState, OriginRun, PEER_BUSY_BACKOFF_MS, planDownload, PLAN_LIMITS } from "./download-plan";
import { HAVE_PUSH_PEERS, HavePush } from "./have-push";
import { InOrderFeeder } from "./in-order-feeder";
import { OriginPieceHashes } from "./origin-piece-hashes";
import { checkPeerPiece } from "./piece-check";
import { intoPieces, LeaseLostError, whileLeased } from "./piece-chunks";
import type { PieceRequest } from "./piece-picker";
import type { SwarmBook } from "./swarm-book";
import { missingRuns, SwarmView } from "./swarm-view";
import type { TrackerApi } from "./tracker-client";

export interface SwarmDownloadDeps {
  tracker: TrackerApi;
  peers: PeerApi;
  client: Pick<UpstreamClient, "blob">;
  partials: Pick<PartialStore, "create" | "resume">;
  book: SwarmBook;
  limiter: { take(bytes: number): Promise<void> };
  counters: {
    peerBytes(n: number): void;
    verifyFailure(): void;
    fallback(reason: string): void;
    ban(reason: PeerBanReason): void;
    havePush(result: HavePushResult): void;
  };
  /** The swarm's proofs for this digest proved false: fetch it from the origin for a while. */
  distrust(digest: string): void;
  log: Logger;
  peerId: string;
  address: string;
  stallTimeoutMs: number;
  now?: () => number;
}

const PEER_FAILURES_BEFORE_BAN = 2;
/** Origin Range requests one lease holder keeps running (one when it holds leases of several blobs). */
const ORIGIN_PIPELINE = 2;
/** The stall timeout is at least this many lease timeouts, so a stuck lease moves before members give up. */
const STALL_LEASE_TIMEOUTS = 1.5;
/** A leased origin stream silent this long (x lease timeout) is reopened from its last byte. */
const ORIGIN_IDLE_LEASE_FRACTION = 0.25;
const DEFAULT_DOWNLOAD_INTERVAL_MS = 1_000;

export class SwarmDownload {
  private partial!: PartialBlob;
  private proofs!: HeldProofs;
  private view!: SwarmView;
  private havePush!: HavePush;
  private feeder!: InOrderFeeder;
  private count = 0;
  /** Where this download starts among equally rare pieces: its own, so a herd spreads over pieces and holders. */
  private pickStartAt = 0;
  private readonly originRuns = new Set<OriginRun>();
  private originHashes!: OriginPieceHashes;
  private peerRequests: (PieceRequest & { startedMs: number })[] = [];
  private readonly tasks = new Set<Promise<void>>();
  private announceState = {
    running: false,
    lastMs: 0,
    intervalMs: DEFAULT_DOWNLOAD_INTERVAL_MS,
    dirty: false,
  };
  private lastProgressMs = 0;
  private stallMs: number;
  private leasedOriginIdleMs?: number;
  private stopping = false;
  private wakeTimer?: NodeJS.Timeout;
  private settle?: (outcome: { fallback?: string; error?: Error }) => void;
  private readonly now: () => number;

  constructor(
    private readonly deps: SwarmDownloadDeps,
    private readonly request: BlobRequest & { size: number },
    private readonly writer: BlobWriter,
    private readonly sourced: SourceTally = { origin: 0, peer: 0 },
  ) {
    this.now = deps.now ?? Date.now;
    this.stallMs = deps.stallTimeoutMs;
  }

  private get digest(): string {
    return this.request.digest;
  }

  async run(): Promise<void> {
    const { book } = this.deps;
    try {
      await this.openPartial(choosePieceSize(this.request.size, book.minPieceSize));
      const joined = await this.join();
      const outcome = joined.ok ? await this.swarm() : { fallback: joined.fallback };
      await this.stop();
      if (outcome.error) throw outcome.error;
      if (outcome.fallback) await this.fallback(outcome.fallback);
      await this.feeder.finish();
      // The writer the feeder adopted the partial's data file with, if it did: that file becomes the blob.
      await this.feeder.target.commit();
      // The client has every byte by now. Unreadable pieces leave the seed without proofs: its
      // heartbeat hashes the cached blob instead.
      const proofs = await this.originHashes.hashDeferred().then(
        () => this.proofs,
        () => undefined,
      );
      book.finished(this.digest, { size: this.request.size, proofs });
      await this.partial.abort();
      await this.announce({ complete: true, wantLease: false }).catch(() => undefined);
    } catch (err) {
      await this.stop();
      this.havePush?.stop();
      book.finished(this.digest, undefined);
      if (isDigestMismatch(err)) {
        // Every piece matched its proof, yet the blob does not: the proofs were false (a member
        // reported false hashes). The client's bytes cannot be taken back, so this request fails;
        // the next one for this digest goes to the origin (DESIGN 2.4).
        await this.partial?.abort();
        this.deps.counters.fallback("digest");
        this.deps.distrust(this.digest);
        this.deps.log.error(
          { digest: this.digest },
          "swarm pieces matched their proofs but not the blob digest",
        );
      }
      await (this.feeder?.target ?? this.writer).abort().catch(() => undefined);
      throw err;
    }
  }

  private async openPartial(pieceSize: number): Promise<void> {
    const resumed = await this.deps.partials.resume(this.digest);
    if (resumed && resumed.pieceSize === pieceSize && resumed.size === this.request.size)
      this.partial = resumed;
    else {
      await resumed?.abort();
      this.partial = await this.deps.partials.create(this.digest, this.request.size, pieceSize);
    }
    this.count = pieceCount(this.request.size, pieceSize);
    this.pickStartAt = this.count > 0 ? randomInt(this.count) : 0;
    this.view = new SwarmView(this.count, PEER_FAILURES_BEFORE_BAN);
    this.proofs = new HeldProofs(this.count);
    this.havePush = new HavePush(
      this.deps.peers,
      this.digest,
      () => ({
        targets: this.view.pushTargets(this.proofs.servable, HAVE_PUSH_PEERS),
        asker: this.asAsker(),
      }),
      this.deps.counters.havePush,
    );
    this.originHashes = new OriginPieceHashes(this.proofs, index => this.partial.readPiece(index));
    const partial = this.partial;
    this.feeder = new InOrderFeeder(
      this.writer,
      {
        have: () => partial.have,
        readPiece: index => partial.readPiece(index),
        file: partial.dataPath,
      },
      this.count,
      () => this.kick(),
    );
    this.deps.book.downloading(partial, this.proofs, asker => {
      this.view.learnAsker(asker.peerId, asker.address, asker.have, this.now());
      this.kick();
    });
  }

  /** First announce: whether the swarm can help, or the reason to go to the origin. */
  private async join(): Promise<{ ok: true } | { ok: false; fallback: string }> {
    try {
      let res = await this.announceOnce({});
      if (res.pieceSize !== this.partial.pieceSize) {
        await this.partial.abort();
        await this.openPartial(res.pieceSize);
        res = await this.announceOnce({});
      }
      // The sample lists only members holding something useful; the count says whether any exist.
      const alone = res.leases.length === 0 && res.swarmMembers <= 1;
      return alone && !this.partial.have.isComplete() ? { ok: false, fallback: "no-peers" } : { ok: true };
    } catch (err) {
      this.deps.log.warn({ digest: this.digest, err }, "tracker unreachable: fetching from the origin");
      return { ok: false, fallback: "tracker" };
    }
  }

  /** Runs the plan until the blob is held, the swarm gives up, or something fails. */
  private swarm(): Promise<{ fallback?: string; error?: Error }> {
    this.lastProgressMs = this.now();
    return new Promise(resolve => {
      this.settle = outcome => {
        this.settle = undefined;
        resolve(outcome);
      };
      this.step();
    });
  }

  /** Something happened: plan again soon (once, however many events arrive together). */
  private kick(): void {
    if (!this.settle || this.stepQueued) return;
    this.stepQueued = true;
    queueMicrotask(() => {
      this.stepQueued = false;
      this.step();
    });
  }
  private stepQueued = false;

  private step(): void {
    if (!this.settle) return;
    clearTimeout(this.wakeTimer);
    if (this.feeder.error) return this.settle({ error: this.feeder.error });
    const plan = planDownload(
      this.planState(),
      { ...PLAN_LIMITS, originStreams: this.originStreams() },
      this.now(),
    );
    if (plan.done) return this.settle({});
    if (plan.fallback) return this.settle({ fallback: plan.fallback });
    for (const run of plan.origin) this.startOrigin(run.from, run.to);
    for (const pick of plan.peers) this.startPeer(pick);
    if (plan.announce) this.announceInBackground();
    this.feeder.kick();
    this.wakeTimer = setTimeout(() => this.step(), plan.wakeInMs);
  }

  private planState(): DownloadState {
    return {
      pieceCount: this.count,
      have: this.partial.have,
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

  /** A node holding leases of several blobs already has several streams on its link. */
  private originStreams(): number {
    return this.deps.book.leasesHeld > 1 ? 1 : ORIGIN_PIPELINE;
  }

  private track(task: Promise<void>): void {
    this.tasks.add(task);
    void task.finally(() => {
      this.tasks.delete(task);
      this.kick();
    });
  }

  private async stop(): Promise<void> {
    this.stopping = true;
    this.settle = undefined;
    clearTimeout(this.wakeTimer);
    await Promise.allSettled([...this.tasks]);
  }

  private startOrigin(first: number, end: number): void {
    const run: OriginRun = { next: first, end };
    this.originRuns.add(run);
    const task = this.originRun(first, end, run)
      .catch(err => {
        if (err instanceof LeaseLostError) {
          this.deps.log.debug(
            { digest: this.digest, piece: run.next },
            "lease moved on: origin fetch dropped",
          );
          return;
        }
        this.deps.log.warn({ digest: this.digest, err }, "origin lease fetch failed");
        return this.announce({ releaseLease: true, wantLease: false }).catch(() => undefined);
      })
      .finally(() => this.originRuns.delete(run));
    this.track(task);
  }

  /** Pieces first..end-1 from the origin in one Range stream; `leased` tracks a lease's request. */
  private async originRun(first: number, end: number, leased?: OriginRun): Promise<void> {
    const { size, upstream, repo, digest, credentials } = this.request;
    const pieceSize = this.partial.pieceSize;
    const span = {
      offset: pieceSpan(first, size, pieceSize).start,
      end: pieceSpan(end - 1, size, pieceSize).end,
      idleTimeoutMs: leased ? this.leasedOriginIdleMs : undefined,
    };
    let chunks = this.deps.client.blob(upstream, repo, digest, credentials, span);
    // A piece whose lease expired and went to someone else is dropped mid-stream: the new holder
    // fetches it, and each byte should leave the origin once.
    if (leased) chunks = whileLeased(chunks, () => this.stopping || this.view.inLease(leased.next));
    for await (const { index, parts } of intoPieces(chunks, first, end, size, pieceSize)) {
      if (!this.partial.have.has(index)) {
        this.originHashes.fetched(index, parts);
        await this.store(index, parts, "origin");
        this.announceState.dirty = true; // progress for the lease, a hash to sign
      }
      // Moved on only once the piece is held: until then it must still count as requested.
      if (leased) leased.next = index + 1;
      if (leased && this.stopping) return;
    }
  }

  private startPeer(pick: PieceRequest): void {
    const running = { ...pick, startedMs: this.now() };
    this.peerRequests.push(running);
    const task = this.fetchFromPeer(pick).finally(() => {
      this.peerRequests = this.peerRequests.filter(r => r !== running);
    });
    this.track(task);
  }

  private async fetchFromPeer(pick: PieceRequest): Promise<void> {
    const peer = this.view.peers.find(p => p.id === pick.peerId);
    const trackerKey = this.view.trackerKey;
    if (!peer || !trackerKey) return;
    const { size, digest } = this.request;
    const pieceSize = this.partial.pieceSize;
    const span = pieceSpan(pick.piece, size, pieceSize);
    const length = span.end - span.start + 1;
    let got;
    try {
      got = await this.deps.peers.piece(peer.address, digest, pick.piece, length, this.asAsker());
      // Paid after the fact: a busy answer moved no bytes and must cost none.
      await this.deps.limiter.take(length);
    } catch (err) {
      if (err instanceof PeerBusyError || err instanceof PeerMissingError) {
        if (err.have) this.view.learnHave(peer.id, err.have, this.now());
        if (err instanceof PeerBusyError) this.view.peerBusy(peer.id, this.now(), PEER_BUSY_BACKOFF_MS);
        return;
      }
      if (this.view.peerFailed(peer.id)) this.deps.counters.ban("failures");
      this.deps.log.debug({ digest, peer: peer.id, err }, "peer piece failed");
      return;
    }
    if (got.have) this.view.learnHave(peer.id, got.have, this.now());
    this.deps.counters.peerBytes(length);
    const check = checkPeerPiece(got, { digest, size, pieceSize, index: pick.piece, trackerKey });
    if (!check.ok) {
      // Under another tracker key: a peer that has not re-announced since the tracker restarted, or
      // one that never will. Either way a failure, not a busy answer: backing off and asking again
      // let such a peer hold a download until the stall timeout (45 s by default).
      if (check.verdict === "stale-key") {
        if (this.view.peerFailed(peer.id)) this.deps.counters.ban("failures");
        return;
      }
      this.deps.counters.verifyFailure();
      this.deps.log.warn(
        { digest, peer: peer.id, piece: pick.piece, reason: check.reason },
        "bad piece: peer banned",
      );
      if (this.view.ban(peer.id)) this.deps.counters.ban("bad-piece");
      return;
    }
    this.view.peerServed(peer.id);
    if (this.partial.have.has(pick.piece) || this.stopping) return;
    this.proofs.setProof(pick.piece, got.proof!);
    await this.store(pick.piece, got.data, peer.id);
    this.havePush.gained();
  }

  /** This node as its peer requests and HAVE pushes describe it. */
  private asAsker(): Asker {
    return { peerId: this.deps.peerId, address: this.deps.address, have: this.proofs.servable.encode() };
  }

  private async store(piece: number, data: PieceBytes, from: string): Promise<void> {
    await this.partial.writePiece(piece, data);
    this.deps.log.debug({ digest: this.digest, piece, from }, "piece stored");
    this.sourced[from === "origin" ? "origin" : "peer"] += pieceBytesLength(data);
    this.lastProgressMs = this.now();
    this.feeder.offer(piece, data);
    this.kick();
  }

  /** The rest from the origin: every run of missing pieces in one Range request each. */
  private async fallback(reason: string): Promise<void> {
    this.deps.counters.fallback(reason);
    const have = this.partial.have;
    this.deps.log.info({ digest: this.digest, reason, have: have.count(), of: this.count }, "swarm fallback");
    if (reason !== "tracker")
      void this.announce({ releaseLease: true, wantLease: false }).catch(() => undefined);
    this.stopping = false;
    for (const run of missingRuns(have)) await this.originRun(run.start, run.end);
  }

  private announceInBackground(): void {
    this.announceState.running = true;
    void this.announce({})
      .catch(err => this.deps.log.debug({ digest: this.digest, err }, "announce failed"))
      .finally(() => {
        this.announceState.running = false;
        this.kick();
      });
  }

  private async announce(flags: Partial<AnnounceRequest>): Promise<void> {
    await this.announceOnce(flags);
  }

  private async announceOnce(flags: Partial<AnnounceRequest>): Promise<AnnounceResponse> {
    await this.originHashes.beforeAnnounce();
    this.announceState.dirty = false;
    this.announceState.lastMs = this.now();
    const have = this.partial.have;
    const res = await this.deps.tracker.announce({
      digest: this.digest,
      size: this.request.size,
      pieceSize: this.partial.pieceSize,
      peerId: this.deps.peerId,
      address: this.deps.address,
      have: have.encode(),
      pieceHashes: this.proofs.unsigned(have),
      complete: have.isComplete(),
      wantLease: !this.stopping,
      releaseLease: false,
      ...flags,
    });
    if (res.pieceSize !== this.partial.pieceSize) return res;
    // Someone joined: the next announce carries the hashes of what this member fetched alone.
    if (this.originHashes.swarmMembers(res.swarmMembers)) this.announceState.dirty = true;
    this.stallMs = Math.max(this.deps.stallTimeoutMs, STALL_LEASE_TIMEOUTS * res.leaseTimeoutMs);
    this.leasedOriginIdleMs = Math.max(1_000, Math.round(ORIGIN_IDLE_LEASE_FRACTION * res.leaseTimeoutMs));
    this.announceState.intervalMs = res.downloadIntervalMs;
    const signed = this.proofs.acceptSignatures(res.trackerKey, res.proofs);
    // A new tracker key voids the proofs held: announce again at once to have them re-signed.
    if (Object.keys(this.proofs.unsigned(have)).length > 0 && Object.keys(res.proofs).length === 0)
      this.announceState.dirty = true;
    const before = JSON.stringify(this.view.leases);
    // A stall is the whole swarm standing still, not this node waiting its turn in a herd.
    if (this.view.apply(res, !this.stopping, this.now())) this.lastProgressMs = this.now();
    // Pieces from its origin lease just became servable: the peers hear of them now, not at their
    // next announce (the answer's sample names members still downloading for this).
    if (signed > 0 && !this.stopping) this.havePush.gained();
    this.deps.book.holdsLease(this.digest, this.view.leases.length > 0);
    if (JSON.stringify(this.view.leases) !== before)
      this.deps.log.debug({ digest: this.digest, leases: this.view.leases }, "origin lease changed");
    return res;
  }
}
