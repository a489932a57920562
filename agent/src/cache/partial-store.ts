/**
 * Partial (swarm) downloads that survive a restart (DESIGN 2.3/2.4): `partial/<hex>.data` holds the
 * pieces at their offsets, `partial/<hex>.bits` the piece bitfield (JSON, replaced by rename). A
 * piece's bit is persisted only after its bytes are fsynced, so a crash may lose a piece but never
 * marks one that is not on disk. Durability is batched (one fsync and bitfield write at most every
 * FLUSH_AFTER_MS): two fsyncs per piece made a lone swarm download wait on the disk more than on
 * the network, and one per 16 pieces still cost a lone pull at disk speed a sixth of its time
 * (issue 10); a crash costs at most the last second's pieces. Pieces
 * are verified by the caller (protocol/pieces.ts). The data file is where each piece is written,
 * once: a store writer adopts it (BlobWriter.adopt), takes the pieces in order and on commit moves
 * the file itself into the cache after checking the whole digest.
 */
import { FileHandle, mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { isDigestMismatch, parseDigest, SHA256_HEX } from "../../../protocol/digest";
import {
  Bitfield,
  pieceBytesLength,
  PieceBytes,
  pieceCount,
  pieceLength,
  pieceParts,
  piecesOfSpan,
  pieceSpan,
} from "../../../protocol/pieces";
import type { BlobInfo, BlobStore } from "./blob-store";

const READ_MAX_BYTES = 1024 * 1024;

export interface PartialInfo {
  digest: string;
  size: number;
  pieceSize: number;
  /** Base64 bitfield of the pieces on disk. */
  have: string;
}

export class PartialBlobError extends Error {
  readonly code = "PEERPULL_PARTIAL_BLOB";
  constructor(message: string) {
    super(message);
    this.name = "PartialBlobError";
  }
}

const FLUSH_AFTER_MS = 1_000;

export class PartialStore {
  private readonly active = new Map<string, PartialBlob>();
  private readonly known = new Map<string, PartialInfo>();

  private constructor(
    private readonly dir: string,
    private readonly store: BlobStore,
  ) {}

  /** Opens `<cacheDir>/partial`, keeping resumable partials and deleting broken ones. */
  static async open(cacheDir: string, store: BlobStore): Promise<PartialStore> {
    const partials = new PartialStore(join(cacheDir, "partial"), store);
    await mkdir(partials.dir, { recursive: true });
    await partials.scan();
    return partials;
  }

  private async scan(): Promise<void> {
    const names = await readdir(this.dir);
    for (const name of names) {
      const file = partialFile(name);
      const info = file?.kind === "bits" ? await this.readInfo(file.hex) : undefined;
      if (info) this.known.set(info.digest, info);
    }
    for (const name of names) {
      const file = partialFile(name);
      if (!file || !this.known.has(`sha256:${file.hex}`)) await rm(join(this.dir, name), { force: true });
    }
  }

  private async readInfo(hex: string): Promise<PartialInfo | undefined> {
    try {
      const parsed = JSON.parse(await readFile(join(this.dir, `${hex}.bits`), "utf8")) as PartialInfo;
      const count = pieceCount(parsed.size, parsed.pieceSize);
      Bitfield.decode(parsed.have, count);
      if (parsed.digest !== `sha256:${hex}`) return undefined;
      if ((await stat(join(this.dir, `${hex}.data`))).size !== parsed.size) return undefined;
      return { digest: parsed.digest, size: parsed.size, pieceSize: parsed.pieceSize, have: parsed.have };
    } catch {
      return undefined;
    }
  }

  list(): PartialInfo[] {
    return [...this.known.values()].map(info => ({ ...info }));
  }

  /** Starts a partial download (replacing any earlier one for the digest). */
  async create(digest: string, size: number, pieceSize: number): Promise<PartialBlob> {
    const hex = parseDigest(digest).hex;
    const have = new Bitfield(pieceCount(size, pieceSize));
    await this.active.get(digest)?.abort();
    const handle = await open(join(this.dir, `${hex}.data`), "w+");
    await handle.truncate(size);
    const info = { digest, size, pieceSize, have: have.encode() };
    return this.attach(info, handle, have, true);
  }

  /** The partial download left for `digest` (by this process or one before a restart), if any. */
  async resume(digest: string): Promise<PartialBlob | undefined> {
    const running = this.active.get(digest);
    if (running) return running;
    const info = this.known.get(digest);
    if (!info) return undefined;
    const handle = await open(join(this.dir, `${parseDigest(digest).hex}.data`), "r+");
    return this.attach(
      info,
      handle,
      Bitfield.decode(info.have, pieceCount(info.size, info.pieceSize)),
      false,
    );
  }

  private async attach(info: PartialInfo, handle: FileHandle, have: Bitfield, fresh: boolean) {
    const hex = parseDigest(info.digest).hex;
    const blob = new PartialBlob(info, handle, have, join(this.dir, hex), this.store, () => {
      this.active.delete(info.digest);
      this.known.delete(info.digest);
    });
    if (fresh) await blob.persistBits();
    this.active.set(info.digest, blob);
    this.known.set(info.digest, info);
    return blob;
  }
}

/** `<hex>.bits` or `<hex>.data`, a partial's two files; anything else in the directory is debris. */
function partialFile(name: string): { hex: string; kind: "bits" | "data" } | undefined {
  const dot = name.indexOf(".");
  const hex = name.slice(0, dot);
  const kind = name.slice(dot + 1);
  return SHA256_HEX.test(hex) && (kind === "bits" || kind === "data") ? { hex, kind } : undefined;
}

export class PartialBlob {
  readonly digest: string;
  readonly size: number;
  readonly pieceSize: number;
  private bitsWrite: Promise<void> = Promise.resolve();
  private closed = false;
  /** readRange() streams not yet closed: the descriptor stays open for them past abort(). */
  private rangeReaders = 0;
  private handleClosed?: Promise<void>;
  /** Pieces written since the last flush began, and the timer that bounds how long they wait. */
  private unflushed = 0;
  private flushTimer?: NodeJS.Timeout;

  constructor(
    private readonly info: PartialInfo,
    private readonly handle: FileHandle,
    private readonly bits: Bitfield,
    private readonly base: string,
    private readonly store: BlobStore,
    private readonly forget: () => void,
  ) {
    this.digest = info.digest;
    this.size = info.size;
    this.pieceSize = info.pieceSize;
  }

  /** A copy of the pieces held (verified by the caller and durable on disk). */
  get have(): Bitfield {
    return this.bits.clone();
  }

  /** The file the pieces are written to, at their offsets (what a store writer adopts). */
  get dataPath(): string {
    return `${this.base}.data`;
  }

  /**
   * Stores a piece the caller has verified; resolves once it can be read back. It becomes durable
   * (bytes fsynced, then its bit persisted) with the next flush, which follows within
   * FLUSH_AFTER_MS; `flush()` forces one.
   */
  async writePiece(index: number, data: PieceBytes): Promise<void> {
    this.checkOpen();
    const parts = pieceParts(data);
    const length = pieceBytesLength(parts);
    if (length !== pieceLength(index, this.size, this.pieceSize))
      throw new PartialBlobError(
        `piece ${index}: ${length} bytes, expected ${pieceLength(index, this.size, this.pieceSize)}`,
      );
    if (this.bits.has(index)) return;
    await this.writeAt(parts, pieceSpan(index, this.size, this.pieceSize).start);
    this.bits.set(index);
    this.unflushed++;
    this.flushTimer ??= setTimeout(() => void this.flush().catch(() => undefined), FLUSH_AFTER_MS);
  }

  /** Writes `parts` in order from `position`: one writev, and the rest piecewise if it came up short. */
  private async writeAt(parts: readonly Buffer[], position: number): Promise<void> {
    let written = (await this.handle.writev(parts as Buffer[], position)).bytesWritten;
    for (const part of parts) {
      const done = Math.min(part.length, written);
      written -= done;
      for (let at = done; at < part.length; )
        at += (await this.handle.write(part, at, part.length - at, position + at)).bytesWritten;
      position += part.length;
    }
  }

  /** Makes every piece written so far durable: fsync the data, then persist the bits it covers. */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.closed || this.unflushed === 0) return this.bitsWrite;
    this.unflushed = 0;
    // Bits are set only after their write resolved, so this fsync covers every bit in the snapshot.
    const snapshot = this.bits.encode();
    const sync = () => this.handle.datasync();
    this.bitsWrite = this.bitsWrite.then(sync, sync);
    return this.persistBits(snapshot);
  }

  /** Bytes `start`..`end` (inclusive); every piece they touch must be held. */
  readRange(start: number, end: number): Readable {
    this.checkRange(start, end);
    // Positional reads on the open descriptor: no open/close per piece served, and it still reads
    // after a commit moved the file into the cache (abort() leaves the descriptor to the last one).
    const handle = this.handle;
    let at = start;
    this.rangeReaders++;
    const stream = new Readable({
      highWaterMark: 0,
      read() {
        if (at > end) return void this.push(null);
        const buffer = Buffer.allocUnsafe(Math.min(READ_MAX_BYTES, end - at + 1));
        handle.read(buffer, 0, buffer.length, at).then(
          ({ bytesRead }) => {
            if (bytesRead === 0) return void this.destroy(new PartialBlobError(`data file ends at ${at}`));
            at += bytesRead;
            this.push(buffer.subarray(0, bytesRead));
          },
          (err: Error) => this.destroy(err),
        );
      },
    });
    stream.once("close", () => {
      this.rangeReaders--;
      if (this.closed && this.rangeReaders === 0) void this.closeHandle();
    });
    return stream;
  }

  /** Piece `index` (which must be held), read from the data file. */
  async readPiece(index: number): Promise<Buffer> {
    const span = pieceSpan(index, this.size, this.pieceSize);
    this.checkRange(span.start, span.end);
    const piece = Buffer.allocUnsafe(span.end - span.start + 1);
    for (let at = 0; at < piece.length; ) {
      const { bytesRead } = await this.handle.read(piece, at, piece.length - at, span.start + at);
      if (bytesRead === 0) throw new PartialBlobError(`${this.digest}: data file ends at ${span.start + at}`);
      at += bytesRead;
    }
    return piece;
  }

  /**
   * Moves the finished blob into the store: a store writer adopts the data file and takes every
   * piece in order (checking the whole digest), then the partial is dropped.
   */
  async commit(): Promise<BlobInfo> {
    this.checkOpen();
    if (!this.bits.isComplete())
      throw new PartialBlobError(`${this.digest}: ${this.bits.missing().length} pieces missing`);
    const created = await this.store.create(this.digest, this.size);
    const writer = (await created.adopt?.(this.dataPath)) ?? created;
    try {
      for (let index = 0; index < this.bits.pieceCount; index++)
        await writer.write(await this.readPiece(index));
      const info = await writer.commit();
      await this.abort();
      return info;
    } catch (err) {
      await writer.abort().catch(() => undefined);
      // A whole-blob mismatch means some piece was bad: nothing of this partial can be trusted.
      if (isDigestMismatch(err)) await this.abort();
      throw err;
    }
  }

  /** Deletes the partial's files. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.flushTimer);
    this.forget();
    await this.bitsWrite.catch(() => undefined);
    // A peer being sent a piece keeps reading it; the last such stream closes the descriptor.
    if (this.rangeReaders === 0) await this.closeHandle();
    await rm(`${this.base}.bits`, { force: true });
    await rm(`${this.base}.data`, { force: true });
  }

  /** Writes the bitfield to a temp file and renames it over the old one; writes are serialized. */
  persistBits(have = this.bits.encode()): Promise<void> {
    const snapshot = { ...this.info, have };
    this.info.have = snapshot.have;
    const write = async () => {
      const tmp = `${this.base}.bits.tmp`;
      const handle = await open(tmp, "w");
      try {
        await handle.writeFile(JSON.stringify(snapshot));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, `${this.base}.bits`);
    };
    this.bitsWrite = this.bitsWrite.then(write, write);
    return this.bitsWrite;
  }

  private closeHandle(): Promise<void> {
    this.handleClosed ??= this.handle.close().catch(() => undefined);
    return this.handleClosed;
  }

  private checkRange(start: number, end: number): void {
    this.checkOpen();
    const { first, last } = piecesOfSpan({ start, end }, this.size, this.pieceSize);
    for (let i = first; i <= last; i++)
      if (!this.bits.has(i)) throw new PartialBlobError(`piece ${i} of ${this.digest} is not held yet`);
  }

  private checkOpen(): void {
    if (this.closed) throw new PartialBlobError(`${this.digest}: partial was committed or aborted`);
  }
}
