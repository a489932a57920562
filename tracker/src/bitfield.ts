/**
 * Piece bitfields as the tracker keeps them: piece 0 is the most significant bit of byte 0 (the
 * order of protocol/tracker-api.ts and protocol/pieces.ts). Byte-wise rather than pieces.ts's
 * Bitfield class because the tracker ORs and counts many members' fields on every announce.
 */

export function emptyBitfield(pieceCount: number): Uint8Array {
  return new Uint8Array(Math.ceil(pieceCount / 8));
}

export function hasPiece(bits: Uint8Array, index: number): boolean {
  return (bits[index >> 3] & (0x80 >> (index & 7))) !== 0;
}

export function setPiece(bits: Uint8Array, index: number): void {
  bits[index >> 3] |= 0x80 >> (index & 7);
}

export function countPieces(bits: Uint8Array): number {
  let count = 0;
  for (const byte of bits) count += bitsSet(byte);
  return count;
}

function bitsSet(byte: number): number {
  let count = 0;
  for (let b = byte & 0xff; b; b &= b - 1) count++;
  return count;
}

/** Bitwise OR of several bitfields of the same length. */
export function unionOf(fields: Iterable<Uint8Array>, pieceCount: number): Uint8Array {
  const out = emptyBitfield(pieceCount);
  for (const bits of fields) for (let i = 0; i < out.length; i++) out[i] |= bits[i];
  return out;
}

/** Pieces set in `mine` and in none of `others`. */
export function countOnlyIn(mine: Uint8Array, others: Iterable<Uint8Array>): number {
  const rest = unionOf(others, mine.length * 8);
  let count = 0;
  for (let i = 0; i < mine.length; i++) count += bitsSet(mine[i] & ~rest[i]);
  return count;
}
