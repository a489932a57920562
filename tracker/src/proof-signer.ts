/**
 * The tracker's signing key for piece proofs (protocol/piece-proof.ts): a fresh Ed25519 key pair
 * per process. It never leaves the process; agents learn the public half from announce answers, so
 * a restarted tracker's new key simply makes members ask for proofs again.
 */
import { generateKeyPairSync, sign } from "node:crypto";
import { publicKeyToWire } from "../../protocol/piece-proof";
import type { ProofSigner } from "./announce";

export function createProofSigner(): ProofSigner {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  return {
    publicKey: publicKeyToWire(publicKey),
    sign: payload => sign(null, payload, privateKey),
  };
}
