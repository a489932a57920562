/**
 * What a client presented: nothing, Basic credentials (exchanged by the agent at the origin) or a
 * bearer token (passed through). The fingerprint keys grants and origin tokens without keeping the
 * secret itself as a map key.
 */
import { createHash } from "node:crypto";

export type ClientCredentials =
  | { kind: "anonymous"; fingerprint: "anonymous" }
  | { kind: "basic"; username: string; password: string; fingerprint: string }
  | { kind: "bearer"; token: string; fingerprint: string };

export const ANONYMOUS: ClientCredentials = { kind: "anonymous", fingerprint: "anonymous" };
const MAX_AUTHORIZATION_LENGTH = 16 * 1024;

/** Returns undefined for a header that is present but malformed (the caller answers 401). */
export function parseAuthorization(header: string | undefined): ClientCredentials | undefined {
  if (header === undefined || header === "") return ANONYMOUS;
  if (header.length > MAX_AUTHORIZATION_LENGTH) return undefined;
  const space = header.indexOf(" ");
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (space < 0 || value === "") return undefined;
  if (scheme === "bearer") return { kind: "bearer", token: value, fingerprint: fingerprint(header) };
  if (scheme !== "basic") return undefined;
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  // Docker clients send empty Basic credentials after a challenge when they have none.
  if (decoded === ":") return ANONYMOUS;
  return {
    kind: "basic",
    username: decoded.slice(0, colon),
    password: decoded.slice(colon + 1),
    fingerprint: fingerprint(`basic ${decoded}`),
  };
}

export function basicHeader(credentials: { username: string; password: string }): string {
  return "Basic " + Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64");
}

function fingerprint(secret: string): string {
  return createHash("sha256").update(secret).digest("base64url").slice(0, 22);
}
