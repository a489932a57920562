/**
 * A disk-store writer over a file someone else fills (BlobWriter.adopt): a swarm download stores
 * each piece once, in its partial's data file, and this writer takes the pieces in order as they
 * are there, hashing them without writing them again; on commit the data file itself becomes the
 * cached blob (fsync, then rename). Readers close behind get the newest pieces from memory, others
 * read the file. Hashing stays on the event loop: the bytes are in memory already, and moving them
 * to a thread would cost a copy.
 */
import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import type { BlobInfo, BlobWriter } from "./blob-store";
import { DigestMismatchError } from "./blob-store";

/** Bytes of the newest chunks kept in memory for readers close behind the writer (4 pieces of 1 MiB). */
const RECENT_BYTES = 4 * 1024 * 1024;

const DONE = Promise.resolve();

export class FsAdoptedWriter implements BlobWriter {
  private readonly hash = createHash("sha256");
  private recent: { start: number; bytes: Buffer }[] = [];
  private recentBytes = 0;
  private issued = 0;
  private done = false;
  private committed = false;
  private closed = false;
  private actual?: string;

  constructor(
    private readonly handle: FileHandle,
    private readonly file: string,
    private readonly digest: string,
    private readonly expectedSize: number | undefined,
    private readonly publish: (size: number, file: string) => Promise<BlobInfo>,
  ) {}

  get written(): number {
    return this.issued;
  }

  /** Takes the next bytes, which must already be in the file at this offset. */
  write(chunk: Buffer): Promise<void> {
    if (this.done) return Promise.reject(new Error("write after commit or abort"));
    const end = this.issued + chunk.length;
    if (this.expectedSize !== undefined && end > this.expectedSize)
      return Promise.reject(new DigestMismatchError(this.digest, "more bytes than expected", end));
    if (chunk.length === 0) return DONE;
    this.hash.update(chunk);
    this.recent.push({ start: this.issued, bytes: chunk });
    this.recentBytes += chunk.length;
    while (this.recentBytes - this.recent[0].bytes.length >= RECENT_BYTES)
      this.recentBytes -= this.recent.shift()!.bytes.length;
    this.issued = end;
    return DONE;
  }

  flush(): Promise<void> {
    return DONE;
  }

  async readInto(buffer: Buffer, position: number, length: number): Promise<number> {
    const wanted = Math.min(length, buffer.length, this.issued - position);
    if (wanted <= 0) return 0;
    const first = this.recent.findIndex(({ start, bytes }) => position < start + bytes.length);
    if (first < 0 || position < this.recent[first].start)
      return (await this.handle.read(buffer, 0, wanted, position)).bytesRead;
    // From memory, across as many consecutive chunks as the read wants (chunks may be 64 KiB).
    let copied = 0;
    for (let i = first; i < this.recent.length && copied < wanted; i++) {
      const { start, bytes } = this.recent[i];
      const from = position + copied - start;
      copied += bytes.copy(buffer, copied, from, Math.min(bytes.length, from + wanted - copied));
    }
    return copied;
  }

  async verify(): Promise<void> {
    this.done = true;
    this.recent = [];
    this.recentBytes = 0;
    this.actual ??= `sha256:${this.hash.digest("hex")}`;
    if (
      this.actual !== this.digest ||
      (this.expectedSize !== undefined && this.issued !== this.expectedSize)
    ) {
      await this.close();
      throw new DigestMismatchError(this.digest, this.actual, this.issued);
    }
  }

  async commit(): Promise<BlobInfo> {
    await this.verify();
    this.committed = true;
    await this.handle.sync();
    await this.close();
    return this.publish(this.issued, this.file);
  }

  async abort(): Promise<void> {
    if (this.committed) return;
    this.done = true;
    this.recent = [];
    this.recentBytes = 0;
    await this.close();
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close().catch(() => undefined);
  }
}
