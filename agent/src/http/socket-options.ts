/**
 * Socket options Node has no API for, through `sockopt` (a small N-API addon, an optional dependency
 * compiled at `npm ci`). Linux only; without the addon every caller works the same, only without
 * the tuning, and says why once.
 */
import type { Socket } from "node:net";

type SetSockOpt = (socket: Socket, level: number, name: number, value: number) => void;
type GetSockOpt = (socket: Socket, level: number, name: number) => number;

export interface SocketOptions {
  /** Why options cannot be set here, or undefined when they can. */
  unavailable?: string;
  /** Sets an option; false when it could not (unavailable, not that kind of socket, closed). */
  set(socket: Socket, level: number, name: number, value: number): boolean;
  /** An option's current value, or undefined when it cannot be read. */
  get(socket: Socket, level: number, name: number): number | undefined;
}

/** `option` names what the caller wants the addon for, in the reason it gives when unavailable. */
export function loadSocketOptions(option: string): SocketOptions {
  if (process.platform !== "linux")
    return unavailable(`${option} is used on Linux only (${process.platform})`);
  let addon: { setsockopt: SetSockOpt; getsockopt: GetSockOpt };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    addon = require("sockopt");
  } catch (err) {
    return unavailable(`the sockopt addon did not load: ${(err as Error).message.split("\n")[0]}`);
  }
  return {
    set(socket, level, name, value) {
      try {
        addon.setsockopt(socket, level, name, value);
        return true;
      } catch {
        return false; // already closed, or not that kind of socket
      }
    },
    get(socket, level, name) {
      try {
        return addon.getsockopt(socket, level, name);
      } catch {
        return undefined;
      }
    },
  };
}

function unavailable(reason: string): SocketOptions {
  return { unavailable: reason, set: () => false, get: () => undefined };
}
