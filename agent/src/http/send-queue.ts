/**
 * Keeps the kernel from queueing much more than is on the wire for a peer connection, so the upload
 * slots bound what is really being sent (DESIGN 2.4).
 *
 * Without it, Linux autotunes a TCP send buffer to megabytes: a whole 1 MiB piece fits in it, the
 * write "finishes" at once, the slot frees, and the next requests pile their pieces behind it. Seen
 * in the N=10 bench: 8-20 peer sockets of one uploader held 2-5 MB at once, every piece crawled at
 * B/15 and no copy finished early. TCP_NOTSENT_LOWAT caps the bytes queued beyond what TCP has sent,
 * so a write completes about when its bytes leave (herd of 10: last node 1.40-1.45 -> 1.31-1.36 S/B).
 *
 * Node has no API for this socket option; `sockopt` (a small N-API addon, an optional dependency
 * compiled at install) sets it. Without the addon, or off Linux, uploads still work, only with the
 * kernel's deep queue.
 */
import type { Socket } from "node:net";
import { loadSocketOptions } from "./socket-options";

const IPPROTO_TCP = 6;
const TCP_NOTSENT_LOWAT = 25; // linux/tcp.h
/**
 * Low enough that a piece's last write returns about when the piece leaves a slow uplink, high
 * enough that a fast link is refilled every ~50 us at 10 Gbit/s rather than every few.
 */
export const NOTSENT_LOWAT_BYTES = 64 * 1024;

export interface SendQueueTuning {
  /** Why the option cannot be set here, or undefined when it can. */
  unavailable?: string;
  /** Caps the socket's unsent queue; false when it could not (no addon, not TCP, closed). */
  limit(socket: Socket): boolean;
  /** The socket's current cap, for tests. */
  read(socket: Socket): number | undefined;
}

export function loadSendQueueTuning(): SendQueueTuning {
  const options = loadSocketOptions("TCP_NOTSENT_LOWAT");
  return {
    unavailable: options.unavailable,
    limit: socket => options.set(socket, IPPROTO_TCP, TCP_NOTSENT_LOWAT, NOTSENT_LOWAT_BYTES),
    read: socket => options.get(socket, IPPROTO_TCP, TCP_NOTSENT_LOWAT),
  };
}
