import { generateKeyPairSync, sign } from "node:crypto";
import { proofPayload, publicKeyFromWire, publicKeyToWire, verifyProof } from "./piece-proof";

const DIGEST = "sha256:" + "ab".repeat(32);
const HASH = "cd".repeat(32);

describe("piece proofs", () => {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const wire = publicKeyToWire(publicKey);
  const key = publicKeyFromWire(wire);
  const signature = sign(null, proofPayload(DIGEST, 1024, 3, HASH), privateKey);
  const proof = { digest: DIGEST, pieceSize: 1024, index: 3, hashHex: HASH, signature };

  it("round-trips the key and verifies a proof", () => {
    expect(Buffer.from(wire, "base64")).toHaveLength(32);
    expect(verifyProof(key, proof)).toBe(true);
  });

  const forged = [
    { name: "another hash", change: { hashHex: "ce".repeat(32) } },
    { name: "another index", change: { index: 4 } },
    { name: "another piece size", change: { pieceSize: 2048 } },
    { name: "another digest", change: { digest: "sha256:" + "ac".repeat(32) } },
    {
      name: "a flipped signature bit",
      change: { signature: Buffer.from(signature.map((b, i) => (i === 0 ? b ^ 1 : b))) },
    },
    { name: "a short signature", change: { signature: signature.subarray(0, 63) } },
  ];
  it.each(forged)("refuses $name", ({ change }) => {
    expect(verifyProof(key, { ...proof, ...change })).toBe(false);
  });

  it("refuses another tracker's key", () => {
    const other = publicKeyFromWire(publicKeyToWire(generateKeyPairSync("ed25519").publicKey));
    expect(verifyProof(other, proof)).toBe(false);
  });

  it.each(["", "AAAA", Buffer.alloc(33).toString("base64"), "not base64!!"])("refuses the key %j", text => {
    expect(() => publicKeyFromWire(text)).toThrow("tracker key");
  });
});
