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
const SHA256_HEX = /^[a-f0-9]{64}$/;

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
