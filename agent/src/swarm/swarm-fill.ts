/**
 * A fill for InFlight that gets a blob through the swarm (DESIGN 2.4): join at the tracker, fetch the
 * origin lease with Range (in order, announcing after each piece with its hash), fetch other pieces
 * from peers (verified against the tracker's hash; a bad piece bans the peer for this blob), keep
 * pieces in a PartialBlob and feed the client's writer in order as contiguous pieces land.
 * Tracker unreachable, no usable peer, or no progress for the stall timeout: the rest comes from the
 * origin directly. The writer's commit verifies the whole digest.
 */
import type { Logger } from "pino";
import {
  Bitfield,
  choosePieceSize,
  pieceCount,
  pieceSpan,
  sha256Hex,
  verifyPiece,
} from "../../../protocol/pieces";
import type { AnnounceRequest, AnnounceResponse } from "../../../protocol/tracker-api";
import type { BlobRequest } from "../blobs/blob-source";
import type { BlobWriter } from "../cache/blob-store";
import type { PeerBanReason } from "../metrics";
import type { SourceTally } from "../cache/in-flight";
import type { PartialBlob, PartialStore } from "../cache/partial-store";
import type { UpstreamClient } from "../upstream/upstream-client";
import { PeerBusyError, type PeerApi } from "./peer-client";
import { InOrderFeeder } from "./in-order-feeder";
import { intoPieces, LeaseLostError, whileLeased } from "./piece-chunks";
import { pickPieces, PieceRequest } from "./piece-picker";
import type { SwarmBook } from "./swarm-book";
import { missingRuns, SwarmView } from "./swarm-view";
import type { TrackerApi } from "./tracker-client";

export interface SwarmFillDeps {
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
  };
  /** The swarm's piece hashes for this digest proved false: fetch it from the origin for a while. */
  distrust(digest: string): void;
  log: Logger;
  peerId: string;
  address: string;
  stallTimeoutMs: number;
  maxPerPeer?: number;
  maxTotal?: number;
  now?: () => number;
}

const POLL_MS = 200;
const ANNOUNCE_POLL_MS = 1_000;
const PEER_FAILURES_BEFORE_BAN = 2;
/** A peer that answered busy is left alone this long (a slot frees about every piece time / slots). */
const PEER_BUSY_BACKOFF_MS = 250;
/** Origin Range requests one lease holder keeps running at once (each up to the lease's fetchEnd). */
const ORIGIN_PIPELINE = 2;
/**
 * The stall timeout is at least this many of the tracker's lease timeouts, so a stuck origin lease
 * is handed to another member before every member gives up on the swarm and goes to the origin.
 */
const STALL_LEASE_TIMEOUTS = 1.5;
/** A leased origin stream silent this long (x lease timeout) is reopened with Range from its last
 * byte, so a dead connection is replaced before the tracker moves the lease and the piece is fetched
 * twice. */
const ORIGIN_IDLE_LEASE_FRACTION = 0.25;

export class SwarmDownload {
  private partial!: PartialBlob;
  private have!: Bitfield;
  private count = 0;
  private view!: SwarmView;
  private inFlight: (PieceRequest & { startedMs: number })[] = [];
  private readonly tasks = new Set<Promise<void>>();
  /** Origin Range requests of the lease running now: pieces next..end-1 are still to come. */
  private readonly originRuns = new Set<{ next: number; end: number }>();
  private stopping = false;
  private fallbackReason?: string;
  private feeder!: InOrderFeeder;
  private lastProgress = 0;
  private stallMs: number;
  private leasedOriginIdleMs: number | undefined;
  private lastAnnounce = 0;
  private announcing?: Promise<void>;
  private dirty = false;
  private wakeUp?: () => void;
  private readonly now: () => number;

  constructor(
    private readonly deps: SwarmFillDeps,
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
      if (joined) await this.loop();
      await this.settleTasks();
      if (this.fallbackReason) await this.fallback(this.fallbackReason);
      await this.feeder.finish();
      await this.writer.commit();
      book.finished(this.digest, { size: this.request.size, hashes: this.view.allHashes() });
      await this.partial.abort();
      await this.announce({ complete: true, wantLease: false }).catch(() => undefined);
    } catch (err) {
      this.stopping = true;
      await this.settleTasks();
      book.finished(this.digest, undefined);
      if ((err as { code?: string }).code === "PEERPULL_DIGEST_MISMATCH") {
        // Every piece matched the swarm's hashes, yet the blob does not: the hashes were wrong (a
        // member reported false ones). The client's bytes cannot be taken back, so this request
        // fails; the next one for this digest goes to the origin (DESIGN 2.4).
        await this.partial?.abort();
        this.deps.counters.fallback("digest");
        this.deps.distrust(this.digest);
        this.deps.log.error(
          { digest: this.digest },
          "swarm pieces matched their hashes but not the blob digest",
        );
      }
      await this.writer.abort().catch(() => undefined);
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
    this.have = this.partial.have;
    this.count = pieceCount(this.request.size, pieceSize);
    this.view = new SwarmView(this.count, PEER_FAILURES_BEFORE_BAN);
    const partial = this.partial;
    this.feeder = new InOrderFeeder(
      this.writer,
      {
        have: () => this.have,
        span: index => pieceSpan(index, this.request.size, pieceSize),
        read: (start, end) => partial.readRange(start, end),
      },
      this.count,
      () => this.wake(),
    );
    this.deps.book.downloading(this.partial);
  }

