/** The blob cache seam: complete, verified blobs by digest, and writers that commit atomically. */
import type { Readable } from "node:stream";
import { DIGEST_MISMATCH } from "../../../protocol/digest";
import type { ByteSpan } from "../../../protocol/range";

export interface BlobInfo {
  digest: string;
  size: number;
  lastUsedMs: number;
}

export type EvictionReason = "ttl" | "size" | "corrupt";

export interface BlobStore {
  /** Complete blobs only; undefined while a blob is missing or being written. */
  stat(digest: string): Promise<BlobInfo | undefined>;
  /** A stream of the blob (or span); marks it used. Throws BlobNotFoundError if missing or corrupt. */
  open(digest: string, span?: ByteSpan): Promise<Readable>;
  /** The blob as a slice source (read into the caller's buffers); marks it used until closed. */
  openSlices(digest: string): Promise<SliceSource>;
  /** A writer for a new blob; nothing is visible until commit() verifies it. */
  create(digest: string, expectedSize?: number): Promise<BlobWriter>;
  delete(digest: string): Promise<void>;
  /** Re-hashes a complete blob; a mismatch drops it (onEvict reason "corrupt") and returns false. */
  verify(digest: string): Promise<boolean>;
  list(): Promise<BlobInfo[]>;
  usage(): { bytes: number; blobs: number };
  /** Drops blobs unused for the TTL, then least recently used ones above the size limit. */
  evict(now: number): Promise<void>;
}

/** Bytes read into buffers the caller owns and reuses: no garbage per slice on the serving path. */
export interface SliceSource {
  /** Reads up to `length` bytes at `position`; resolves with how many (0 only past the end). */
  readInto(buffer: Buffer, position: number, length: number): Promise<number>;
  close(): Promise<void>;
}

export interface BlobWriter {
  /** Bytes that can be read back with readInto() (in order from 0). */
  readonly written: number;
  /**
   * Appends `chunk`. Resolves when the writer has taken all of it and has room for more (the
   * caller may reuse the chunk from then on), so a caller that awaits each write keeps the disk's
   * pace. Writes apply in call order, also when the next is issued before the previous one
   * resolved. The bytes count in `written` (and readInto() returns them) from the call on.
   */
  write(chunk: Buffer): Promise<void>;
  /** Resolves once every byte given to write() so far can be read back (`written` covers it). */
  flush(): Promise<void>;
  /**
   * Optional (the disk store's writers have it), before the first write: the blob's bytes are
   * already stored in `file`, a file in the cache's directory that its owner fills at the bytes'
   * offsets (a swarm download's data file). Returns the writer to use from then on: its write(chunk)
   * takes bytes that are already in `file` at that offset (hashing them, not writing them again),
   * and commit() verifies the digest, then moves `file` itself into the store (no copy). On a
   * mismatch or abort the file stays where it is, for its owner to delete.
   */
  adopt?(file: string): Promise<BlobWriter>;
  /** Reads bytes already written (for requests streaming a blob that is still being filled). */
  readInto(buffer: Buffer, position: number, length: number): Promise<number>;
  /** Ends writing and checks size and digest; throws DigestMismatchError (and discards) on a mismatch. */
  verify(): Promise<void>;
  /** verify(), then makes the blob durable (fsync) and visible. */
  commit(): Promise<BlobInfo>;
  abort(): Promise<void>;
}

export interface BlobStoreOptions {
  ttlMs: number;
  /** 0 = no size limit. */
  maxBytes: number;
  onEvict?: (info: BlobInfo, reason: EvictionReason) => void;
  now?: () => number;
}

export class BlobNotFoundError extends Error {
  readonly code = "PEERPULL_BLOB_NOT_FOUND";
  constructor(digest: string, reason = "not in the cache") {
    super(`blob ${digest} ${reason}`);
    this.name = "BlobNotFoundError";
  }
}

export class DigestMismatchError extends Error {
  readonly code = DIGEST_MISMATCH;
  constructor(expected: string, actual: string, size: number) {
    super(`content is ${actual} (${size} bytes), expected ${expected}`);
    this.name = "DigestMismatchError";
  }
}

/** TTL first, then LRU down to maxBytes: the eviction order both stores share. */
export function chooseEvictions(
  blobs: BlobInfo[],
  options: Pick<BlobStoreOptions, "ttlMs" | "maxBytes">,
  now: number,
  inUse: (digest: string) => boolean,
): { info: BlobInfo; reason: EvictionReason }[] {
  const victims: { info: BlobInfo; reason: EvictionReason }[] = [];
  const keep: BlobInfo[] = [];
  for (const info of blobs) {
    if (!inUse(info.digest) && now - info.lastUsedMs >= options.ttlMs) victims.push({ info, reason: "ttl" });
    else keep.push(info);
  }
  if (options.maxBytes <= 0) return victims;
  let total = keep.reduce((sum, info) => sum + info.size, 0);
  for (const info of keep.sort((a, b) => a.lastUsedMs - b.lastUsedMs)) {
    if (total <= options.maxBytes) break;
    if (inUse(info.digest)) continue;
    victims.push({ info, reason: "size" });
    total -= info.size;
  }
  return victims;
}
