import { Bitfield } from "../../../protocol/pieces";
import { HeldProofs } from "./held-proofs";

const h = (c: string) => c.repeat(64);
const sig = (n: number) => Buffer.alloc(64, n).toString("base64");
const all = (count: number) => Bitfield.full(count);

describe("HeldProofs", () => {
  it("reports unsigned hashes of held pieces until the tracker signs them", () => {
    const proofs = new HeldProofs(3);
    proofs.setHash(0, h("a"));
    proofs.setHash(2, h("c"));
    expect(proofs.unsigned(all(3))).toEqual({ 0: h("a"), 2: h("c") });
    proofs.acceptSignatures("K1", { 0: sig(1), 1: sig(9) }); // 1 was never hashed here: ignored
    expect(proofs.unsigned(all(3))).toEqual({ 2: h("c") });
    expect(proofs.proof(0)).toEqual({ hashHex: h("a"), signature: sig(1), trackerKey: "K1" });
    expect(proofs.proof(1)).toBeUndefined();
    expect(proofs.proof(7)).toBeUndefined();
    expect(proofs.servable.missing()).toEqual([1, 2]);
  });

  it("a new tracker key voids every signature, so the hashes go out again", () => {
    const proofs = new HeldProofs(2);
    proofs.setProof(0, { hashHex: h("a"), signature: sig(1), trackerKey: "K1" });
    proofs.setHash(1, h("b"));
    proofs.acceptSignatures("K1", { 1: sig(2) });
    expect(proofs.unsigned(all(2))).toEqual({});
    proofs.acceptSignatures("K2", {});
    expect(proofs.proof(0)).toBeUndefined();
    expect(proofs.unsigned(all(2))).toEqual({ 0: h("a"), 1: h("b") });
  });
});
