/**
 * Pieces of a blob for the swarm (DESIGN 2.4): the piece size for a blob, index <-> byte span, the
 * piece bitfield (piece 0 in the most significant bit of byte 0, as protocol/tracker-api.ts sends
 * it) and the piece hash check. Pure: no I/O, no state.
 */
import { createHash } from "node:crypto";

/**
 * 1 MiB (DESIGN 2.4 said 4 MiB): in the N=10 bench a piece only spreads once a copy is complete, so
 * the last pieces' hops set the tail; 1 MiB pieces finished the herd ~8% sooner than 4 MiB ones.
 */
export const DEFAULT_PIECE_SIZE = 1024 * 1024;
export const TARGET_MAX_PIECES = 2000;

export interface PieceSpan {
  /** Inclusive byte offsets, like a Range header. */
  start: number;
  end: number;
}

export class PieceArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PieceArgumentError";
  }
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new PieceArgumentError(`blob size ${size} is invalid`);
}

function checkPieceSize(pieceSize: number): void {
  if (!Number.isSafeInteger(pieceSize) || pieceSize <= 0)
    throw new PieceArgumentError(`piece size ${pieceSize} is invalid`);
}

/** The default size, doubled until the blob has at most TARGET_MAX_PIECES pieces. */
export function choosePieceSize(size: number, minPieceSize = DEFAULT_PIECE_SIZE): number {
  checkSize(size);
  checkPieceSize(minPieceSize);
  let pieceSize = minPieceSize;
  while (Math.ceil(size / pieceSize) > TARGET_MAX_PIECES) pieceSize *= 2;
  return pieceSize;
}

export function pieceCount(size: number, pieceSize: number): number {
  checkSize(size);
  checkPieceSize(pieceSize);
  return Math.ceil(size / pieceSize);
}

/** The bytes piece `index` covers; the last piece may be short. */
export function pieceSpan(index: number, size: number, pieceSize: number): PieceSpan {
  const count = pieceCount(size, pieceSize);
  if (!Number.isInteger(index) || index < 0 || index >= count)
    throw new PieceArgumentError(`piece ${index} is out of range (blob has ${count} pieces)`);
  const start = index * pieceSize;
  return { start, end: Math.min(size, start + pieceSize) - 1 };
}

export function pieceLength(index: number, size: number, pieceSize: number): number {
  const span = pieceSpan(index, size, pieceSize);
  return span.end - span.start + 1;
}

/** The piece holding byte `offset`. */
export function pieceIndexOf(offset: number, size: number, pieceSize: number): number {
  checkSize(size);
  checkPieceSize(pieceSize);
  if (!Number.isInteger(offset) || offset < 0 || offset >= size)
    throw new PieceArgumentError(`offset ${offset} is outside the blob (${size} bytes)`);
  return Math.floor(offset / pieceSize);
}

/** The first and last piece (inclusive) a byte span touches. */
export function piecesOfSpan(
  span: PieceSpan,
  size: number,
  pieceSize: number,
): { first: number; last: number } {
  if (span.end < span.start)
    throw new PieceArgumentError(`span ${span.start}-${span.end} is empty (end before start)`);
  return { first: pieceIndexOf(span.start, size, pieceSize), last: pieceIndexOf(span.end, size, pieceSize) };
}

/** A piece's bytes: one buffer, or the parts it came in, in order (not joined: that is a copy). */
export type PieceBytes = Buffer | readonly Buffer[];

export function pieceParts(data: PieceBytes): readonly Buffer[] {
  return Buffer.isBuffer(data) ? [data] : data;
}

export function pieceBytesLength(data: PieceBytes): number {
  return pieceParts(data).reduce((sum, part) => sum + part.length, 0);
}

/** The sha256 (hex) of `data`, or of its parts in order (a piece as it came off the wire). */
export function sha256Hex(data: Uint8Array | readonly Uint8Array[]): string {
  const hash = createHash("sha256");
  if (data instanceof Uint8Array) hash.update(data);
  else for (const part of data) hash.update(part);
  return hash.digest("hex");
}

