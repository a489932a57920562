/**
 * The peer piece API between agents (DESIGN 2.5), on the peer port with `Authorization: Bearer
 * <peer token>`: `GET /p2p/v1/blobs/<digest>/pieces/<index>` answers the piece's bytes with its
 * proof (protocol/piece-proof.ts) in headers, and on every answer the responder's servable pieces as
 * a base64 bitfield (a HAVE message riding on the exchange, so askers learn of new pieces without
 * waiting for the tracker). 404: not held (or no proof yet); 503: busy, ask another holder.
 */
import { SHA256_DIGEST } from "./digest";

export const PIECE_PATH = new RegExp(
  `^/p2p/v1/blobs/(${SHA256_DIGEST.source.slice(1, -1)})/pieces/(0|[1-9]\\d{0,8})$`,
);

export const PEER_HEADERS = {
  pieceHash: "x-peerpull-piece-hash",
  proof: "x-peerpull-piece-proof",
  trackerKey: "x-peerpull-tracker-key",
  have: "x-peerpull-have",
} as const;

export function piecePath(digest: string, index: number): string {
  return `/p2p/v1/blobs/${digest}/pieces/${index}`;
}