  /** First announce; false (with a fallback reason) when the swarm cannot help. */
  private async join(): Promise<boolean> {
    try {
      let res = await this.announceOnce({});
      if (res.pieceSize !== this.partial.pieceSize) {
        await this.partial.abort();
        await this.openPartial(res.pieceSize);
        res = await this.announceOnce({});
      }
      if (res.leases.length === 0 && res.peers.length === 0 && !this.have.isComplete()) {
        this.fallbackReason = "no-peers";
        return false;
      }
      return true;
    } catch (err) {
      this.deps.log.warn({ digest: this.digest, err }, "tracker unreachable: fetching from the origin");
      this.fallbackReason = "tracker";
      return false;
    }
  }

  private async loop(): Promise<void> {
    this.lastProgress = this.now();
    while (!this.have.isComplete()) {
      if (this.feeder.error) throw this.feeder.error;
      if (this.now() - this.lastProgress > this.stallMs) {
        this.fallbackReason = "stall";
        break;
      }
      if (this.view.noUsablePeer()) {
        this.fallbackReason = "no-peers";
        break;
      }
      this.startOrigin();
      this.startPeers();
      this.maybeAnnounce();
      this.feeder.kick();
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, POLL_MS);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.stopping = true;
  }

  private wake(): void {
    this.wakeUp?.();
  }

  private track(task: Promise<void>): void {
    this.tasks.add(task);
    void task.finally(() => {
      this.tasks.delete(task);
      this.wake();
    });
  }

