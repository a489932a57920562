/**
 * The proofs (protocol/piece-proof.ts) of the pieces this agent holds for one blob: each piece's
 * hash, and the tracker's signature over it once the tracker has given one. The peer API serves a
 * piece only with its proof; the announce sends the hashes still waiting for a signature (or all of
 * them when the tracker's key changed, e.g. after a tracker restart). 96 bytes a piece.
 */
import { PIECE_HASH_BYTES, PROOF_SIGNATURE_BYTES } from "../../../protocol/piece-proof";
import { Bitfield } from "../../../protocol/pieces";

export interface PieceProof {
  hashHex: string;
  /** base64 Ed25519 signature */
  signature: string;
  /** base64 public key of the tracker that signed it */
  trackerKey: string;
}

export class HeldProofs {
  private readonly hashes: Buffer;
  private readonly signatures: Buffer;
  private readonly hashed: Bitfield;
  private readonly signed: Bitfield;
  /** The key the signatures were made with; a different one in an answer voids them. */
  private key?: string;

  constructor(readonly pieceCount: number) {
    this.hashes = Buffer.alloc(pieceCount * PIECE_HASH_BYTES);
    this.signatures = Buffer.alloc(pieceCount * PROOF_SIGNATURE_BYTES);
    this.hashed = new Bitfield(pieceCount);
    this.signed = new Bitfield(pieceCount);
  }

  /** The hash of a piece this agent verified (from the origin, or checked against a proof). */
  setHash(index: number, hashHex: string): void {
    this.hashes.write(hashHex, index * PIECE_HASH_BYTES, PIECE_HASH_BYTES, "hex");
    this.hashed.set(index);
  }

  /** A piece received with a proof that verified: hash and signature together. */
  setProof(index: number, proof: PieceProof): void {
    this.useKey(proof.trackerKey);
    this.setHash(index, proof.hashHex);
    this.signatures.write(proof.signature, index * PROOF_SIGNATURE_BYTES, PROOF_SIGNATURE_BYTES, "base64");
    this.signed.set(index);
  }

  /**
   * Takes in an announce answer's signatures for hashes this agent sent, under `trackerKey`.
   * Returns how many pieces became servable.
   */
  acceptSignatures(trackerKey: string, signatures: Record<number, string>): number {
    this.useKey(trackerKey);
    let added = 0;
    for (const [key, signature] of Object.entries(signatures)) {
      const index = Number(key);
      if (!this.hashed.has(index)) continue;
      this.signatures.write(signature, index * PROOF_SIGNATURE_BYTES, PROOF_SIGNATURE_BYTES, "base64");
      if (!this.signed.has(index)) added++;
      this.signed.set(index);
    }
    return added;
  }

  /** Hashes of held pieces without a signature: what the next announce reports. */
  unsigned(held: Bitfield): Record<number, string> {
    const out: Record<number, string> = {};
    for (let index = 0; index < this.pieceCount; index++)
      if (held.has(index) && this.hashed.has(index) && !this.signed.has(index))
        out[index] = this.hashHex(index);
    return out;
  }

  proof(index: number): PieceProof | undefined {
    if (!(index < this.pieceCount) || !this.signed.has(index) || !this.key) return undefined;
    const at = index * PROOF_SIGNATURE_BYTES;
    return {
      hashHex: this.hashHex(index),
      signature: this.signatures.toString("base64", at, at + PROOF_SIGNATURE_BYTES),
      trackerKey: this.key,
    };
  }

  hashOf(index: number): string | undefined {
    return this.hashed.has(index) ? this.hashHex(index) : undefined;
  }

  /** Pieces that can be served with a proof. */
  get servable(): Bitfield {
    return this.signed.clone();
  }

  private hashHex(index: number): string {
    return this.hashes.toString("hex", index * PIECE_HASH_BYTES, (index + 1) * PIECE_HASH_BYTES);
  }

  private useKey(trackerKey: string): void {
    if (this.key === trackerKey) return;
    this.key = trackerKey;
    this.signed.clearAll();
  }
}
