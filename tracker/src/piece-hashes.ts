/**
 * A swarm's piece hashes in 32 bytes each (a Map of hex strings took ~150 bytes a piece): the first
 * report of a piece wins, a disagreeing later one is only counted.
 */
import { emptyBitfield, hasPiece, setPiece } from "./bitfield";

export const HASH_BYTES = 32;

export class PieceHashes {
  private readonly bytes: Buffer;
  private readonly known: Uint8Array;
  private count = 0;
  conflicts = 0;

  constructor(readonly pieceCount: number) {
    this.bytes = Buffer.alloc(pieceCount * HASH_BYTES);
    this.known = emptyBitfield(pieceCount);
  }

  get size(): number {
    return this.count;
  }

  /** Records a reported hash (64 lowercase hex, index in range: checked by the decoder). */
  record(index: number, hex: string): void {
    const at = index * HASH_BYTES;
    if (!hasPiece(this.known, index)) {
      this.bytes.write(hex, at, HASH_BYTES, "hex");
      setPiece(this.known, index);
      this.count++;
    } else if (this.bytes.toString("hex", at, at + HASH_BYTES) !== hex) this.conflicts++;
  }

  get(index: number): string | undefined {
    if (!hasPiece(this.known, index)) return undefined;
    return this.bytes.toString("hex", index * HASH_BYTES, (index + 1) * HASH_BYTES);
  }

  toRecord(): Record<number, string> {
    const out: Record<number, string> = {};
    for (let index = 0; index < this.pieceCount; index++) {
      const hash = this.get(index);
      if (hash !== undefined) out[index] = hash;
    }
    return out;
  }
}
