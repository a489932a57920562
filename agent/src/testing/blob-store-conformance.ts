/** One behaviour suite every BlobStore must pass (the disk store and its in-memory twin). */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { BlobInfo, BlobStore, BlobStoreOptions, EvictionReason } from "../cache/blob-store";

/** A store, and a directory where it may adopt files (BlobWriter.adopt). */
export type StoreFactory = (
  options: BlobStoreOptions,
) => Promise<BlobStore | { store: BlobStore; adoptDir: string }>;

export function blobOf(size: number): { bytes: Buffer; digest: string } {
  const bytes = randomBytes(size);
  return { bytes, digest: "sha256:" + createHash("sha256").update(bytes).digest("hex") };
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function put(store: BlobStore, blob: { bytes: Buffer; digest: string }): Promise<BlobInfo> {
  const writer = await store.create(blob.digest, blob.bytes.length);
  await writer.write(blob.bytes.subarray(0, 1000));
  await writer.write(blob.bytes.subarray(1000));
  return writer.commit();
}

export function describeBlobStoreConformance(name: string, make: StoreFactory): void {
  const opened = async (options: BlobStoreOptions) => {
    const made = await make(options);
    return "store" in made ? made : { store: made, adoptDir: undefined };
  };
  const factory = async (options: BlobStoreOptions) => (await opened(options)).store;
  describe(`${name} (BlobStore conformance)`, () => {
    let clock = 1_000_000;
    const evicted: [string, EvictionReason][] = [];
    const options = (extra: Partial<BlobStoreOptions> = {}): BlobStoreOptions => ({
      ttlMs: 10_000,
      maxBytes: 0,
      now: () => clock,
      onEvict: (info, reason) => evicted.push([info.digest, reason]),
      ...extra,
    });
    beforeEach(() => {
      evicted.length = 0;
    });

    it("stores, stats, reads whole and ranged", async () => {
      const store = await factory(options());
      const blob = blobOf(5000);
      expect(await store.stat(blob.digest)).toBeUndefined();
      await put(store, blob);
      expect(await store.stat(blob.digest)).toMatchObject({ digest: blob.digest, size: 5000 });
      expect((await readAll(await store.open(blob.digest))).equals(blob.bytes)).toBe(true);
      const ranged = await readAll(await store.open(blob.digest, { start: 10, end: 4009 }));
      expect(ranged.equals(blob.bytes.subarray(10, 4010))).toBe(true);
      expect(store.usage()).toEqual({ bytes: 5000, blobs: 1 });
      const slices = await store.openSlices(blob.digest);
      const into = Buffer.alloc(3000);
      expect(await slices.readInto(into, 4000, 3000)).toBe(1000);
      expect(into.subarray(0, 1000).equals(blob.bytes.subarray(4000))).toBe(true);
      await slices.close();
    });

    it("shows nothing before commit and lets a writer read back what it wrote", async () => {
      const store = await factory(options());
      const blob = blobOf(3000);
      const writer = await store.create(blob.digest, 3000);
      await writer.write(blob.bytes.subarray(0, 2000));
      await writer.flush();
      expect(writer.written).toBe(2000);
      const buffer = Buffer.alloc(100);
      expect(await writer.readInto(buffer, 500, 100)).toBe(100);
      expect(buffer.equals(blob.bytes.subarray(500, 600))).toBe(true);
      expect(await writer.readInto(Buffer.alloc(100), 1950, 100)).toBe(50);
      expect(await store.stat(blob.digest)).toBeUndefined();
      await writer.abort();
      expect(await store.stat(blob.digest)).toBeUndefined();
    });

    it("applies writes in call order when they are issued without waiting, and reads them back", async () => {
      const store = await factory(options());
      const blob = blobOf(5 * 1024 * 1024 + 123);
      const writer = await store.create(blob.digest, blob.bytes.length);
      const parts: Promise<void>[] = [];
      for (let at = 0; at < blob.bytes.length; at += 100_000)
        parts.push(writer.write(blob.bytes.subarray(at, at + 100_000)));
      await Promise.all(parts);
      expect(writer.written).toBe(blob.bytes.length); // counted from the call on
      // ... and reads back right, before any flush.
      const early = Buffer.alloc(writer.written);
      for (let got = 0; got < early.length; )
        got += await writer.readInto(early.subarray(got), got, early.length - got);
      expect(early.equals(blob.bytes.subarray(0, early.length))).toBe(true);
      await writer.flush();
      expect(writer.written).toBe(blob.bytes.length);
      const spans = [
        [0, 64 * 1024],
        [1_000_000, 2_500_000],
        [blob.bytes.length - 300_000, blob.bytes.length],
      ];
      for (const [start, end] of spans) {
        const into = Buffer.alloc(end - start);
        let got = 0;
        while (got < into.length) {
          const read = await writer.readInto(into.subarray(got), start + got, into.length - got);
          expect(read).toBeGreaterThan(0);
          got += read;
        }
        expect(into.equals(blob.bytes.subarray(start, end))).toBe(true);
      }
      await writer.commit();
      expect((await readAll(await store.open(blob.digest))).equals(blob.bytes)).toBe(true);
    });

    it("rejects a write past the expected size at once, before taking any of it", async () => {
      const store = await factory(options());
      const blob = blobOf(1000);
      const writer = await store.create(blob.digest, 1000);
      await writer.write(blob.bytes.subarray(0, 600));
      await expect(writer.write(blob.bytes.subarray(0, 600))).rejects.toMatchObject({
        code: "PEERPULL_DIGEST_MISMATCH",
      });
      expect(writer.written).toBe(600);
      await writer.write(blob.bytes.subarray(600));
      await writer.commit();
      expect(await store.stat(blob.digest)).toMatchObject({ size: 1000 });
    });

    it("aborts with writes still on their way, and refuses writes after abort or commit", async () => {
      const store = await factory(options());
      const blob = blobOf(3 * 1024 * 1024);
      const writer = await store.create(blob.digest, blob.bytes.length);
      const pending = [
        writer.write(blob.bytes.subarray(0, 2_000_000)),
        writer.write(blob.bytes.subarray(2_000_000)),
      ];
      await writer.abort();
      await Promise.allSettled(pending);
      await expect(writer.write(Buffer.alloc(1))).rejects.toThrow();
      expect(await store.stat(blob.digest)).toBeUndefined();
      const again = await store.create(blob.digest, blob.bytes.length);
      await again.write(blob.bytes);
      await again.commit();
      await expect(again.write(Buffer.alloc(1))).rejects.toThrow();
      expect(await store.stat(blob.digest)).toMatchObject({ size: blob.bytes.length });
    });

    it("adopts a file that already holds the bytes: hashes what it is given, commits without copying", async () => {
      const { store, adoptDir } = await opened(options());
      const blob = blobOf(3 * 1024 * 1024 + 5);
      const file = await fileWith(adoptDir, "adopted.data", blob.bytes);
      const writer = await store.create(blob.digest, blob.bytes.length);
      expect(writer.adopt).toBeDefined();
      const adopted = await writer.adopt!(file);
      for (let at = 0; at < blob.bytes.length; at += 1024 * 1024)
        await adopted.write(blob.bytes.subarray(at, at + 1024 * 1024));
      expect(adopted.written).toBe(blob.bytes.length);
      const into = Buffer.alloc(4096);
      expect(await adopted.readInto(into, 10, 4096)).toBe(4096);
      expect(into.equals(blob.bytes.subarray(10, 4106))).toBe(true);
      expect(await store.stat(blob.digest)).toBeUndefined();
      await adopted.commit();
      expect((await readAll(await store.open(blob.digest))).equals(blob.bytes)).toBe(true);
      await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" }); // moved into the store
    });

    it("refuses a mismatch after adopting, leaving the file to its owner, and refuses adopting after a write", async () => {
      const { store, adoptDir } = await opened(options());
      const blob = blobOf(100_000);
      const file = await fileWith(adoptDir, "mismatch.data", Buffer.alloc(100_000));
      const writer = await store.create(blob.digest, blob.bytes.length);
      const adopted = await writer.adopt!(file);
      await adopted.write(Buffer.alloc(100_000));
      await expect(adopted.commit()).rejects.toMatchObject({ code: "PEERPULL_DIGEST_MISMATCH" });
      expect(await store.stat(blob.digest)).toBeUndefined();
      expect((await stat(file)).size).toBe(100_000);
      const late = await store.create(blob.digest, blob.bytes.length);
      await late.write(blob.bytes.subarray(0, 10));
      await expect(late.adopt!(file)).rejects.toThrow("before any write");
      await late.abort();
    });

    it("refuses content that does not match its digest or size", async () => {
      const store = await factory(options());
      const blob = blobOf(2000);
      const wrong = await store.create(blob.digest);
      await wrong.write(randomBytes(2000));
      await expect(wrong.commit()).rejects.toMatchObject({ code: "PEERPULL_DIGEST_MISMATCH" });
      const short = await store.create(blob.digest, 2001);
      await short.write(blob.bytes);
      await expect(short.commit()).rejects.toMatchObject({ code: "PEERPULL_DIGEST_MISMATCH" });
      expect(await store.stat(blob.digest)).toBeUndefined();
      await expect(store.open(blob.digest)).rejects.toMatchObject({ code: "PEERPULL_BLOB_NOT_FOUND" });
    });

    it("verifies a good blob and reports a missing one", async () => {
      const store = await factory(options());
      const blob = blobOf(3000);
      await put(store, blob);
      expect(await store.verify(blob.digest)).toBe(true);
      expect((await readAll(await store.open(blob.digest))).equals(blob.bytes)).toBe(true);
      expect(await store.verify(blobOf(10).digest)).toBe(false);
      expect(evicted).toEqual([]);
    });

    it("rejects malformed digests", async () => {
      const store = await factory(options());
      await expect(store.create("sha256:../../etc")).rejects.toThrow();
    });

    it("evicts by TTL, then least recently used above the size limit", async () => {
      const store = await factory(options({ maxBytes: 2500 }));
      const [a, b, c] = [blobOf(1000), blobOf(1000), blobOf(1000)];
      await put(store, a);
      clock += 1000;
      await put(store, b);
      clock += 1000;
      await put(store, c);
      clock += 1000;
      await readAll(await store.open(a.digest)); // a is now the most recently used
      await store.evict(clock);
      expect(evicted).toEqual([[b.digest, "size"]]);
      clock += 10_000;
      await store.evict(clock);
      expect(evicted.slice(1).map(([, reason]) => reason)).toEqual(["ttl", "ttl"]);
      expect(store.usage()).toEqual({ bytes: 0, blobs: 0 });
    });
  });
}

/** A file of `bytes` in `dir`, as a swarm download would leave it. */
async function fileWith(dir: string | undefined, name: string, bytes: Buffer): Promise<string> {
  if (!dir) throw new Error("this store's factory gives no directory to adopt files from");
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${randomBytes(4).toString("hex")}-${name}`);
  await writeFile(path, bytes);
  return path;
}