/** True when `data` is piece `index` of the blob: the right length and the expected sha256 (hex). */
export function verifyPiece(
  data: Uint8Array,
  expectedHex: string,
  index: number,
  size: number,
  pieceSize: number,
): boolean {
  if (data.length !== pieceLength(index, size, pieceSize)) return false;
  return sha256Hex(data) === expectedHex.toLowerCase();
}

/** A fixed-length set of piece indexes, one bit each. */
export class Bitfield {
  readonly bytes: Uint8Array;
  /** Pieces set, kept current by set/clear so count() and isComplete() cost nothing. */
  private ones = 0;

  constructor(
    readonly pieceCount: number,
    bytes?: Uint8Array,
  ) {
    if (!Number.isSafeInteger(pieceCount) || pieceCount < 0)
      throw new PieceArgumentError(`piece count ${pieceCount} is invalid`);
    const length = Math.ceil(pieceCount / 8);
    if (bytes && bytes.length !== length)
      throw new PieceArgumentError(
        `bitfield of ${bytes.length} bytes, expected ${length} for ${pieceCount} pieces`,
      );
    this.bytes = bytes ? Uint8Array.from(bytes) : new Uint8Array(length);
    if (bytes && this.hasSpareBits())
      throw new PieceArgumentError(`bits beyond piece ${pieceCount - 1} are set`);
    if (bytes) for (const byte of this.bytes) this.ones += bitsIn(byte);
  }

  static decode(base64: string, pieceCount: number): Bitfield {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0)
      throw new PieceArgumentError("bitfield is not base64");
    return new Bitfield(pieceCount, Buffer.from(base64, "base64"));
  }

  static full(pieceCount: number): Bitfield {
    const field = new Bitfield(pieceCount);
    for (let i = 0; i < pieceCount; i++) field.set(i);
    return field;
  }

  encode(): string {
    return Buffer.from(this.bytes).toString("base64");
  }

  has(index: number): boolean {
    this.check(index);
    return (this.bytes[index >> 3] & (0x80 >> (index & 7))) !== 0;
  }

  set(index: number): void {
    if (this.has(index)) return;
    this.bytes[index >> 3] |= 0x80 >> (index & 7);
    this.ones++;
  }

  clear(index: number): void {
    if (!this.has(index)) return;
    this.bytes[index >> 3] &= ~(0x80 >> (index & 7));
    this.ones--;
  }

  clearAll(): void {
    this.bytes.fill(0);
    this.ones = 0;
  }

  count(): number {
    return this.ones;
  }

  isComplete(): boolean {
    return this.ones === this.pieceCount;
  }

  /** Pieces 0..n-1 are all present: how many bytes from the start can be served in order. */
  contiguousFromStart(): number {
    let n = 0;
    while (n < this.pieceCount && this.has(n)) n++;
    return n;
  }

  /** Whether this holds a piece `other` lacks (same piece count). */
  holdsAnyMissingFrom(other: Bitfield): boolean {
    for (let i = 0; i < this.bytes.length; i++) if (this.bytes[i] & ~other.bytes[i]) return true;
    return false;
  }

  missing(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.pieceCount; i++) if (!this.has(i)) out.push(i);
    return out;
  }

  clone(): Bitfield {
    return new Bitfield(this.pieceCount, this.bytes);
  }

  private check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount)
      throw new PieceArgumentError(`piece ${index} is out of range (${this.pieceCount} pieces)`);
  }

  private hasSpareBits(): boolean {
    const spare = this.bytes.length * 8 - this.pieceCount;
    return spare > 0 && (this.bytes[this.bytes.length - 1] & ((1 << spare) - 1)) !== 0;
  }
}

function bitsIn(byte: number): number {
  let count = 0;
  for (let b = byte & 0xff; b; b &= b - 1) count++;
  return count;
}
