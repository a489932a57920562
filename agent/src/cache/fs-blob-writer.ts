/**
 * The disk store's BlobWriter. Chunks are hashed as they are given and copied into runs of ~1 MiB;
 * a full run goes to the file in one positional write on the threadpool while the next one fills,
 * a few runs in flight, so the stream keeps flowing while the disk works. Landed runs stay in
 * memory for a while, so readers close behind the writer copy the newest bytes from there instead
 * of reading the file back; every byte given to write() is readable at once. Run memory is reused,
 * so a fill makes no garbage however long the blob. The temp file's descriptor stays open until
 * every run's write has returned, so a late write can never land in a reused descriptor.
 *
 * The hash stays on the event loop: a worker thread fed run by run (memory moved, not copied) took
 * ~0.25 s per 512 MiB off the loop but cost the process more CPU in total and was no faster on this
 * project's 2-core benchmark machine (BENCHMARKS.md, issue 15).
 */
import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { rm } from "node:fs/promises";
import type { BlobInfo, BlobWriter } from "./blob-store";
import { DigestMismatchError } from "./blob-store";

/** Bytes per run: one write syscall and one threadpool round trip each. */
const RUN_BYTES = 1024 * 1024;
/** Runs on their way to disk before write() waits. */
const RUNS_IN_FLIGHT = 4;
/** Landed runs kept in memory for readers close behind the writer. */
const RUNS_KEPT = 2;

const DONE = Promise.resolve();

/** Where a writer's bytes end up, as the store sets it up. */
export interface WriterTarget {
  digest: string;
  expectedSize?: number;
  /** Makes `file` (the writer's temp file, or the file it adopted) the blob, durable and visible. */
  publish(size: number, file: string): Promise<BlobInfo>;
  /** A writer over `file`, an existing file in the cache's directory (BlobWriter.adopt). */
  adopt(file: string): Promise<BlobWriter>;
}

interface Run {
  bytes: Buffer;
  start: number;
  filled: number;
  /** "failed": its write failed; it stays (in memory) so nothing after it counts as on disk. */
  state: "filling" | "writing" | "landed" | "failed";
}

export class FsBlobWriter implements BlobWriter {
  private readonly hash = createHash("sha256");
  /** Runs in blob order: kept (landed) ones, those on their way, then the one filling. */
  private runs: Run[] = [];
  private readonly spare: Buffer[] = [];
  private readonly runBytes: number;
  private issued = 0;
  private landed = 0;
  private flying = 0;
  /** Woken whenever a run moves on (or the writer fails). */
  private waiters: (() => void)[] = [];
  /** Writes waiting for a run to land, copied in call order. */
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private failure?: Error;
  private done = false;
  private committed = false;
  private actual?: string;
  private discarding?: Promise<void>;

  private readonly digest: string;
  private readonly expectedSize: number | undefined;

  constructor(
    private readonly handle: FileHandle,
    private readonly tmpPath: string,
    private readonly target: WriterTarget,
  ) {
    this.digest = target.digest;
    this.expectedSize = target.expectedSize;
    this.runBytes = Math.max(1, Math.min(RUN_BYTES, this.expectedSize ?? RUN_BYTES));
  }

  /** Every byte given to write() (copied into runs, or queued behind them: readInto waits for those). */
  get written(): number {
    return this.issued;
  }

  /**
   * Hashes `chunk` and copies it into runs; resolves at once unless RUNS_IN_FLIGHT runs are on
   * their way to disk, then once the rest is copied (the caller may reuse the chunk from then on).
   */
  write(chunk: Buffer): Promise<void> {
    if (this.done) return Promise.reject(new Error("write after commit or abort"));
    if (this.failure) return Promise.reject(this.failure);
    const end = this.issued + chunk.length;
    if (this.expectedSize !== undefined && end > this.expectedSize)
      return Promise.reject(new DigestMismatchError(this.digest, "more bytes than expected", end));
    this.issued = end;
    this.hash.update(chunk);
    // Copy now what fits in the runs we may use; the rest once a run lands, after earlier such writes.
    const at = this.queued ? 0 : this.copyChunk(chunk, 0);
    if (at === chunk.length) return DONE;
    this.queued++;
    const copied = this.queue.then(() => this.copyIn(chunk, at)).finally(() => this.queued--);
    this.queue = copied.catch(() => undefined);
    return copied;
  }

  /** Before any write: gives up the temp file and hands over to a writer over `file`. */
  async adopt(file: string): Promise<BlobWriter> {
    if (this.issued > 0 || this.done) throw new Error("adopt() must come before any write");
    await this.abort();
    return this.target.adopt(file);
  }

  /** Resolves once nothing is on its way to disk (also after a failure: then it throws it). */
  async flush(): Promise<void> {
    await this.queue;
    if (!this.failure) this.sendFilling();
    while (this.flying > 0) await this.nextMove();
    if (this.failure) throw this.failure;
  }

