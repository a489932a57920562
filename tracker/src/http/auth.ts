// The peer-token check of every tracker route but health and metrics (constant time: protocol/peer-token.ts).
import type { IncomingMessage } from "node:http";
import { bearerTokenCheck } from "../../../protocol/peer-token";
import { TrackerError } from "../../../protocol/tracker-api";

export function tokenChecker(token: string): (req: IncomingMessage) => void {
  const matches = bearerTokenCheck(token);
  return req => {
    if (!matches(req.headers.authorization))
      throw new TrackerError("UNAUTHORIZED", "a valid Authorization: Bearer <peer token> is required");
  };
}
