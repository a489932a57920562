/**
 * Whether a piece a peer sent may be kept (pure): it must come with a proof signed by the key of
 * the tracker this download talks to, over exactly this blob, piece size and index, and the bytes
 * must hash to the proven hash. A proof under another key is stale (the tracker restarted and the
 * peer has not been given new proofs yet): not the peer's fault, ask again later. Anything else
 * wrong is the peer's doing.
 */
import type { KeyObject } from "node:crypto";
import { SHA256_HEX } from "../../../protocol/digest";
import { verifyProof } from "../../../protocol/piece-proof";
import { verifyPiece } from "../../../protocol/pieces";
import type { PeerPiece } from "../peer/peer-client";

export type PieceCheck =
  | { ok: true; hashHex: string }
  | { ok: false; verdict: "bad" | "stale-key"; reason: string };

export interface PieceContext {
  digest: string;
  size: number;
  pieceSize: number;
  index: number;
  trackerKey: { wire: string; key: KeyObject };
}

export function checkPeerPiece(piece: PeerPiece, ctx: PieceContext): PieceCheck {
  const proof = piece.proof;
  if (!proof) return { ok: false, verdict: "bad", reason: "no proof" };
  if (proof.trackerKey !== ctx.trackerKey.wire)
    return { ok: false, verdict: "stale-key", reason: "proof signed by another tracker key" };
  if (!SHA256_HEX.test(proof.hashHex)) return { ok: false, verdict: "bad", reason: "malformed hash" };
  const signature = Buffer.from(proof.signature, "base64");
  const signed = verifyProof(ctx.trackerKey.key, {
    digest: ctx.digest,
    pieceSize: ctx.pieceSize,
    index: ctx.index,
    hashHex: proof.hashHex,
    signature,
  });
  if (!signed) return { ok: false, verdict: "bad", reason: "proof signature does not verify" };
  if (!verifyPiece(piece.data, proof.hashHex, ctx.index, ctx.size, ctx.pieceSize))
    return { ok: false, verdict: "bad", reason: "bytes do not match the proven hash" };
  return { ok: true, hashHex: proof.hashHex };
}
