/** The in-memory twin of FsBlobStore for tests of code that needs a BlobStore. */
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { parseDigest } from "../../../protocol/digest";
import type { ByteSpan } from "../../../protocol/range";
import {
  BlobInfo,
  BlobNotFoundError,
  BlobStore,
  BlobStoreOptions,
  BlobWriter,
  chooseEvictions,
  DigestMismatchError,
  SliceSource,
} from "../cache/blob-store";

interface Entry {
  info: BlobInfo;
  bytes: Buffer;
}

export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly options: BlobStoreOptions = { ttlMs: Infinity, maxBytes: 0 }) {
    this.now = options.now ?? Date.now;
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    const entry = this.blobs.get(digest);
    return entry && { ...entry.info };
  }

  async open(digest: string, span?: ByteSpan): Promise<Readable> {
    const entry = this.blobs.get(digest);
    if (!entry) throw new BlobNotFoundError(digest);
    entry.info.lastUsedMs = this.now();
    return Readable.from([span ? entry.bytes.subarray(span.start, span.end + 1) : entry.bytes]);
  }

  async openSlices(digest: string): Promise<SliceSource> {
    const entry = this.blobs.get(digest);
    if (!entry) throw new BlobNotFoundError(digest);
    entry.info.lastUsedMs = this.now();
    return {
      readInto: async (buffer, position, length) =>
        entry.bytes.copy(buffer, 0, position, Math.min(entry.bytes.length, position + length)),
      close: async () => undefined,
    };
  }

  async create(digest: string, expectedSize?: number): Promise<BlobWriter> {
    parseDigest(digest);
    const chunks: Buffer[] = [];
    let written = 0;
    let done = false;
    let adopted: string | undefined;
    const writer: BlobWriter = {
      get written() {
        return written;
      },
      async write(chunk) {
        if (done) throw new Error("write after commit or abort");
        if (expectedSize !== undefined && written + chunk.length > expectedSize)
          throw new DigestMismatchError(digest, "more bytes than expected", written + chunk.length);
        chunks.push(Buffer.from(chunk));
        written += chunk.length;
      },
      async flush() {},
      // The memory twin keeps the bytes itself; like the disk store it takes the file away on commit.
      async adopt(file) {
        if (written > 0 || done) throw new Error("adopt() must come before any write");
        adopted = file;
        return writer;
      },
      async readInto(buffer, position, length) {
        return Buffer.concat(chunks).copy(buffer, 0, position, Math.min(written, position + length));
      },
      async verify() {
        done = true;
        const bytes = Buffer.concat(chunks);
        const actual = "sha256:" + createHash("sha256").update(bytes).digest("hex");
        if (actual !== digest || (expectedSize !== undefined && bytes.length !== expectedSize))
          throw new DigestMismatchError(digest, actual, bytes.length);
      },
      commit: async () => {
        const bytes = Buffer.concat(chunks);
        const actual = "sha256:" + createHash("sha256").update(bytes).digest("hex");
        if (actual !== digest || (expectedSize !== undefined && bytes.length !== expectedSize))
          throw new DigestMismatchError(digest, actual, bytes.length);
        done = true;
        const info = { digest, size: bytes.length, lastUsedMs: this.now() };
        this.blobs.set(digest, { info, bytes });
        if (adopted) await rm(adopted, { force: true });
        return { ...info };
      },
      async abort() {
        done = true;
      },
    };
    return writer;
  }

  async delete(digest: string): Promise<void> {
    this.blobs.delete(digest);
  }

  async verify(digest: string): Promise<boolean> {
    const entry = this.blobs.get(digest);
    if (!entry) return false;
    if (`sha256:${createHash("sha256").update(entry.bytes).digest("hex")}` === digest) return true;
    this.blobs.delete(digest);
    this.options.onEvict?.(entry.info, "corrupt");
    return false;
  }

  /** Test hook: damages stored bytes in place, as a failing disk would. */
  corrupt(digest: string, offset = 0): void {
    const entry = this.blobs.get(digest);
    if (entry) entry.bytes[offset] ^= 0xff;
  }

  async list(): Promise<BlobInfo[]> {
    return [...this.blobs.values()].map(entry => ({ ...entry.info }));
  }

  usage(): { bytes: number; blobs: number } {
    let bytes = 0;
    for (const entry of this.blobs.values()) bytes += entry.info.size;
    return { bytes, blobs: this.blobs.size };
  }

  async evict(now: number): Promise<void> {
    for (const { info, reason } of chooseEvictions(await this.list(), this.options, now, () => false)) {
      this.blobs.delete(info.digest);
      this.options.onEvict?.(info, reason);
    }
  }
}