  private async settleTasks(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.tasks, this.announcing]);
  }

  /**
   * Keeps up to ORIGIN_PIPELINE Range requests of the lease running, each over the next run of
   * pieces not held or requested, never past the lease's fetchEnd: the tracker never hands a piece
   * below fetchEnd to anyone else, so no byte requested here is fetched twice. The tracker moves
   * fetchEnd on each announce (to the lease end when this node is alone: one long stream).
   */
  private startOrigin(): void {
    const lease = this.view.leases[0];
    if (this.stopping || !lease) return;
    let from = lease.start;
    while (this.originRuns.size < this.originDepth()) {
      while (from < lease.fetchEnd && (this.have.has(from) || this.originRequested(from))) from++;
      if (from >= lease.fetchEnd) return;
      let to = from + 1;
      while (to < lease.fetchEnd && !this.have.has(to) && !this.originRequested(to)) to++;
      this.startOriginRun(from, to);
      from = to;
    }
  }

  private originRequested(piece: number): boolean {
    for (const run of this.originRuns) if (piece >= run.next && piece < run.end) return true;
    return false;
  }

  private startOriginRun(first: number, end: number): void {
    const run = { next: first, end };
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

  /**
   * Two requests in flight keep a lone lease's stream busy between pieces; a node holding leases of
   * several blobs already has several streams, and more flows on one link starve some of them
   * long enough for their leases to expire.
   */
  private originDepth(): number {
    return this.deps.book.leasesHeld > 1 ? 1 : ORIGIN_PIPELINE;
  }

  /**
   * Pieces first..end-1 from the origin in one Range stream; `leased` tracks a lease's request (the
   * piece it is on), absent for the fallback's unleased fetches.
   */
  private async originRun(first: number, end: number, leased?: { next: number }): Promise<void> {
    const { size } = this.request;
    const pieceSize = this.partial.pieceSize;
    const span = {
      offset: pieceSpan(first, size, pieceSize).start,
      end: pieceSpan(end - 1, size, pieceSize).end,
      idleTimeoutMs: leased ? this.leasedOriginIdleMs : undefined,
    };
    const { upstream, repo, digest, credentials } = this.request;
    let chunks = this.deps.client.blob(upstream, repo, digest, credentials, span);
    // A piece whose lease expired and went to someone else is dropped mid-stream: the new holder
    // fetches it, and each byte should leave the origin once.
    if (leased) chunks = whileLeased(chunks, () => this.stopping || this.view.inLease(leased.next));
    for await (const { index, data } of intoPieces(chunks, first, end, size, pieceSize)) {
      if (!this.have.has(index)) {
        this.view.fetchedFromOrigin(index, sha256Hex(data));
        await this.store(index, data, "origin");
      }
      // Moved on only once the piece is held: until then it must still count as requested.
      if (leased) leased.next = index + 1;
      if (leased) this.maybeAnnounce(); // progress for the lease and the hash for the others
      if (leased && this.stopping) return;
    }
  }

  private startPeers(): void {
    if (this.stopping) return;
    const picks = pickPieces({
      pieceCount: this.count,
      needed: piece => !this.have.has(piece) && !this.view.inLease(piece),
      hashKnown: piece => this.view.hashes.has(piece),
      peers: this.view.peers,
      inFlight: this.inFlight,
      maxPerPeer: this.deps.maxPerPeer ?? 4,
      maxTotal: this.deps.maxTotal ?? 16,
      endgamePieces: 4,
      now: this.now(),
      endgameAfterMs: 2_000,
    });
    for (const pick of picks) {
      const running = { ...pick, startedMs: this.now() };
      this.inFlight.push(running);
      const task = this.fetchFromPeer(pick).finally(() => {
        this.inFlight = this.inFlight.filter(r => r !== running);
      });
      this.track(task);
    }
  }

  private async fetchFromPeer(pick: PieceRequest): Promise<void> {
    const peer = this.view.peers.find(p => p.id === pick.peerId);
    if (!peer) return;
    const span = pieceSpan(pick.piece, this.request.size, this.partial.pieceSize);
    const length = span.end - span.start + 1;
    let data: Buffer;
    try {
      data = await this.deps.peers.piece(peer.address, this.digest, pick.piece, length);
      // Paid after the fact: a busy answer moved no bytes and must cost none.
      await this.deps.limiter.take(length);
    } catch (err) {
      if (err instanceof PeerBusyError) {
        this.view.peerBusy(peer.id, this.now() + PEER_BUSY_BACKOFF_MS);
        return;
      }
      if (this.view.peerFailed(peer.id)) this.deps.counters.ban("failures");
      this.deps.log.debug({ digest: this.digest, peer: peer.id, err }, "peer piece failed");
      return;
    }
    this.deps.counters.peerBytes(length);
    const hash = this.view.hashes.get(pick.piece)!;
    if (!verifyPiece(data, hash, pick.piece, this.request.size, this.partial.pieceSize)) {
      this.deps.counters.verifyFailure();
      this.deps.log.warn({ digest: this.digest, peer: peer.id, piece: pick.piece }, "bad piece: peer banned");
      if (this.view.ban(peer.id)) this.deps.counters.ban("bad-piece");
      return;
    }
    if (!this.have.has(pick.piece) && !this.stopping) await this.store(pick.piece, data, peer.id);
  }

  private async store(piece: number, data: Buffer, from: string): Promise<void> {
    await this.partial.writePiece(piece, data);
    this.deps.log.debug({ digest: this.digest, piece, from }, "piece stored");
    this.have.set(piece);
    this.sourced[from === "origin" ? "origin" : "peer"] += data.length;
    this.lastProgress = this.now();
    this.dirty = true;
    this.feeder.offer(piece, data);
    this.wake();
  }

  /** The rest from the origin: every run of missing pieces in one Range request each. */
  private async fallback(reason: string): Promise<void> {
    this.deps.counters.fallback(reason);
    this.deps.log.info(
      { digest: this.digest, reason, have: this.have.count(), of: this.count },
      "swarm fallback",
    );
    if (reason !== "tracker")
      void this.announce({ releaseLease: true, wantLease: false }).catch(() => undefined);
    for (const run of missingRuns(this.have)) await this.originRun(run.start, run.end);
  }

  private maybeAnnounce(): void {
    if (this.announcing || this.stopping) return;
    if (!this.dirty && this.now() - this.lastAnnounce < ANNOUNCE_POLL_MS) return;
    this.announcing = this.announce({})
      .then(() => undefined)
      .catch(err => this.deps.log.debug({ digest: this.digest, err }, "announce failed"))
      .finally(() => {
        this.announcing = undefined;
        this.wake();
      });
  }

  private async announce(flags: Partial<AnnounceRequest>): Promise<void> {
    await this.announceOnce(flags);
  }

  private async announceOnce(flags: Partial<AnnounceRequest>): Promise<AnnounceResponse> {
    this.dirty = false;
    this.lastAnnounce = this.now();
    const res = await this.deps.tracker.announce({
      digest: this.digest,
      size: this.request.size,
      pieceSize: this.partial.pieceSize,
      peerId: this.deps.peerId,
      address: this.deps.address,
      have: this.have.encode(),
      pieceHashes: { ...this.view.myHashes },
      complete: this.have.isComplete(),
      wantLease: !this.stopping,
      releaseLease: false,
      ...flags,
    });
    if (res.pieceSize !== this.partial.pieceSize) return res;
    this.stallMs = Math.max(this.deps.stallTimeoutMs, STALL_LEASE_TIMEOUTS * res.leaseTimeoutMs);
    this.leasedOriginIdleMs = Math.max(1_000, Math.round(ORIGIN_IDLE_LEASE_FRACTION * res.leaseTimeoutMs));
    const before = JSON.stringify(this.view.leases);
    // A stall is the whole swarm standing still, not this node waiting its turn in a herd.
    if (this.view.apply(res, !this.stopping)) this.lastProgress = this.now();
    this.deps.book.holdsLease(this.digest, this.view.leases.length > 0);
    if (JSON.stringify(this.view.leases) !== before)
      this.deps.log.debug({ digest: this.digest, leases: this.view.leases }, "origin lease changed");
    return res;
  }
}
