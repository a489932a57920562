/**
 * The HAVE push (protocol/peer-wire.ts): when a download gains a piece (from a peer, or the
 * tracker's signature on one from its origin lease), it tells up to
 * HAVE_PUSH_PEERS of the peers it knows that lack something it can serve, so they see a new holder
 * at once instead of at their next tracker answer (every 1-5 s under load) or their next request to
 * it. Each peer is told at most once per HAVE_PUSH_GAP_MS (PushPacing): what is gained meanwhile goes
 * out together when the gap has passed, since every push carries the whole HAVE. Fire and forget: a
 * push that fails costs nothing (no failure counted, no retry).
 */
import type { Asker } from "../../../protocol/peer-wire";
import type { HavePushResult } from "../metrics";
import type { PeerApi } from "../peer/peer-client";
import type { KnownPeer } from "./swarm-view";

/**
 * Peers told of each piece gained. The simulation, 1,000 nodes at a 5 s announce interval (as
 * 10,000 get it): no push 2.23 S/B at p99, 8 peers 2.03, 16 peers 1.90, 32 peers 1.97 (BENCHMARKS.md).
 */
export const HAVE_PUSH_PEERS = 16;

/**
 * The shortest time between two pushes to one peer. A node on a 25 Mbit/s link gains a 1 MiB piece
 * every ~0.35 s, and a push per piece per peer was most of the small HTTP exchanges in a herd
 * (~1,800 per node per 100 MiB in ten nodes, a fifth of the agent's CPU). With 1 s the simulation
 * sends half the pushes, 1,000 nodes finish 0.03-0.04 S/B sooner at p99 and 300 nodes within the
 * spread of seeds (BENCHMARKS.md; 500 ms and 2 s did worse at 300).
 */
export const HAVE_PUSH_GAP_MS = 1_000;

/** Remembered pushes beyond which those older than the gap (no longer pacing anything) are dropped. */
const TOLD_KEPT = 256;

export interface PushDecision {
  tellNow: KnownPeer[];
  /** When the peers held back may be told: the caller wakes release() then (set only when it moved). */
  againInMs?: number;
}

/**
 * Which push targets to tell now: those not told within the gap. The rest are owed the news and
 * told by release() once their gap has passed (if they are still targets then). Pure bookkeeping
 * with the caller's clock, so the simulation runs the agent's pacing.
 */
export class PushPacing {
  private readonly toldMs = new Map<string, number>();
  private owed = new Set<string>();
  private wakeAtMs?: number;

  constructor(private readonly gapMs: number = HAVE_PUSH_GAP_MS) {}

  /** This node gained something: every target is owed the news. */
  gained(targets: readonly KnownPeer[], now: number): PushDecision {
    for (const peer of targets) this.owed.add(peer.id);
    return this.release(targets, now);
  }

  /** Tells the owed targets whose gap has passed; `targets`: who lacks something now. */
  release(targets: readonly KnownPeer[], now: number): PushDecision {
    if (this.wakeAtMs !== undefined && this.wakeAtMs <= now) this.wakeAtMs = undefined;
    const owed = new Set<string>();
    const tellNow: KnownPeer[] = [];
    let nextDueMs = Infinity;
    for (const peer of targets) {
      if (!this.owed.has(peer.id)) continue;
      // One expression for "due" and "when": with fractional clocks (the simulation's) they must agree.
      const dueMs = (this.toldMs.get(peer.id) ?? -Infinity) + this.gapMs;
      if (now >= dueMs) {
        tellNow.push(peer);
        this.toldMs.set(peer.id, now);
      } else {
        owed.add(peer.id);
        nextDueMs = Math.min(nextDueMs, dueMs);
      }
    }
    this.owed = owed; // an owed peer that is no longer a target lacks nothing this node can serve
    this.forgetStale(now);
    if (nextDueMs === Infinity || (this.wakeAtMs !== undefined && this.wakeAtMs <= nextDueMs))
      return { tellNow };
    this.wakeAtMs = nextDueMs;
    return { tellNow, againInMs: nextDueMs - now };
  }

  /** Peers whose last push is remembered (bounded: TOLD_KEPT, plus those told within the gap). */
  get remembered(): number {
    return this.toldMs.size;
  }

  private forgetStale(now: number): void {
    if (this.toldMs.size <= TOLD_KEPT) return;
    for (const [id, told] of this.toldMs) if (now >= told + this.gapMs) this.toldMs.delete(id);
  }
}

/** Who a push goes to and what it says, as of now (the download's view and its servable HAVE). */
export type PushAudience = () => { targets: readonly KnownPeer[]; asker: Asker };

/** The agent's side: sends what PushPacing allows, and what it held back once the gap has passed. */
export class HavePush {
  private readonly inFlight = new Set<string>();
  private readonly pacing: PushPacing;
  private readonly now: () => number;
  private wakeTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly peers: Pick<PeerApi, "pushHave">,
    private readonly digest: string,
    private readonly audience: PushAudience,
    private readonly counted: (result: HavePushResult) => void = () => undefined,
    options: { gapMs?: number; now?: () => number } = {},
  ) {
    this.pacing = new PushPacing(options.gapMs);
    this.now = options.now ?? Date.now;
  }

  /** This node gained a servable piece: tell the audience, now or when the gap allows. */
  gained(): void {
    const { targets, asker } = this.audience();
    this.carryOut(this.pacing.gained(this.notInFlight(targets), this.now()), asker);
  }

  /** The download failed: nothing more is told. (A finished one still tells what it held back.) */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.wakeTimer);
  }

  get pending(): number {
    return this.inFlight.size;
  }

  private release(): void {
    if (this.stopped) return;
    const { targets, asker } = this.audience();
    this.carryOut(this.pacing.release(this.notInFlight(targets), this.now()), asker);
  }

  /** A peer whose last push is still out is skipped, not told twice at once (the next gain tells it). */
  private notInFlight(targets: readonly KnownPeer[]): KnownPeer[] {
    return targets.filter(peer => !this.inFlight.has(peer.id));
  }

  private carryOut({ tellNow, againInMs }: PushDecision, asker: Asker): void {
    for (const peer of tellNow) this.send(peer, asker);
    if (againInMs === undefined) return;
    clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => this.release(), againInMs).unref();
  }

  private send(peer: KnownPeer, asker: Asker): void {
    this.inFlight.add(peer.id);
    this.peers
      .pushHave(peer.address, this.digest, asker)
      .then(
        () => this.counted("sent"),
        () => this.counted("failed"),
      )
      .finally(() => this.inFlight.delete(peer.id));
  }
}
