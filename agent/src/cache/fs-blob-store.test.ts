import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blobOf, readAll } from "../testing/blob-store-conformance";
import { MemoryBlobStore } from "../testing/memory-blob-store";
import { BlobStoreOptions, EvictionReason } from "./blob-store";
import { FsBlobStore } from "./fs-blob-store";

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "pp-fs-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => Promise.all(dirs.map(dir => rm(dir, { recursive: true, force: true }))));

async function put(store: FsBlobStore | MemoryBlobStore, blob: { bytes: Buffer; digest: string }) {
  const writer = await store.create(blob.digest, blob.bytes.length);
  await writer.write(blob.bytes);
  return writer.commit();
}

async function flipByte(dir: string, digest: string, offset: number): Promise<void> {
  const file = await open(join(dir, "blobs", "sha256", digest.slice("sha256:".length)), "r+");
  const one = Buffer.alloc(1);
  await file.read(one, 0, 1, offset);
  one[0] ^= 0xff;
  await file.write(one, 0, 1, offset);
  await file.close();
}

function recorder() {
  const evicted: [string, EvictionReason][] = [];
  return {
    evicted,
    onEvict: (info: { digest: string }, reason: EvictionReason) => evicted.push([info.digest, reason]),
  };
}

describe("FsBlobStore corruption while running", () => {
  it("verify() drops a blob damaged after it was committed, so it is never served again", async () => {
    const dir = await freshDir();
    const { evicted, onEvict } = recorder();
    const store = await FsBlobStore.open(dir, { ttlMs: 60_000, maxBytes: 0, onEvict });
    const blob = blobOf(50_000);
    await put(store, blob);
    await flipByte(dir, blob.digest, 49_999);
    expect(await store.verify(blob.digest)).toBe(false);
    expect(evicted).toEqual([[blob.digest, "corrupt"]]);
    expect(await store.stat(blob.digest)).toBeUndefined();
    await expect(store.open(blob.digest)).rejects.toMatchObject({ code: "PEERPULL_BLOB_NOT_FOUND" });
    await expect(stat(join(dir, "blobs", "sha256", blob.digest.slice(7)))).rejects.toMatchObject({
      code: "ENOENT",
    });
  });

  it("the memory twin behaves the same", async () => {
    const { evicted, onEvict } = recorder();
    const store = new MemoryBlobStore({ ttlMs: 60_000, maxBytes: 0, onEvict });
    const blob = blobOf(1000);
    await put(store, blob);
    store.corrupt(blob.digest, 10);
    expect(await store.verify(blob.digest)).toBe(false);
    expect(evicted).toEqual([[blob.digest, "corrupt"]]);
    expect(await store.stat(blob.digest)).toBeUndefined();
  });
});

describe("FsBlobStore last-used times and eviction across restarts", () => {
  it("keeps LRU order after a restart and evicts the least recently used first", async () => {
    const dir = await freshDir();
    let clock = 10_000_000;
    const options = (): BlobStoreOptions => ({ ttlMs: 3_600_000, maxBytes: 2500, now: () => clock });
    const store = await FsBlobStore.open(dir, options());
    const [a, b, c] = [blobOf(1000), blobOf(1000), blobOf(1000)];
    await put(store, a);
    clock += 120_000;
    await put(store, b);
    clock += 120_000;
    await put(store, c);
    clock += 120_000;
    await readAll(await store.open(a.digest)); // persisted: more than a minute since the last touch
    await new Promise(resolve => setTimeout(resolve, 50)); // the mtime update is fire-and-forget

    const { evicted, onEvict } = recorder();
    const reopened = await FsBlobStore.open(dir, { ...options(), onEvict });
    const times = new Map((await reopened.list()).map(info => [info.digest, info.lastUsedMs]));
    expect(times.get(a.digest)).toBeGreaterThan(times.get(c.digest)!);
    expect(times.get(c.digest)).toBeGreaterThan(times.get(b.digest)!);
    await reopened.evict(clock);
    expect(evicted).toEqual([[b.digest, "size"]]);
  });

  it("evicts by TTL after a restart and never evicts a blob open for reading", async () => {
    const dir = await freshDir();
    let clock = 10_000_000;
    const store = await FsBlobStore.open(dir, { ttlMs: 60_000, maxBytes: 0, now: () => clock });
    const [held, idle] = [blobOf(2000), blobOf(2000)];
    await put(store, held);
    await put(store, idle);
    const { evicted, onEvict } = recorder();
    const reopened = await FsBlobStore.open(dir, { ttlMs: 60_000, maxBytes: 0, now: () => clock, onEvict });
    const reader = await reopened.open(held.digest);
    clock += 10 * 60_000;
    await reopened.evict(clock);
    expect(evicted).toEqual([[idle.digest, "ttl"]]);
    expect((await readAll(reader)).equals(held.bytes)).toBe(true);
    await reopened.evict(clock + 10 * 60_000);
    expect(evicted.map(([digest]) => digest)).toEqual([idle.digest, held.digest]);
  });
});

describe("FsBlobStore writer", () => {
  it("serves what it was given from memory and from the file alike, before and after flush", async () => {
    const store = await FsBlobStore.open(await freshDir(), { ttlMs: 60_000, maxBytes: 0 });
    const blob = blobOf(12 * 1024 * 1024 + 7);
    const writer = await store.create(blob.digest, blob.bytes.length);
    const readBack = async () => {
      const out = Buffer.alloc(writer.written);
      for (let at = 0; at < out.length; ) {
        const read = await writer.readInto(out.subarray(at), at, Math.min(1024 * 1024, out.length - at));
        expect(read).toBeGreaterThan(0);
        at += read;
      }
      return out;
    };
    for (let at = 0; at < blob.bytes.length; at += 65_536)
      await writer.write(blob.bytes.subarray(at, at + 65_536));
    expect((await readBack()).equals(blob.bytes)).toBe(true); // some runs may still be on their way
    await writer.flush();
    expect((await readBack()).equals(blob.bytes)).toBe(true); // the oldest bytes now only on disk
    await writer.commit();
    expect((await readAll(await store.open(blob.digest))).equals(blob.bytes)).toBe(true);
  });
});
