/**
 * The disk blob cache (DESIGN 2.3): `blobs/sha256/<hex>` under the cache dir, written to `tmp/`,
 * fsynced, digest-verified, then renamed, so a crash never leaves a servable partial blob.
 * Blobs found on start are hashed once before their first use (a crash or a disk may have damaged
 * them); blobs committed by this process were verified as they were written.
 */
import { createHash, randomBytes } from "node:crypto";
import { constants, createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat, utimes } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { parseDigest, SHA256_HEX } from "../../../protocol/digest";
import type { ByteSpan } from "../../../protocol/range";
import {
  BlobInfo,
  BlobNotFoundError,
  BlobStore,
  BlobStoreOptions,
  BlobWriter,
  chooseEvictions,
  SliceSource,
} from "./blob-store";
import { FsAdoptedWriter } from "./fs-adopted-writer";
import { FsBlobWriter, WriterTarget } from "./fs-blob-writer";

interface Entry extends BlobInfo {
  verified: boolean;
  readers: number;
}

/** Last-used times are persisted as mtime, at most this often per blob. */
const TOUCH_INTERVAL_MS = 60_000;
/** Large reads keep the per-chunk cost of serving a cached blob low. */
const READ_BUFFER_BYTES = 4 * 1024 * 1024;

export class FsBlobStore implements BlobStore {
  private readonly entries = new Map<string, Entry>();
  private readonly verifying = new Map<string, Promise<boolean>>();
  private readonly now: () => number;

