/**
 * Content digests ("sha256:<64 hex>"). Only sha256 is accepted: it is what every registry
 * produces, and a single algorithm keeps cache paths and piece hashes unambiguous.
 */
import { OciError } from "./oci-error";

export interface Digest {
  algorithm: "sha256";
  hex: string;
}

const DIGEST_SHAPE = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/** A sha256 digest's hex: 64 lowercase hex characters (also a cached blob's file name, an image id). */
export const SHA256_HEX = /^[a-f0-9]{64}$/;
/** `sha256:<64 lowercase hex>`: the one digest form the agent, the tracker and the peer API accept. */
export const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * The `code` of the error a blob gets when its bytes do not hash to its digest, wherever that is found
 * (a cache commit, a swarm fill, an origin fill); a fill that sees it counts a verify failure and
 * drops what it wrote.
 */
export const DIGEST_MISMATCH = "PEERPULL_DIGEST_MISMATCH";

export function isDigestMismatch(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === DIGEST_MISMATCH;
}

/** Parses a digest string; throws OciError DIGEST_INVALID or UNSUPPORTED with the reason. */
export function parseDigest(text: string): Digest {
  const shape = DIGEST_SHAPE.exec(text);
  if (!shape) throw new OciError("DIGEST_INVALID", `malformed digest ${JSON.stringify(text.slice(0, 100))}`);
  const [, algorithm, hex] = shape;
  if (algorithm !== "sha256")
    throw new OciError("UNSUPPORTED", `digest algorithm ${algorithm} is not supported`);
  if (!SHA256_HEX.test(hex))
    throw new OciError("DIGEST_INVALID", "sha256 digest must be 64 lowercase hex characters");
  return { algorithm: "sha256", hex };
}

export function isDigest(text: string): boolean {
  try {
    parseDigest(text);
    return true;
  } catch {
    return false;
  }
}
