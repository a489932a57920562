/**
 * The node-wide rate limit (DESIGN 2.6): one bucket shared by every origin and peer stream of the
 * agent. Large takes are split so one stream's big chunk cannot hold others back for long.
 */
import { Bucket, BucketLimits, checkLimits, fullBucket, reserve } from "./token-bucket";

const MAX_SLICE_BYTES = 256 * 1024;

export interface NodeLimiterOptions {
  bytesPerSecond: number;
  /** Default: 1/4 s worth of bytes, at least 1 MiB. */
  burstBytes?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class NodeLimiter {
  private bucket: Bucket;
  private readonly limits: BucketLimits;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private waitedMs = 0;

  constructor(options: NodeLimiterOptions) {
    this.limits = {
      bytesPerSecond: options.bytesPerSecond,
      burstBytes: options.burstBytes ?? Math.max(1024 * 1024, options.bytesPerSecond / 4),
    };
    checkLimits(this.limits);
    this.now = options.now ?? (() => performance.now());
    this.sleep = options.sleep ?? (ms => new Promise(resolve => setTimeout(resolve, ms)));
    this.bucket = fullBucket(this.limits, this.now());
  }

  /** Resolves when `bytes` may be moved. */
  async take(bytes: number): Promise<void> {
    for (let left = bytes; left > 0; left -= MAX_SLICE_BYTES) {
      const { bucket, waitMs } = reserve(
        this.bucket,
        Math.min(left, MAX_SLICE_BYTES),
        this.limits,
        this.now(),
      );
      this.bucket = bucket;
      if (waitMs > 0) {
        this.waitedMs += waitMs;
        await this.sleep(waitMs);
      }
    }
  }

  /** Seconds spent waiting since the last call (for the wait counter). */
  takeWaitedSeconds(): number {
    const seconds = this.waitedMs / 1000;
    this.waitedMs = 0;
    return seconds;
  }
}