  async readInto(buffer: Buffer, position: number, length: number): Promise<number> {
    if (this.queued) await this.queue; // bytes of earlier writes are in their runs
    const wanted = Math.min(length, buffer.length, this.issued - position);
    if (wanted <= 0) return 0;
    // From memory across consecutive runs (a reader at the front takes whole runs per slice).
    let copied = 0;
    for (const run of this.runs) {
      const at = position + copied;
      if (at < run.start || at >= run.start + run.filled) continue;
      const from = at - run.start;
      copied += run.bytes.copy(buffer, copied, from, Math.min(run.filled, from + wanted - copied));
      if (copied >= wanted) break;
    }
    if (copied > 0) return copied;
    const fromDisk = Math.min(wanted, this.landed - position);
    if (fromDisk <= 0) return 0;
    return (await this.handle.read(buffer, 0, fromDisk, position)).bytesRead;
  }

  async verify(): Promise<void> {
    this.actual ??= await this.finish();
    if (
      this.failure ||
      this.actual !== this.digest ||
      (this.expectedSize !== undefined && this.issued !== this.expectedSize)
    ) {
      await this.discard();
      throw this.failure ?? new DigestMismatchError(this.digest, this.actual, this.issued);
    }
  }

  async commit(): Promise<BlobInfo> {
    await this.verify();
    this.committed = true;
    await this.handle.sync();
    await this.handle.close();
    return this.target.publish(this.issued, this.tmpPath);
  }

  async abort(): Promise<void> {
    if (this.committed || this.discarding) return;
    this.done = true;
    // Runs on their way must land before the descriptor closes (it could be reused).
    await this.flush().catch(() => undefined);
    await this.discard();
  }

  /** Writes the last run and waits for every run to land. */
  private async finish(): Promise<string> {
    if (!this.done) {
      this.done = true;
      await this.flush().catch(() => undefined);
    }
    return `sha256:${this.hash.digest("hex")}`;
  }

  private async copyIn(chunk: Buffer, from: number): Promise<void> {
    for (let at = from; at < chunk.length; ) {
      while (!this.fillingRun() && this.flying >= RUNS_IN_FLIGHT && !this.failure) await this.nextMove();
      if (this.failure) throw this.failure;
      at = this.copyChunk(chunk, at, 1);
    }
  }

  /**
   * Copies `chunk` from `at` into runs (at most `runs` new ones, and none while RUNS_IN_FLIGHT are
   * on their way); returns where it stopped.
   */
  private copyChunk(chunk: Buffer, at: number, runs = Infinity): number {
    while (at < chunk.length && !this.failure) {
      let run = this.fillingRun();
      if (!run) {
        if (runs-- <= 0 || this.flying >= RUNS_IN_FLIGHT) break;
        run = this.newRun();
      }
      const copied = chunk.copy(run.bytes, run.filled, at);
      run.filled += copied;
      at += copied;
      if (run.filled === run.bytes.length) this.sendFilling();
    }
    return at;
  }

  private fillingRun(): Run | undefined {
    const run = this.runs[this.runs.length - 1];
    return run?.state === "filling" ? run : undefined;
  }

  private newRun(): Run {
    const last = this.runs[this.runs.length - 1];
    const start = last ? last.start + last.filled : 0;
    const run: Run = {
      bytes: this.spare.pop() ?? Buffer.allocUnsafe(this.runBytes),
      start,
      filled: 0,
      state: "filling",
    };
    this.runs.push(run);
    return run;
  }

  /** Sends the filling run (if it holds anything) to the file. */
  private sendFilling(): void {
    const run = this.fillingRun();
    if (!run || run.filled === 0) return;
    run.state = "writing";
    this.flying++;
    writeAll(this.handle, run.bytes.subarray(0, run.filled), run.start).then(
      () => {
        run.state = "landed";
        this.landed = this.runs.find(r => r.state !== "landed")?.start ?? run.start + run.filled;
        this.moved();
      },
      (err: Error) => {
        run.state = "failed"; // its write returned (the descriptor may close), its bytes are not down
        this.failure ??= err;
        this.moved();
      },
    );
  }

  private moved(): void {
    this.flying = this.runs.filter(run => run.state === "writing").length;
    this.keepRecent();
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Frees the memory of landed runs beyond the newest RUNS_KEPT (their bytes are on disk). */
  private keepRecent(): void {
    let landedRuns = this.runs.filter(run => run.state === "landed").length;
    while (landedRuns > RUNS_KEPT && this.runs[0]?.state === "landed") {
      const oldest = this.runs.shift()!;
      if (oldest.bytes.length === this.runBytes) this.spare.push(oldest.bytes);
      landedRuns--;
    }
  }

  private nextMove(): Promise<void> {
    return new Promise(resolve => this.waiters.push(resolve));
  }

  private discard(): Promise<void> {
    this.discarding ??= (async () => {
      await this.handle.close().catch(() => undefined);
      await rm(this.tmpPath, { force: true });
    })();
    return this.discarding;
  }
}

/** Positional writes until every byte is down (a regular file may take fewer bytes than asked). */
async function writeAll(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  for (let at = 0; at < bytes.length; )
    at += (await handle.write(bytes, at, bytes.length - at, position + at)).bytesWritten;
}
