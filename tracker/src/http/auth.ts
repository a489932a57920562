// Bearer peer-token check in constant time (hashing both sides first equalises their lengths).
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { TrackerError } from "../../../protocol/tracker-api";

export function tokenChecker(token: string): (req: IncomingMessage) => void {
  if (token.length === 0) throw new RangeError("peer token must not be empty");
  const expected = digest(token);
  return req => {
    const header = req.headers.authorization ?? "";
    const match = /^Bearer (.+)$/.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]), expected))
      throw new TrackerError("UNAUTHORIZED", "a valid Authorization: Bearer <peer token> is required");
  };
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
