/**
 * One fill per missing digest (single flight). Every request for the digest streams from the same
 * fill while it runs, reading what was written so far, so a client starts receiving before the
 * fetch ends: a reader close behind the fill gets the newest bytes from the writer's memory, one
 * further behind reads them back from its file, so a slow client costs no memory. Once the fill
 * commits, readers continue from the store; if it fails, readers are destroyed (a short read, never
 * a complete-looking bad body: the last byte is held back until the digest is verified) and the
 * next request starts a new fill.
 */
import { Readable } from "node:stream";
import type { ByteSpan } from "../../../protocol/range";
import type { BlobInfo, BlobStore, BlobWriter, SliceSource } from "./blob-store";

/** Bytes a fill got from each place; a fill that only uses the origin may leave it empty. */
export interface SourceTally {
  origin: number;
  peer: number;
}

/** Gets the blob's bytes into `writer` and commits it. */
export type FillFunction = (writer: BlobWriter, sourced: SourceTally) => Promise<void>;

const READ_CHUNK_BYTES = 256 * 1024;
/**
 * Waiting readers are woken once this many more bytes are readable (or the blob is all there): a
 * reader at the front then sends slices of this size (the HTTP layer's), not every 64 KiB socket
 * read on its own.
 */
const WAKE_BYTES = 1024 * 1024;

export class InFlight {
  private readonly fills = new Map<string, Fill>();

  constructor(private readonly store: BlobStore) {}

  /**
   * Joins the running fill for `digest` of this `size`, or starts `fill` if there is none. Keyed by
   * size too: a size comes from a manifest descriptor anyone can push, and a fill started with a
   * wrong one must fail alone, not take down the requests that know the right size.
   */
  join(digest: string, size: number, fill: FillFunction): Fill {
    const key = `${digest} ${size}`;
    const running = this.fills.get(key);
    if (running) return running;
    const started = new Fill(this.store, digest, size);
    this.fills.set(key, started);
    void started.run(fill).finally(() => this.fills.delete(key));
    return started;
  }

  get size(): number {
    return this.fills.size;
  }

  /** Waits (bounded) for running fills to commit or fail, so a graceful stop keeps finished work. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const fill of this.fills.values()) await fill.settled(Math.max(0, deadline - Date.now()));
  }
}

type FillState = { kind: "running" } | { kind: "committed" } | { kind: "failed"; error: Error };

export class Fill {
  private state: FillState = { kind: "running" };
  private writer?: BlobWriter;
  private waiters: (() => void)[] = [];
  /** The digest matched: every byte may go out while the blob is made durable. */
  private verified = false;
  /** What `written` was when waiting readers were last woken. */
  private wokenAt = 0;
  /** Where the fill's bytes came from, for the clients' blob_bytes_total{source}. */
  readonly sourced: SourceTally = { origin: 0, peer: 0 };

  constructor(
    private readonly store: BlobStore,
    readonly digest: string,
    readonly size: number,
  ) {}

  async run(fill: FillFunction): Promise<void> {
    try {
      const writer = await this.store.create(this.digest, this.size);
      this.writer = new WatchedWriter(writer, {
        written: () => {
          // Through the fill's view: after an adopt() the bytes are counted by the new writer.
          const written = this.written;
          if (written - this.wokenAt < WAKE_BYTES && written < this.size) return;
          this.wokenAt = written;
          this.wake();
        },
        verified: () => {
          this.verified = true;
          this.wake();
        },
      });
      await fill(this.writer, this.sourced);
      if (!(await this.store.stat(this.digest))) throw new Error("fill finished without committing the blob");
      this.state = { kind: "committed" };
    } catch (err) {
      // A fill that failed (or ended without committing) may not have aborted its writer: its file
      // handle and temp file would outlive it. Abort is a no-op for a writer already done.
      await this.writer?.abort().catch(() => undefined);
      this.state = { kind: "failed", error: err instanceof Error ? err : new Error(String(err)) };
    }
    this.wake();
  }

  get written(): number {
    return this.writer?.written ?? 0;
  }

  /** Resolves when the fill has committed or failed, or after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.state.kind === "running" && Date.now() < deadline) {
      await Promise.race([this.nextChange(), new Promise(resolve => setTimeout(resolve, 100).unref())]);
    }
  }

  /** A stream of the span (default: the whole blob) that follows the fill as it grows. */
  createReader(span: ByteSpan = { start: 0, end: this.size - 1 }): Readable {
    return Readable.from(chunks(this.createSliceReader(), span), { objectMode: false });
  }

  /** Reads into the caller's buffers, waiting for bytes the fill has not written yet. */
  createSliceReader(): SliceSource {
    let stored: SliceSource | undefined;
    return {
      readInto: async (buffer, position, length) => {
        for (;;) {
          const state = this.state;
          if (state.kind === "failed") throw state.error;
          if (state.kind === "committed") {
            stored ??= await this.store.openSlices(this.digest);
            return stored.readInto(buffer, position, length);
          }
          const read = await this.readWritten(buffer, position, length);
          if (read > 0) return read;
          await this.nextChange();
        }
      },
      close: async () => stored?.close(),
    };
  }

  /**
   * Bytes the writer has, except the blob's last byte before the digest check (so a bad fill ends
   * every reader short). The writer's file closes when the fill commits; a read that fails then
   * returns nothing and the caller continues from the store (or sees the failure).
   */
  private async readWritten(buffer: Buffer, position: number, length: number): Promise<number> {
    const readable = Math.min(this.writer?.written ?? 0, this.verified ? this.size : this.size - 1);
    if (!this.writer || position >= readable) return 0;
    try {
      return await this.writer.readInto(buffer, position, Math.min(length, readable - position));
    } catch {
      return 0;
    }
  }

  private nextChange(): Promise<void> {
    if (this.state.kind !== "running") return Promise.resolve();
    return new Promise(resolve => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * The fill's view of its writer: tells the fill when bytes become readable and when they verify,
 * and follows the writer an adopt() hands over to (the fill counts and reads through it).
 */
class WatchedWriter implements BlobWriter {
  constructor(
    private inner: BlobWriter,
    private readonly on: { written: () => void; verified: () => void },
  ) {}

  get written(): number {
    return this.inner.written;
  }

  write(chunk: Buffer): Promise<void> {
    const taken = this.inner.write(chunk);
    this.on.written(); // readers may read them now (a writer's readInto waits for bytes it queued)
    return taken;
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  get adopt(): ((file: string) => Promise<BlobWriter>) | undefined {
    const adopt = this.inner.adopt?.bind(this.inner);
    if (!adopt) return undefined;
    return async file => {
      this.inner = await adopt(file);
      return this;
    };
  }

  readInto(buffer: Buffer, position: number, length: number): Promise<number> {
    return this.inner.readInto(buffer, position, length);
  }

  verify(): Promise<void> {
    return this.inner.verify();
  }

  async commit(): Promise<BlobInfo> {
    await this.inner.verify();
    this.on.verified();
    return this.inner.commit();
  }

  abort(): Promise<void> {
    return this.inner.abort();
  }
}

async function* chunks(source: SliceSource, span: ByteSpan): AsyncGenerator<Buffer> {
  try {
    for (let position = span.start; position <= span.end; ) {
      const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, span.end - position + 1));
      const read = await source.readInto(buffer, position, buffer.length);
      if (read === 0) throw new Error(`blob ended at byte ${position}`);
      position += read;
      yield buffer.subarray(0, read);
    }
  } finally {
    await source.close();
  }
}
