import {
  Bitfield,
  choosePieceSize,
  DEFAULT_PIECE_SIZE,
  pieceCount,
  pieceIndexOf,
  pieceLength,
  piecesOfSpan,
  pieceSpan,
  sha256Hex,
  TARGET_MAX_PIECES,
  verifyPiece,
} from "./pieces";
import { decodeBitfield, encodeBitfield } from "./tracker-api";

const MiB = 1024 * 1024;

describe("choosePieceSize", () => {
  const rows = [
    { name: "empty blob", size: 0, pieceSize: DEFAULT_PIECE_SIZE },
    { name: "small blob", size: 10, pieceSize: DEFAULT_PIECE_SIZE },
    { name: "exactly 2000 default pieces", size: 2000 * MiB, pieceSize: MiB },
    { name: "one byte more doubles", size: 2000 * MiB + 1, pieceSize: 2 * MiB },
    { name: "100 GiB", size: 100 * 1024 * MiB, pieceSize: 64 * MiB },
  ];
  it.each(rows)("$name", ({ size, pieceSize }) => {
    expect(choosePieceSize(size)).toBe(pieceSize);
    expect(pieceCount(size, pieceSize)).toBeLessThanOrEqual(TARGET_MAX_PIECES);
  });
  it("rejects bad sizes", () => {
    expect(() => choosePieceSize(-1)).toThrow("blob size");
    expect(() => choosePieceSize(1.5)).toThrow("blob size");
    expect(() => choosePieceSize(10, 0)).toThrow("piece size");
  });
});

describe("piece spans", () => {
  const rows = [
    { name: "first piece", index: 0, size: 10, pieceSize: 4, span: { start: 0, end: 3 } },
    { name: "middle piece", index: 1, size: 10, pieceSize: 4, span: { start: 4, end: 7 } },
    { name: "short last piece", index: 2, size: 10, pieceSize: 4, span: { start: 8, end: 9 } },
    { name: "exact last piece", index: 1, size: 8, pieceSize: 4, span: { start: 4, end: 7 } },
  ];
  it.each(rows)("$name", ({ index, size, pieceSize, span }) => {
    expect(pieceSpan(index, size, pieceSize)).toEqual(span);
    expect(pieceLength(index, size, pieceSize)).toBe(span.end - span.start + 1);
    expect(pieceIndexOf(span.start, size, pieceSize)).toBe(index);
    expect(pieceIndexOf(span.end, size, pieceSize)).toBe(index);
  });
  it("covers every byte once", () => {
    const size = 1000;
    const pieceSize = 64;
    let next = 0;
    for (let i = 0; i < pieceCount(size, pieceSize); i++) {
      const span = pieceSpan(i, size, pieceSize);
      expect(span.start).toBe(next);
      next = span.end + 1;
    }
    expect(next).toBe(size);
  });
  it("maps a byte span to pieces", () => {
    expect(piecesOfSpan({ start: 3, end: 8 }, 10, 4)).toEqual({ first: 0, last: 2 });
  });
  const rejects = [
    { name: "index past the end", call: () => pieceSpan(3, 10, 4) },
    { name: "negative index", call: () => pieceSpan(-1, 10, 4) },
    { name: "offset past the end", call: () => pieceIndexOf(10, 10, 4) },
    { name: "span past the end", call: () => piecesOfSpan({ start: 5, end: 12 }, 10, 4) },
  ];
  it.each(rejects)("rejects $name", ({ call }) => expect(call).toThrow("out"));
});

describe("verifyPiece", () => {
  const blob = Buffer.from("0123456789");
  it("accepts the right bytes", () => {
    expect(verifyPiece(blob.subarray(8), sha256Hex(blob.subarray(8)), 2, 10, 4)).toBe(true);
  });
  it("rejects other bytes or another length", () => {
    expect(verifyPiece(Buffer.from("xy"), sha256Hex(blob.subarray(8)), 2, 10, 4)).toBe(false);
    expect(verifyPiece(blob.subarray(4, 8), sha256Hex(blob.subarray(4, 8)), 2, 10, 4)).toBe(false);
  });
});

describe("Bitfield", () => {
  it("says whether it holds a piece another lacks", () => {
    const of = (pieces: number[]) => {
      const field = new Bitfield(12);
      for (const p of pieces) field.set(p);
      return field;
    };
    expect(of([1, 9]).holdsAnyMissingFrom(of([1]))).toBe(true);
    expect(of([1]).holdsAnyMissingFrom(of([1, 9]))).toBe(false);
    expect(of([]).holdsAnyMissingFrom(of([]))).toBe(false);
  });

  it("sets, clears and counts, MSB first", () => {
    const bits = new Bitfield(10);
    bits.set(0);
    bits.set(9);
    expect([...bits.bytes]).toEqual([0x80, 0x40]);
    expect(bits.count()).toBe(2);
    expect(bits.missing()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    bits.clear(0);
    expect(bits.has(0)).toBe(false);
    expect(() => bits.set(10)).toThrow("out of range");
  });
  it("round-trips base64 and agrees with the tracker wire format", () => {
    const bits = new Bitfield(13);
    for (const i of [0, 3, 12]) bits.set(i);
    const wire = bits.encode();
    expect(Bitfield.decode(wire, 13).bytes).toEqual(bits.bytes);
    expect(encodeBitfield(decodeBitfield(wire, 13))).toBe(wire);
  });
  it("reports contiguous pieces from the start and completeness", () => {
    const bits = new Bitfield(5);
    bits.set(0);
    bits.set(1);
    bits.set(3);
    expect(bits.contiguousFromStart()).toBe(2);
    expect(bits.isComplete()).toBe(false);
    expect(Bitfield.full(5).isComplete()).toBe(true);
    expect(new Bitfield(0).isComplete()).toBe(true);
  });
  const rejects = [
    { name: "not base64", text: "!!!!", count: 8 },
    { name: "wrong length", text: Buffer.from([1, 2]).toString("base64"), count: 8 },
    { name: "spare bits set", text: Buffer.from([0xff]).toString("base64"), count: 5 },
  ];
  it.each(rejects)("decode rejects $name", ({ text, count }) =>
    expect(() => Bitfield.decode(text, count)).toThrow(),
  );
});
