/**
 * The node-wide rate limit (DESIGN 2.6): one bucket shared by every origin and peer stream of the
 * agent. Takes are reservations served in arrival order (a FIFO by construction: each reservation
 * queues behind the debt of earlier ones), and large takes are split into slices that are reserved
 * one at a time, so a stream moving big chunks gets one slice per turn and cannot starve a stream
 * moving small ones: a waiter never waits longer than the slices already queued ahead of it.
 */
import { Transform } from "node:stream";
import { Bucket, BucketLimits, checkLimits, fullBucket, InvalidArgumentError, reserve } from "./token-bucket";

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
  private reportedMs = 0;

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
    if (!Number.isFinite(bytes) || bytes < 0)
      throw new InvalidArgumentError(`take: bytes must be a non-negative number, got ${bytes}`);
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
    const seconds = (this.waitedMs - this.reportedMs) / 1000;
    this.reportedMs = this.waitedMs;
    return seconds;
  }

  /** Seconds all takes have waited since start (`peerpull_ratelimit_wait_seconds_total`). */
  get waitedSecondsTotal(): number {
    return this.waitedMs / 1000;
  }

  /** A pass-through stream that lets each chunk go once the bucket allows its bytes. */
  throttle(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        this.take(chunk.length).then(
          () => done(null, chunk),
          (err: Error) => done(err),
        );
      },
    });
  }
}
