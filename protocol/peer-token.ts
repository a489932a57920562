/**
 * The cluster's peer token: a random secret the reconciler generates, mounted into every agent and
 * tracker, and sent as `Authorization: Bearer <token>` on the peer API and the tracker API.
 */
import { createHash, timingSafeEqual } from "node:crypto";

export const MIN_PEER_TOKEN_CHARS = 16;

/** The token as a token file holds it (surrounding whitespace dropped); throws when it is too short. */
export function parsePeerToken(fileText: string): string {
  const token = fileText.trim();
  if (token.length < MIN_PEER_TOKEN_CHARS)
    throw new Error(
      `the token must have at least ${MIN_PEER_TOKEN_CHARS} characters, it has ${token.length}`,
    );
  return token;
}

/**
 * A check of an `Authorization` header against the token, in constant time: both sides are hashed
 * first, so neither their content nor their lengths change how long the comparison takes.
 */
export function bearerTokenCheck(token: string): (authorization: string | undefined) => boolean {
  if (token.length === 0) throw new RangeError("bearerTokenCheck: the token must not be empty");
  const expected = sha256(token);
  return authorization => {
    const given = authorization?.startsWith("Bearer ") ? authorization.slice("Bearer ".length) : "";
    return timingSafeEqual(sha256(given), expected);
  };
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
