/**
 * The peer piece API between agents (DESIGN 2.5), on the peer port with `Authorization: Bearer
 * <peer token>`: `GET /p2p/v1/blobs/<digest>/pieces/<index>` answers the piece's bytes with its
 * proof (protocol/piece-proof.ts) in headers, and on every answer the responder's servable pieces as
 * a base64 bitfield (a HAVE message riding on the exchange, so askers learn of new pieces without
 * waiting for the tracker). 404: not held (or no proof yet); 503: busy, ask another holder.
 *
 * A request carries the asker's own HAVE the same way, with its swarm peer id and its peer address
 * (`x-peerpull-peer-id`, `x-peerpull-peer-address`), so the holder learns of the asker as a peer
 * and of its pieces without waiting for the tracker either. These are claims: the holder takes
 * them only when the address's host is the request's source address, never lets them replace what
 * it knows of a peer id at another address, and never counts a bad one against the id.
 *
 * `POST /p2p/v1/blobs/<digest>/have` (no body) pushes those same three headers on their own: a
 * member that gained a piece tells a few peers it knows lack something it holds (the swarm's HAVE
 * push), so they see a new holder without waiting for the tracker or for a request of their own.
 * A member tells one peer at most once a second (agent/src/swarm/have-push.ts): what it gains
 * meanwhile goes out together, since a push carries the whole HAVE.
 * Answered 204 with nothing (the pusher learns the responder's HAVE on its own exchanges: taking it
 * from the answer kept the same peers "most recently heard", so pushes never moved on to others and
 * 1,000 simulated nodes finished later than with no push at all); 400 when the headers are missing,
 * malformed or name another host; 405 for any other method.
 */
import { SHA256_DIGEST } from "./digest";

export const PIECE_PATH = new RegExp(
  `^/p2p/v1/blobs/(${SHA256_DIGEST.source.slice(1, -1)})/pieces/(0|[1-9]\\d{0,8})$`,
);

export const HAVE_PATH = new RegExp(`^/p2p/v1/blobs/(${SHA256_DIGEST.source.slice(1, -1)})/have$`);

export const PEER_HEADERS = {
  pieceHash: "x-peerpull-piece-hash",
  proof: "x-peerpull-piece-proof",
  trackerKey: "x-peerpull-tracker-key",
  have: "x-peerpull-have",
  peerId: "x-peerpull-peer-id",
  peerAddress: "x-peerpull-peer-address",
} as const;

/** A request's claim about its sender: who it is in the swarm, where it serves, what it holds. */
export interface Asker {
  peerId: string;
  /** host:port, the host being the request's source address. */
  address: string;
  /** base64 bitfield; its length is checked against the blob's piece count by whoever decodes it. */
  have: string;
}

const PEER_ID = /^[A-Za-z0-9._-]{1,128}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** A bitfield of 2^20 pieces: far past any blob's piece count (pieces.ts aims at 2,000). */
const MAX_HAVE_CHARS = 180_000;

/**
 * The asker a request's headers describe, or undefined when they are absent, malformed, or name
 * an address on another host than `source` (the request's source address).
 */
export function askerOf(
  headers: Record<string, string | string[] | undefined>,
  source: string,
): Asker | undefined {
  const [peerId, address, have] = [PEER_HEADERS.peerId, PEER_HEADERS.peerAddress, PEER_HEADERS.have].map(
    name => headers[name],
  );
  if (typeof peerId !== "string" || typeof address !== "string" || typeof have !== "string") return undefined;
  if (!PEER_ID.test(peerId) || have.length > MAX_HAVE_CHARS || !BASE64.test(have)) return undefined;
  const at = address.lastIndexOf(":");
  const [host, port] = [address.slice(0, at), Number(address.slice(at + 1))];
  if (at <= 0 || !Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  if (unmapped(host) !== unmapped(source)) return undefined;
  return { peerId, address: `${unmapped(source)}:${port}`, have };
}

/** An IPv4-mapped IPv6 address as plain IPv4. */
function unmapped(host: string): string {
  return host.startsWith("::ffff:") ? host.slice(7) : host;
}

export function piecePath(digest: string, index: number): string {
  return `/p2p/v1/blobs/${digest}/pieces/${index}`;
}

export function havePath(digest: string): string {
  return `/p2p/v1/blobs/${digest}/have`;
}
