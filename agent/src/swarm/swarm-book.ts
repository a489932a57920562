/**
 * What this agent holds for the swarm, shared by the downloads and the peer API: the piece size of
 * each blob it has swarmed, the partial and the proofs of a download in progress, and the blobs it
 * seeds with their proofs (which the seed heartbeat has re-signed when the tracker's key changes).
 */
import { choosePieceSize, DEFAULT_PIECE_SIZE } from "../../../protocol/pieces";
import type { PartialBlob } from "../cache/partial-store";
import type { HeldProofs } from "../peer/held-proofs";
import type { Asker } from "../../../protocol/peer-wire";
import type { HeldPieces } from "../peer/peer-api";

const MAX_SEEDS = 10_000;

export interface Seed {
  size: number;
  /** Absent until the heartbeat has hashed the cached blob (after a restart). */
  proofs?: HeldProofs;
}

export class SwarmBook implements HeldPieces {
  private readonly partials = new Map<
    string,
    { partial: PartialBlob; proofs: HeldProofs; onAsker?: (asker: Asker) => void }
  >();
  private readonly seeds = new Map<string, Seed>();
  private readonly leased = new Set<string>();

  /** `minPieceSize`: the protocol's (DEFAULT_PIECE_SIZE); only tests with tiny blobs change it. */
  constructor(readonly minPieceSize = DEFAULT_PIECE_SIZE) {}

  /** A download's piece size, else the protocol's for the blob's size (nothing else to remember). */
  pieceSizeOf(digest: string, size: number): number {
    return this.partials.get(digest)?.partial.pieceSize ?? choosePieceSize(size, this.minPieceSize);
  }

  /** A download started; `onAsker` hears of the peers that ask this node for its pieces. */
  downloading(partial: PartialBlob, proofs: HeldProofs, onAsker?: (asker: Asker) => void): void {
    this.partials.set(partial.digest, { partial, proofs, onAsker });
  }

  /** A peer asked for a piece of `digest` and said who it is: the running download may use it. */
  askedBy(digest: string, asker: Asker): void {
    this.partials.get(digest)?.onAsker?.(asker);
  }

  partial(digest: string): PartialBlob | undefined {
    return this.partials.get(digest)?.partial;
  }

  /** Proofs of the pieces held of `digest`: a download's, else a seed's. */
  proofs(digest: string): HeldProofs | undefined {
    return this.partials.get(digest)?.proofs ?? this.seeds.get(digest)?.proofs;
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

  /** The download ended (committed to the cache, to be seeded, or abandoned). */
  finished(digest: string, seeding: Seed | undefined): void {
    this.partials.delete(digest);
    this.leased.delete(digest);
    if (!seeding) return;
    this.seeds.delete(digest);
    this.seeds.set(digest, seeding);
    if (this.seeds.size > MAX_SEEDS) this.seeds.delete(this.seeds.keys().next().value as string);
  }

  /** Blobs to re-announce as complete on the heartbeat. */
  seeding(): ({ digest: string; pieceSize: number } & Seed)[] {
    return [...this.seeds].map(([digest, seed]) => ({
      digest,
      ...seed,
      pieceSize: this.pieceSizeOf(digest, seed.size),
    }));
  }

  /** Remembers the proofs of a seed (its hashes computed from the cached blob). */
  setSeedProofs(digest: string, proofs: HeldProofs): void {
    const seed = this.seeds.get(digest);
    if (seed) seed.proofs = proofs;
  }

  forgetSeed(digest: string): void {
    this.seeds.delete(digest);
  }
}
