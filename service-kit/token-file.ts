/** Reads the peer token from its file (a mounted Secret), once, at start. */
import { readFileSync } from "node:fs";
import { ConfigError } from "../protocol/config-table";
import { parsePeerToken } from "../protocol/peer-token";

/** The token, or a ConfigError naming the setting, the file and what is wrong with it. */
export function readPeerTokenFile(path: string, setting = "--peer-token-file"): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError([`${setting}: cannot read ${path}: ${reason}`]);
  }
  try {
    return parsePeerToken(text);
  } catch (err) {
    throw new ConfigError([`${setting}: ${path}: ${(err as Error).message}`]);
  }
}
