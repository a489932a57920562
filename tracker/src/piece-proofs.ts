/**
 * A swarm's piece hashes and the tracker's signatures over them (protocol/piece-proof.ts), 96 bytes
 * a piece: the first accepted report of a piece wins and is signed once; a disagreeing later report
 * is only counted.
 */
import { PIECE_HASH_BYTES, PROOF_SIGNATURE_BYTES } from "../../protocol/piece-proof";
import { emptyBitfield, hasPiece, setPiece } from "./bitfield";

export type Sign = (index: number, hashHex: string) => Buffer;
export type RecordResult = "accepted" | "same" | "conflict";

export class PieceProofs {
  private readonly hashes: Buffer;
  private readonly signatures: Buffer;
  private readonly known: Uint8Array;
  private count = 0;
  conflicts = 0;

  constructor(readonly pieceCount: number) {
    this.hashes = Buffer.alloc(pieceCount * PIECE_HASH_BYTES);
    this.signatures = Buffer.alloc(pieceCount * PROOF_SIGNATURE_BYTES);
    this.known = emptyBitfield(pieceCount);
  }

  get size(): number {
    return this.count;
  }

  /** Records a reported hash (64 lowercase hex, index in range: checked by the decoder). */
  record(index: number, hashHex: string, sign: Sign): RecordResult {
    if (hasPiece(this.known, index)) {
      if (this.hash(index) === hashHex) return "same";
      this.conflicts++;
      return "conflict";
    }
    this.hashes.write(hashHex, index * PIECE_HASH_BYTES, PIECE_HASH_BYTES, "hex");
    sign(index, hashHex).copy(this.signatures, index * PROOF_SIGNATURE_BYTES);
    setPiece(this.known, index);
    this.count++;
    return "accepted";
  }

  isKnown(index: number): boolean {
    return hasPiece(this.known, index);
  }

  hash(index: number): string | undefined {
    if (!hasPiece(this.known, index)) return undefined;
    return this.hashes.toString("hex", index * PIECE_HASH_BYTES, (index + 1) * PIECE_HASH_BYTES);
  }

  /** The signature (base64) of a known piece. */
  signature(index: number): string | undefined {
    if (!hasPiece(this.known, index)) return undefined;
    const at = index * PROOF_SIGNATURE_BYTES;
    return this.signatures.toString("base64", at, at + PROOF_SIGNATURE_BYTES);
  }
}
