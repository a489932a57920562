/**
 * A byte token bucket as a pure function. Takes are reservations: tokens may go negative, and the
 * caller waits until its reservation is paid off. Reservations are served in arrival order, so
 * streams that take in small chunks share the rate fairly.
 */

export interface Bucket {
  /** Tokens available now; negative while reservations are outstanding. */
  tokens: number;
  updatedAtMs: number;
}

export interface BucketLimits {
  bytesPerSecond: number;
  burstBytes: number;
}

export class InvalidArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidArgumentError";
  }
}

export function checkLimits(limits: BucketLimits): void {
  if (!(limits.bytesPerSecond > 0) || !Number.isFinite(limits.bytesPerSecond))
    throw new InvalidArgumentError("bytesPerSecond must be a positive number");
  if (!(limits.burstBytes > 0) || !Number.isFinite(limits.burstBytes))
    throw new InvalidArgumentError("burstBytes must be a positive number");
}

export function fullBucket(limits: BucketLimits, nowMs: number): Bucket {
  return { tokens: limits.burstBytes, updatedAtMs: nowMs };
}

/** Reserves `bytes`; returns the new bucket and how long the caller must wait before sending them. */
export function reserve(
  bucket: Bucket,
  bytes: number,
  limits: BucketLimits,
  nowMs: number,
): { bucket: Bucket; waitMs: number } {
  const elapsed = Math.max(0, nowMs - bucket.updatedAtMs);
  const refilled = Math.min(limits.burstBytes, bucket.tokens + (elapsed * limits.bytesPerSecond) / 1000);
  const tokens = refilled - bytes;
  const waitMs = tokens >= 0 ? 0 : (-tokens * 1000) / limits.bytesPerSecond;
  return { bucket: { tokens, updatedAtMs: nowMs }, waitMs };
}
