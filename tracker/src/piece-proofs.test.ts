import { PieceProofs } from "./piece-proofs";

const h = (c: string) => c.repeat(64);
const fakeSign = (index: number, hashHex: string) => Buffer.alloc(64, index + hashHex.charCodeAt(0));

describe("PieceProofs", () => {
  it("keeps and signs the first report of each piece, counts disagreements", () => {
    const proofs = new PieceProofs(10);
    let signed = 0;
    const sign = (index: number, hashHex: string) => (signed++, fakeSign(index, hashHex));
    expect(proofs.record(3, h("a"), sign)).toBe("accepted");
    expect(proofs.record(3, h("b"), sign)).toBe("conflict");
    expect(proofs.record(3, h("a"), sign)).toBe("same");
    expect(proofs.record(9, h("0"), sign)).toBe("accepted");
    expect(signed).toBe(2);
    expect(proofs.hash(3)).toBe(h("a"));
    expect(proofs.hash(4)).toBeUndefined();
    expect(proofs.signature(3)).toBe(fakeSign(3, h("a")).toString("base64"));
    expect(proofs.signature(4)).toBeUndefined();
    expect([proofs.size, proofs.conflicts]).toEqual([2, 1]);
  });
});
