/**
 * The hashes of the pieces a download fetches from the origin, which the tracker signs into the
 * proofs peers check. While the member is alone in its swarm nobody can ask it for a piece, so the
 * second SHA-256 of every byte (the blob's own digest is the first) waits: until an announce answer
 * counts another member, or until the client has the whole blob and the seed's proofs must be
 * whole. A lone pull is bound by the event loop (issue 10), so this is off its path.
 */
import { type PieceBytes, sha256Hex } from "../../../protocol/pieces";
import type { HeldProofs } from "../peer/held-proofs";

export class OriginPieceHashes {
  /** Origin pieces stored without their hash. */
  private readonly deferred = new Set<number>();
  /** The last answer counted other members: pieces are hashed as they arrive. */
  private othersInSwarm = false;

  constructor(
    private readonly proofs: HeldProofs,
    private readonly readPiece: (index: number) => Promise<Buffer>,
  ) {}

  /** A piece just fetched from the origin, before it is stored. */
  fetched(index: number, data: PieceBytes): void {
    if (this.othersInSwarm) this.proofs.setHash(index, sha256Hex(data));
    else this.deferred.add(index);
  }

  /** An announce answer's member count; true when someone joined and deferred hashes await a report. */
  swarmMembers(count: number): boolean {
    this.othersInSwarm = count > 1;
    return this.othersInSwarm && this.deferred.size > 0;
  }

  /** Before an announce: the deferred hashes, if anyone could use them now. */
  async beforeAnnounce(): Promise<void> {
    if (this.othersInSwarm) await this.hashDeferred();
  }

  /** Hashes every deferred piece, read back from where it is stored. */
  async hashDeferred(): Promise<void> {
    for (const index of [...this.deferred]) {
      if (!this.deferred.delete(index)) continue; // a call running beside this one took it
      try {
        this.proofs.setHash(index, sha256Hex(await this.readPiece(index)));
      } catch (err) {
        this.deferred.add(index);
        throw err;
      }
    }
  }
}
