/**
 * The disk store's BlobWriter. Chunks are copied into runs of ~1 MiB. A full run moves to the
 * hashing thread (hash-thread.ts) and back, then goes to the file in one positional write on the
 * threadpool, while the next run fills: the event loop only copies, the SHA-256 and the disk write
 * happen beside it. Landed runs stay in memory for a while, so readers close behind the writer copy
 * the newest bytes from there instead of reading the file back. Run memory is reused, so a fill
 * makes no garbage however long the blob.
 *
 * Bytes are readable (`written`) at once, except those of runs still with the thread (about a
 * millisecond a run); `onWritten` says when those come back. The temp file's descriptor stays open
 * until every run's write has returned, so a late write can never land in a reused descriptor.
 */
import type { FileHandle } from "node:fs/promises";
import { rm } from "node:fs/promises";
import type { BlobInfo, BlobWriter } from "./blob-store";
import { DigestMismatchError } from "./blob-store";
import type { HashStream, HashThread } from "./hash-thread";

/** Bytes per run: one message to the thread and one write syscall each. */
const RUN_BYTES = 1024 * 1024;
/** Runs hashing or writing before write() waits. */
const RUNS_IN_FLIGHT = 4;
/** Landed runs kept in memory for readers close behind the writer. */
const RUNS_KEPT = 2;

const DONE = Promise.resolve();

interface Run {
  /** Undefined while the run is with the hashing thread. */
  bytes?: Buffer;
  start: number;
  filled: number;
  state: "filling" | "hashing" | "writing" | "landed";
}

export class FsBlobWriter implements BlobWriter {
  private readonly stream: HashStream;
  /** Runs in blob order: kept (landed) ones, those on their way, then the one filling. */
  private runs: Run[] = [];
  private readonly spare: Buffer[] = [];
  private readonly runBytes: number;
  private issued = 0;
  private landed = 0;
  private flying = 0;
  /** Woken whenever a run moves on (or the writer fails). */
  private waiters: (() => void)[] = [];
  /** Writes waiting for a run to come back, copied in call order. */
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private failure?: Error;
  private done = false;
  private committed = false;
  private readonly digested: Promise<string>;
  private actual?: string;
  private discarding?: Promise<void>;

  constructor(
    thread: HashThread,
    private readonly handle: FileHandle,
    private readonly tmpPath: string,
    private readonly digest: string,
    private readonly expectedSize: number | undefined,
    private readonly publish: (size: number) => Promise<BlobInfo>,
    private readonly onWritten: () => void = () => undefined,
  ) {
    this.runBytes = Math.max(1, Math.min(RUN_BYTES, expectedSize ?? RUN_BYTES));
    let digested!: (hex: string) => void;
    this.digested = new Promise(resolve => (digested = resolve));
    this.stream = thread.open({
      hashed: memory => this.hashed(memory),
      digest: hex => digested(hex),
      failed: error => {
        this.fail(error);
        digested("");
      },
    });
  }

  /** Bytes up to the first run still with the thread (the filling run's bytes count). */
  get written(): number {
    let end = 0;
    for (const run of this.runs) {
      if (run.state === "hashing") return run.start;
      end = run.start + run.filled;
    }
    return Math.max(end, this.landed);
  }

  /**
   * Copies `chunk` into runs; resolves at once unless RUNS_IN_FLIGHT runs are on their way, then
   * once the rest is copied (the caller may reuse the chunk from then on).
   */
  write(chunk: Buffer): Promise<void> {
    if (this.done) return Promise.reject(new Error("write after commit or abort"));
    if (this.failure) return Promise.reject(this.failure);
    const end = this.issued + chunk.length;
    if (this.expectedSize !== undefined && end > this.expectedSize)
      return Promise.reject(new DigestMismatchError(this.digest, "more bytes than expected", end));
    this.issued = end;
    // Copy now what fits in the runs we may use; the rest once a run is back, after earlier such writes.
    const at = this.queued ? 0 : this.copyChunk(chunk, 0);
    if (at === chunk.length) return DONE;
    this.queued++;
    const copied = this.queue.then(() => this.copyIn(chunk, at)).finally(() => this.queued--);
    this.queue = copied.catch(() => undefined);
    return copied;
  }

