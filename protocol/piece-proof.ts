/**
 * Piece proofs (DESIGN 2.4, wire contract in tracker/README.md): the SHA-256 of a piece, as the
 * member that fetched it from the origin reported it, signed by the tracker with Ed25519. A proof
 * travels with its piece between peers, so members need no list of hashes from the tracker: a
 * piece from a peer is accepted when the tracker's signature over (digest, piece size, index, hash)
 * verifies with the tracker's public key and the bytes hash to that hash. The tracker signs each
 * piece once, whatever the size of the swarm. No I/O here.
 */
import { createPublicKey, KeyObject, verify } from "node:crypto";

export const PIECE_HASH_BYTES = 32;
export const PROOF_SIGNATURE_BYTES = 64;
const ED25519_RAW_KEY_BYTES = 32;

/** The exact bytes the tracker signs for one piece. */
export function proofPayload(digest: string, pieceSize: number, index: number, hashHex: string): Buffer {
  return Buffer.from(`peerpull-piece-proof-v1\n${digest}\n${pieceSize}\n${index}\n${hashHex}`, "utf8");
}

/** The tracker's public key from its wire form (base64 of the raw 32-byte Ed25519 key). */
export function publicKeyFromWire(base64: string): KeyObject {
  const raw = Buffer.from(base64, "base64");
  if (raw.length !== ED25519_RAW_KEY_BYTES || raw.toString("base64") !== base64)
    throw new Error(`tracker key: expected base64 of ${ED25519_RAW_KEY_BYTES} bytes`);
  return createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") },
    format: "jwk",
  });
}

/** The wire form of an Ed25519 public key. */
export function publicKeyToWire(key: KeyObject): string {
  const jwk = key.export({ format: "jwk" });
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.x) throw new Error("not an Ed25519 key");
  return Buffer.from(jwk.x, "base64url").toString("base64");
}

export function verifyProof(
  key: KeyObject,
  proof: { digest: string; pieceSize: number; index: number; hashHex: string; signature: Buffer },
): boolean {
  if (proof.signature.length !== PROOF_SIGNATURE_BYTES) return false;
  const payload = proofPayload(proof.digest, proof.pieceSize, proof.index, proof.hashHex);
  return verify(null, payload, key, proof.signature);
}
