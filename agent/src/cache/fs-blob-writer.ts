/**
 * The disk store's BlobWriter. Each chunk is hashed as it is given and kept by reference (never
 * copied): chunks are gathered into ~1 MiB runs written with one positional writev each, a few
 * runs in flight, so the stream keeps flowing while the disk works. The newest chunks stay in
 * memory after they land, so readers close behind the writer take them from there instead of
 * reading the file back; every byte given to write() is readable at once.
 * A chunk must not be changed once given to write().
 */
import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { rm } from "node:fs/promises";
import type { BlobInfo, BlobWriter } from "./blob-store";
import { DigestMismatchError } from "./blob-store";

/** Bytes gathered per positional write (one syscall and one threadpool round trip each). */
const RUN_BYTES = 1024 * 1024;
/** Runs in flight before write() waits for the disk. */
const RUNS_IN_FLIGHT = 4;
/** Landed bytes kept in memory for readers close behind the writer. */
const RECENT_BYTES = 4 * 1024 * 1024;

export class FsBlobWriter implements BlobWriter {
  private readonly hash = createHash("sha256");
  /** Chunks from `recentStart` on, in order: landed ones (kept for readers), then the rest. */
  private recent: Buffer[] = [];
  private recentStart = 0;
  /** Chunks not yet handed to the disk, starting at `pendingStart`. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private issued = 0;
  private landed = 0;
  private inFlight: Promise<void>[] = [];
  private failure?: Error;
  private done = false;
  private committed = false;
  private actual?: string;
  private discarding?: Promise<void>;

  constructor(
    private readonly handle: FileHandle,
    private readonly tmpPath: string,
    private readonly digest: string,
    private readonly expectedSize: number | undefined,
    private readonly publish: (size: number) => Promise<BlobInfo>,
  ) {}

  get written(): number {
    return this.issued;
  }

  /** Hashes and keeps `chunk`; resolves at once unless RUNS_IN_FLIGHT runs are still on their way. */
  write(chunk: Buffer): Promise<void> {
    if (this.done) return Promise.reject(new Error("write after commit or abort"));
    if (this.failure) return Promise.reject(this.failure);
    const end = this.issued + chunk.length;
    if (this.expectedSize !== undefined && end > this.expectedSize)
      return Promise.reject(new DigestMismatchError(this.digest, "more bytes than expected", end));
    if (chunk.length === 0) return Promise.resolve();
    this.issued = end;
    this.hash.update(chunk);
    this.recent.push(chunk);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= RUN_BYTES) this.startRun();
    return this.inFlight.length >= RUNS_IN_FLIGHT ? this.inFlight[0] : Promise.resolve();
  }

  async flush(): Promise<void> {
    if (this.pendingBytes > 0) this.startRun();
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }

  async readInto(buffer: Buffer, position: number, length: number): Promise<number> {
    const wanted = Math.min(length, buffer.length, Math.max(0, this.issued - position));
    if (wanted <= 0) return 0;
    if (position >= this.recentStart) return this.copyRecent(buffer, position, wanted);
    const fromDisk = Math.min(wanted, this.landed - position);
    if (fromDisk <= 0) return 0;
    return (await this.handle.read(buffer, 0, fromDisk, position)).bytesRead;
  }

  async verify(): Promise<void> {
    this.done = true;
    await this.flush().catch(() => undefined);
    this.actual ??= `sha256:${this.hash.digest("hex")}`;
    const failed = this.failure;
    if (
      failed ||
      this.actual !== this.digest ||
      (this.expectedSize !== undefined && this.issued !== this.expectedSize)
    ) {
      await this.discard();
      throw failed ?? new DigestMismatchError(this.digest, this.actual, this.issued);
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
    // Runs still on their way must finish before the descriptor closes (it could be reused).
    await Promise.allSettled(this.inFlight);
    await this.discard();
  }

  private startRun(): void {
    const chunks = this.pending;
    const position = this.issued - this.pendingBytes;
    const end = this.issued;
    this.pending = [];
    this.pendingBytes = 0;
    const run = writeAll(this.handle, chunks, position).then(
      () => {
        this.landed = Math.max(this.landed, end);
        this.trimRecent();
      },
      (err: Error) => {
        this.failure ??= err;
      },
    );
    const tracked = run.finally(() => this.inFlight.splice(this.inFlight.indexOf(tracked), 1));
    this.inFlight.push(tracked);
  }

  /** Drops the oldest landed chunks while more than RECENT_BYTES are held. */
  private trimRecent(): void {
    let held = this.issued - this.recentStart;
    let drop = 0;
    while (drop < this.recent.length && held > RECENT_BYTES) {
      const length = this.recent[drop].length;
      if (this.recentStart + length > this.landed) break;
      this.recentStart += length;
      held -= length;
      drop++;
    }
    if (drop > 0) this.recent = this.recent.slice(drop);
  }

  private copyRecent(buffer: Buffer, position: number, wanted: number): number {
    let at = this.recentStart;
    let copied = 0;
    for (const chunk of this.recent) {
      const end = at + chunk.length;
      if (end > position + copied) {
        const from = position + copied - at;
        copied += chunk.copy(buffer, copied, from, Math.min(chunk.length, from + wanted - copied));
        if (copied >= wanted) break;
      }
      at = end;
    }
    return copied;
  }

  private discard(): Promise<void> {
    this.discarding ??= (async () => {
      await this.handle.close().catch(() => undefined);
      await rm(this.tmpPath, { force: true });
    })();
    return this.discarding;
  }
}

/** writev until every byte is down (a regular file may take fewer bytes than asked). */
async function writeAll(handle: FileHandle, chunks: Buffer[], position: number): Promise<void> {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  let { bytesWritten } = await handle.writev(chunks, position);
  while (bytesWritten < total) {
    const rest = Buffer.concat(chunks).subarray(bytesWritten);
    bytesWritten += (await handle.write(rest, 0, rest.length, position + bytesWritten)).bytesWritten;
  }
}
