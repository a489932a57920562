/**
 * What this agent holds for the swarm, shared by the fills and the peer API: the piece size of each
 * blob it has swarmed, the partial of a download in progress, and the blobs it seeds.
 */
import { choosePieceSize, DEFAULT_PIECE_SIZE } from "../../../protocol/pieces";
import type { PartialBlob } from "../cache/partial-store";

const MAX_SEEDS = 10_000;

export class SwarmBook {
  private readonly pieceSizes = new Map<string, number>();
  private readonly partials = new Map<string, PartialBlob>();
  private readonly seeds = new Map<string, { size: number; hashes?: Record<number, string> }>();
  private readonly leased = new Set<string>();

  /** `minPieceSize`: the protocol's (DEFAULT_PIECE_SIZE); only tests with tiny blobs change it. */
  constructor(readonly minPieceSize = DEFAULT_PIECE_SIZE) {}

  /** The swarm's piece size for a blob (as the tracker said it), or the protocol's for its size. */
  pieceSizeOf(digest: string, size: number): number {
    return this.pieceSizes.get(digest) ?? choosePieceSize(size, this.minPieceSize);
  }

  downloading(partial: PartialBlob): void {
    this.pieceSizes.set(partial.digest, partial.pieceSize);
    this.partials.set(partial.digest, partial);
  }

  partial(digest: string): PartialBlob | undefined {
    return this.partials.get(digest);
  }

  /** Whether the download of `digest` holds an origin lease right now. */
  holdsLease(digest: string, holds: boolean): void {
    if (holds) this.leased.add(digest);
    else this.leased.delete(digest);
  }

  /** Downloads holding an origin lease (they share this node's origin bandwidth). */
  get leasesHeld(): number {
    return this.leased.size;
  }

  /** The download ended (committed to the cache or abandoned). */
  finished(digest: string, seeding: { size: number; hashes?: Record<number, string> } | undefined): void {
    this.partials.delete(digest);
    this.leased.delete(digest);
    if (!seeding) return;
    this.seeds.delete(digest);
    this.seeds.set(digest, seeding);
    if (this.seeds.size > MAX_SEEDS) this.seeds.delete(this.seeds.keys().next().value as string);
  }

  /** Blobs to re-announce as complete on the heartbeat. */
  seeding(): { digest: string; size: number; pieceSize: number; hashes?: Record<number, string> }[] {
    return [...this.seeds].map(([digest, seed]) => ({
      digest,
      ...seed,
      pieceSize: this.pieceSizeOf(digest, seed.size),
    }));
  }

  /** Remembers the piece hashes of a seed (computed from the cached blob). */
  setSeedHashes(digest: string, hashes: Record<number, string>): void {
    const seed = this.seeds.get(digest);
    if (seed) seed.hashes = hashes;
  }

  forgetSeed(digest: string): void {
    this.seeds.delete(digest);
  }
}