  private constructor(
    private readonly dir: string,
    private readonly options: BlobStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Opens (creating if needed) the cache dir, drops temp leftovers and indexes complete blobs. */
  static async open(dir: string, options: BlobStoreOptions): Promise<FsBlobStore> {
    const store = new FsBlobStore(dir, options);
    await rm(store.tmpDir, { recursive: true, force: true });
    await mkdir(store.tmpDir, { recursive: true });
    await mkdir(store.blobDir, { recursive: true });
    await store.scan();
    return store;
  }

  private get blobDir(): string {
    return join(this.dir, "blobs", "sha256");
  }

  private get tmpDir(): string {
    return join(this.dir, "tmp");
  }

  private pathOf(digest: string): string {
    return join(this.blobDir, parseDigest(digest).hex);
  }

  private async scan(): Promise<void> {
    for (const name of await readdir(this.blobDir)) {
      const path = join(this.blobDir, name);
      if (!SHA256_HEX.test(name)) {
        await rm(path, { recursive: true, force: true });
        continue;
      }
      const info = await stat(path);
      const digest = `sha256:${name}`;
      this.entries.set(digest, {
        digest,
        size: info.size,
        lastUsedMs: info.mtimeMs,
        verified: false,
        readers: 0,
      });
    }
  }

  /** Verifies a blob found on disk at start the first time it is asked for. */
  async stat(digest: string): Promise<BlobInfo | undefined> {
    const entry = this.entries.get(digest);
    if (!entry || (!entry.verified && !(await this.check(entry)))) return undefined;
    return { digest: entry.digest, size: entry.size, lastUsedMs: entry.lastUsedMs };
  }

  async open(digest: string, span?: ByteSpan): Promise<Readable> {
    const entry = await this.use(digest);
    const stream = createReadStream(this.pathOf(digest), {
      highWaterMark: READ_BUFFER_BYTES,
      ...(span ? { start: span.start, end: span.end } : {}),
    });
    stream.once("close", () => entry.readers--);
    return stream;
  }

  async openSlices(digest: string): Promise<SliceSource> {
    const entry = await this.use(digest);
    try {
      const handle = await open(this.pathOf(digest), "r");
      let closed = false;
      return {
        readInto: async (buffer, position, length) =>
          (await handle.read(buffer, 0, Math.min(length, buffer.length), position)).bytesRead,
        close: async () => {
          if (closed) return;
          closed = true;
          entry.readers--;
          await handle.close();
        },
      };
    } catch (err) {
      entry.readers--;
      throw err;
    }
  }

  /** A complete, verified entry, marked used and counted as read until the caller releases it. */
  private async use(digest: string): Promise<Entry> {
    const entry = this.entries.get(digest);
    if (!entry) throw new BlobNotFoundError(digest);
    if (!entry.verified && !(await this.check(entry)))
      throw new BlobNotFoundError(digest, "was corrupt and was dropped");
    this.touch(entry);
    entry.readers++;
    return entry;
  }

  /**
   * Re-hashes a blob (the agent calls this after a read error); drops it and reports it as
   * "corrupt" when its content no longer matches its name. Readers opening it meanwhile wait.
   */
  async verify(digest: string): Promise<boolean> {
    const entry = this.entries.get(digest);
    if (!entry) return false;
    entry.verified = false;
    return this.check(entry);
  }

  /** Hashes a blob found on disk; drops it (and reports it as corrupt) if it does not match its name. */
  private check(entry: Entry): Promise<boolean> {
    const running = this.verifying.get(entry.digest);
    if (running) return running;
    const check = hashFile(this.pathOf(entry.digest))
      .then(async actual => {
        if (actual === entry.digest) return (entry.verified = true);
        this.entries.delete(entry.digest);
        await rm(this.pathOf(entry.digest), { force: true });
        this.options.onEvict?.(entry, "corrupt");
        return false;
      })
      .finally(() => this.verifying.delete(entry.digest));
    this.verifying.set(entry.digest, check);
    return check;
  }

  private touch(entry: Entry): void {
    const now = this.now();
    const persist = now - entry.lastUsedMs > TOUCH_INTERVAL_MS;
    entry.lastUsedMs = now;
    if (persist) utimes(this.pathOf(entry.digest), now / 1000, now / 1000).catch(() => undefined);
  }

  async create(digest: string, expectedSize?: number): Promise<BlobWriter> {
    const { hex } = parseDigest(digest);
    const tmp = join(this.tmpDir, `${hex}.${randomBytes(6).toString("hex")}`);
    const handle = await open(tmp, "w+");
    const target: WriterTarget = {
      digest,
      expectedSize,
      publish: async (size, file) => {
        const now = this.now();
        // The persisted last-used time is the store's clock, not the filesystem's write time.
        await utimes(file, now / 1000, now / 1000);
        await rename(file, this.pathOf(digest));
        await fsyncDir(this.blobDir);
        const entry: Entry = { digest, size, lastUsedMs: now, verified: true, readers: 0 };
        this.entries.set(digest, entry);
        return { digest, size, lastUsedMs: entry.lastUsedMs };
      },
      adopt: async file => {
        // Only files of this cache (same filesystem, so the rename on commit moves, never copies).
        const inside = relative(this.dir, resolve(file));
        if (inside.startsWith("..") || isAbsolute(inside) || inside.startsWith(`blobs${sep}`))
          throw new Error(`cannot adopt ${file}: not a file of the cache at ${this.dir}`);
        // A regular file, not a link to one elsewhere: the rename would move the link, not the bytes.
        // O_NOFOLLOW and a check on the descriptor leave no gap between the check and the open.
        const adopted = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW).catch(err => {
          throw new Error(`cannot adopt ${file}: ${(err as Error).message}`);
        });
        if (!(await adopted.stat()).isFile()) {
          await adopted.close();
          throw new Error(`cannot adopt ${file}: not a regular file`);
        }
        return new FsAdoptedWriter(adopted, file, digest, expectedSize, target.publish);
      },
    };
    return new FsBlobWriter(handle, tmp, target);
  }

  async delete(digest: string): Promise<void> {
    // Unlinking is safe for open readers on POSIX filesystems: they keep the inode until they close.
    this.entries.delete(digest);
    await rm(this.pathOf(digest), { force: true });
  }

  async list(): Promise<BlobInfo[]> {
    return [...this.entries.values()].map(({ digest, size, lastUsedMs }) => ({ digest, size, lastUsedMs }));
  }

  usage(): { bytes: number; blobs: number } {
    let bytes = 0;
    for (const entry of this.entries.values()) bytes += entry.size;
    return { bytes, blobs: this.entries.size };
  }

  async evict(now: number): Promise<void> {
    const inUse = (digest: string) => (this.entries.get(digest)?.readers ?? 0) > 0;
    for (const { info, reason } of chooseEvictions(await this.list(), this.options, now, inUse)) {
      await this.delete(info.digest);
      this.options.onEvict?.(info, reason);
    }
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path, { highWaterMark: 1024 * 1024 })
      .on("data", chunk => hash.update(chunk))
      .once("error", reject)
      .once("end", () => resolve(`sha256:${hash.digest("hex")}`));
  });
}
