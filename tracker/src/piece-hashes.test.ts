import { PieceHashes } from "./piece-hashes";

const h = (c: string) => c.repeat(64);

describe("PieceHashes", () => {
  it("keeps the first report of each piece and counts disagreements", () => {
    const hashes = new PieceHashes(10);
    hashes.record(3, h("a"));
    hashes.record(3, h("b"));
    hashes.record(3, h("a"));
    hashes.record(9, h("0"));
    expect(hashes.get(3)).toBe(h("a"));
    expect(hashes.get(4)).toBeUndefined();
    expect(hashes.get(9)).toBe(h("0"));
    expect(hashes.size).toBe(2);
    expect(hashes.conflicts).toBe(1);
    expect(hashes.toRecord()).toEqual({ 3: h("a"), 9: h("0") });
  });
});
