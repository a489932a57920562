/**
 * The receive low-water mark of a peer connection (SO_RCVLOWAT): how many bytes the kernel gathers
 * before it wakes the reader.
 *
 * On a slow link a piece arrives a few KiB at a time, and every wake-up costs a trip through the
 * event loop, the HTTP parser and a stream; in the swarm bench (25 Mbit/s links) reads averaged
 * ~6 KiB. The piece client raises the mark while it reads a piece, never above what is left of the
 * piece (so its last bytes are never held back), and puts it back to 1 after.
 *
 * Set through http/socket-options.ts (the `sockopt` addon).
 * Without the addon, or off Linux, pieces arrive exactly the same, with more wake-ups.
 */
import type { Socket } from "node:net";
import { loadSocketOptions } from "../http/socket-options";

const SOL_SOCKET = 1;
const SO_RCVLOWAT = 18; // asm-generic/socket.h

/**
 * The most a piece's reader asks the kernel to gather before waking it: small enough that a peer
 * still sending at a few KB/s does not look idle to the body timeout.
 */
export const RCVLOWAT_CAP = 64 * 1024;

export interface ReceiveLowat {
  /** Why the option cannot be set here, or undefined when it can. */
  unavailable?: string;
  /** Sets the socket's mark; a no-op when unavailable or the socket is closed. */
  set(socket: Socket, bytes: number): void;
  /** The socket's current mark, for tests. */
  read(socket: Socket): number | undefined;
}

export function loadReceiveLowat(): ReceiveLowat {
  const options = loadSocketOptions("SO_RCVLOWAT");
  return {
    unavailable: options.unavailable,
    set: (socket, bytes) => void options.set(socket, SOL_SOCKET, SO_RCVLOWAT, bytes),
    read: socket => options.get(socket, SOL_SOCKET, SO_RCVLOWAT),
  };
}