  async flush(): Promise<void> {
    await this.queue;
    this.sendFilling();
    while (this.flying > 0 && !this.failure) await this.nextMove();
    if (this.failure) throw this.failure;
  }

  async readInto(buffer: Buffer, position: number, length: number): Promise<number> {
    const wanted = Math.min(length, buffer.length, this.written - position);
    if (wanted <= 0) return 0;
    for (const run of this.runs) {
      if (!run.bytes || position < run.start || position >= run.start + run.filled) continue;
      const from = position - run.start;
      return run.bytes.copy(buffer, 0, from, Math.min(run.filled, from + wanted));
    }
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
    return this.publish(this.issued);
  }

  async abort(): Promise<void> {
    if (this.committed || this.discarding) return;
    this.done = true;
    await this.queue;
    // Runs on their way must come back before the descriptor closes (it could be reused).
    while (this.flying > 0 && !this.failure) await this.nextMove();
    while (this.runs.some(run => run.state === "writing")) await this.nextMove();
    this.stream.drop();
    await this.discard();
  }

  /** Sends the last run, waits for every run to land and for the thread's digest. */
  private async finish(): Promise<string> {
    if (!this.done) {
      this.done = true;
      await this.flush().catch(() => undefined);
      this.stream.end();
    }
    const hex = await this.digested;
    return hex && !this.failure ? `sha256:${hex}` : "sha256:(not computed)";
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
      const copied = chunk.copy(run.bytes!, run.filled, at);
      run.filled += copied;
      at += copied;
      if (run.filled === run.bytes!.length) this.sendFilling();
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
      bytes: this.spare.pop() ?? allocRun(this.runBytes),
      start,
      filled: 0,
      state: "filling",
    };
    this.runs.push(run);
    return run;
  }

  /** Hands the filling run (if it holds anything) to the hashing thread. */
  private sendFilling(): void {
    const run = this.fillingRun();
    if (!run || run.filled === 0) return;
    run.state = "hashing";
    this.flying++;
    const memory = run.bytes!.buffer as ArrayBuffer;
    run.bytes = undefined;
    this.stream.hash(memory, run.filled);
  }

  /** A run is back from the thread (in the order sent): readable now, then written to the file. */
  private hashed(memory: ArrayBuffer): void {
    const run = this.runs.find(r => r.state === "hashing");
    if (!run) return;
    run.bytes = Buffer.from(memory);
    run.state = "writing";
    writeAll(this.handle, run.bytes.subarray(0, run.filled), run.start).then(
      () => {
        run.state = "landed";
        this.landed = this.runs.find(r => r.state !== "landed")?.start ?? run.start + run.filled;
        this.moved();
      },
      (err: Error) => {
        run.state = "landed"; // its write returned: the descriptor may close
        this.fail(err);
      },
    );
    this.moved();
    this.onWritten();
  }

  private moved(): void {
    this.flying = this.runs.filter(run => run.state === "hashing" || run.state === "writing").length;
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
      if (oldest.bytes?.length === this.runBytes) this.spare.push(oldest.bytes);
      landedRuns--;
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.moved();
    this.onWritten();
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

/** Run memory of its own (not a slice of Node's shared pool), so it can move to the thread. */
function allocRun(bytes: number): Buffer {
  return Buffer.from(new ArrayBuffer(bytes));
}

/** Positional writes until every byte is down (a regular file may take fewer bytes than asked). */
async function writeAll(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  for (let at = 0; at < bytes.length; )
    at += (await handle.write(bytes, at, bytes.length - at, position + at)).bytesWritten;
}
