import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blobOf, readAll } from "../testing/blob-store-conformance";
import { pieceSpan } from "../../../protocol/pieces";
import { FsBlobStore } from "./fs-blob-store";
import { PartialBlob, PartialStore } from "./partial-store";

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "pp-partial-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => Promise.all(dirs.map(dir => rm(dir, { recursive: true, force: true }))));

/**
 * Every partial a test opened. A "crash" here is dropping a store and its partials without closing
 * them, then opening the directory again; the dropped file handles are closed once the test is over
 * (abort closes a handle; its files go with the directory anyway).
 */
const opened: PartialBlob[] = [];
afterEach(() => Promise.all(opened.splice(0).map(partial => partial.abort())));

const options = { ttlMs: 60_000, maxBytes: 0 };
const PIECE = 1000;

async function setup(dir: string) {
  const store = await FsBlobStore.open(dir, options);
  const partials = await PartialStore.open(dir, store);
  const track = async (partial: Promise<PartialBlob | undefined>) => {
    const opening = await partial;
    if (opening) opened.push(opening);
    return opening;
  };
  return {
    store,
    partials: {
      list: () => partials.list(),
      create: async (digest: string, size: number, pieceSize: number) =>
        (await track(partials.create(digest, size, pieceSize))) as PartialBlob,
      resume: (digest: string) => track(partials.resume(digest)),
    },
  };
}

function piece(bytes: Buffer, index: number): Buffer {
  const span = pieceSpan(index, bytes.length, PIECE);
  return bytes.subarray(span.start, span.end + 1);
}

describe("PartialStore", () => {
  it("stores a piece given in the parts it came in, and refuses parts of the wrong total length", async () => {
    const dir = await freshDir();
    const blob = blobOf(2500);
    const { partials } = await setup(dir);
    const partial = await partials.create(blob.digest, blob.bytes.length, PIECE);
    const one = piece(blob.bytes, 1);
    await partial.writePiece(1, [
      one.subarray(0, 10),
      one.subarray(10, 10),
      one.subarray(10, 999),
      one.subarray(999),
    ]);
    expect((await partial.readPiece(1)).equals(one)).toBe(true);
    const two = piece(blob.bytes, 2);
    await expect(partial.writePiece(2, [two, Buffer.alloc(1)])).rejects.toThrow("501 bytes, expected 500");
    expect(partial.have.has(2)).toBe(false);
  });

  it("resumes after a restart with the persisted pieces, then commits a verified blob", async () => {
    const dir = await freshDir();
    const blob = blobOf(4500);
    const first = await setup(dir);
    const partial = await first.partials.create(blob.digest, blob.bytes.length, PIECE);
    await partial.writePiece(0, piece(blob.bytes, 0));
    await partial.writePiece(3, piece(blob.bytes, 3));
    expect((await readAll(partial.readRange(3000, 3999))).equals(piece(blob.bytes, 3))).toBe(true);
    expect(() => partial.readRange(500, 1500)).toThrow("piece 1");
    await partial.flush();
    // crash: the process goes away without closing anything

    const second = await setup(dir);
    expect(second.partials.list()).toHaveLength(1);
    const resumed = await second.partials.resume(blob.digest);
    expect(resumed?.have.missing()).toEqual([1, 2, 4]);
    for (const index of [1, 2, 4]) await resumed!.writePiece(index, piece(blob.bytes, index));
    await expect(second.store.stat(blob.digest)).resolves.toBeUndefined();
    expect(await resumed!.commit()).toMatchObject({ digest: blob.digest, size: 4500 });
    expect((await readAll(await second.store.open(blob.digest))).equals(blob.bytes)).toBe(true);
    expect(await readdir(join(dir, "partial"))).toEqual([]);
    expect(await second.partials.resume(blob.digest)).toBeUndefined();
  });

  it("refuses to commit while pieces are missing, and discards a blob whose digest does not match", async () => {
    const dir = await freshDir();
    const blob = blobOf(2500);
    const { store, partials } = await setup(dir);
    const partial = await partials.create(blob.digest, blob.bytes.length, PIECE);
    await partial.writePiece(0, piece(blob.bytes, 0));
    await expect(partial.commit()).rejects.toThrow("2 pieces missing");
    await partial.writePiece(1, Buffer.alloc(PIECE)); // a bad piece the caller failed to catch
    await partial.writePiece(2, piece(blob.bytes, 2));
    await expect(partial.commit()).rejects.toMatchObject({ code: "PEERPULL_DIGEST_MISMATCH" });
    expect(await store.stat(blob.digest)).toBeUndefined();
    expect(await readdir(join(dir, "partial"))).toEqual([]);
  });

  it("rejects a piece of the wrong length", async () => {
    const { partials } = await setup(await freshDir());
    const blob = blobOf(1500);
    const partial = await partials.create(blob.digest, blob.bytes.length, PIECE);
    await expect(partial.writePiece(1, Buffer.alloc(PIECE))).rejects.toThrow("expected 500");
  });

  it("drops broken partials on start and keeps good ones", async () => {
    const dir = await freshDir();
    const good = blobOf(2000);
    const { partials } = await setup(dir);
    const kept = await partials.create(good.digest, good.bytes.length, PIECE);
    await kept.writePiece(1, piece(good.bytes, 1));
    await kept.flush();
    const partialDir = join(dir, "partial");
    const orphan = "a".repeat(64);
    const badBits = "b".repeat(64);
    await writeFile(join(partialDir, `${orphan}.data`), "no bitfield");
    await writeFile(join(partialDir, `${badBits}.data`), Buffer.alloc(10));
    await writeFile(join(partialDir, `${badBits}.bits`), "{not json");
    await writeFile(join(partialDir, `${"c".repeat(64)}.bits.tmp`), "torn");

    const reopened = await setup(dir);
    expect(reopened.partials.list().map(info => info.digest)).toEqual([good.digest]);
    expect((await readdir(partialDir)).sort()).toEqual([
      `${good.digest.slice(7)}.bits`,
      `${good.digest.slice(7)}.data`,
    ]);
    expect((await reopened.partials.resume(good.digest))?.have.missing()).toEqual([0]);
  });

  it("claims after a crash only the pieces a flush made durable", async () => {
    const dir = await freshDir();
    const blob = blobOf(4 * PIECE);
    const { partials } = await setup(dir);
    const partial = await partials.create(blob.digest, blob.bytes.length, PIECE);
    await partial.writePiece(0, piece(blob.bytes, 0));
    await partial.flush();
    await partial.writePiece(2, piece(blob.bytes, 2)); // readable, not yet durable
    expect(partial.have.missing()).toEqual([1, 3]);
    // crash before the batch is flushed
    const reopened = await setup(dir);
    expect((await reopened.partials.resume(blob.digest))?.have.missing()).toEqual([1, 2, 3]);
  });

  it("persists every bit when pieces are written concurrently", async () => {
    const dir = await freshDir();
    const blob = blobOf(20 * PIECE);
    const { partials } = await setup(dir);
    const partial = await partials.create(blob.digest, blob.bytes.length, PIECE);
    await Promise.all(Array.from({ length: 20 }, (_, i) => partial.writePiece(i, piece(blob.bytes, i))));
    await partial.flush();
    const reopened = await setup(dir);
    const resumed = await reopened.partials.resume(blob.digest);
    expect(resumed?.have.isComplete()).toBe(true);
    await resumed!.commit();
    expect(await reopened.store.stat(blob.digest)).toMatchObject({ size: blob.bytes.length });
  });

  it("becomes the cached blob itself when a store writer adopts its data file; its pieces stay servable", async () => {
    const dir = await freshDir();
    const blob = blobOf(3 * PIECE + 10);
    const { store, partials } = await setup(dir);
    const partial = await partials.create(blob.digest, blob.bytes.length, PIECE);
    for (const index of [2, 0, 3, 1]) await partial.writePiece(index, piece(blob.bytes, index));
    const writer = await (await store.create(blob.digest, blob.bytes.length)).adopt!(partial.dataPath);
    for (let index = 0; index < 4; index++) await writer.write(await partial.readPiece(index));
    await writer.commit();
    // The data file moved into the cache; a peer asking now still gets the piece from the partial.
    expect((await readAll(partial.readRange(1000, 1999))).equals(piece(blob.bytes, 1))).toBe(true);
    await partial.abort();
    expect(await readdir(join(dir, "partial"))).toEqual([]);
    expect((await readAll(await store.open(blob.digest))).equals(blob.bytes)).toBe(true);
    expect(await readdir(join(dir, "tmp"))).toEqual([]); // nothing was written twice
  });

  it("sends a piece it had begun to send whole, though the commit moved the file and dropped the partial", async () => {
    const dir = await freshDir();
    const MiB = 1024 * 1024;
    const blob = blobOf(2 * MiB + MiB / 2);
    const { store, partials } = await setup(dir);
    const partial = await partials.create(blob.digest, blob.bytes.length, MiB);
    for (const index of [0, 1, 2]) {
      const span = pieceSpan(index, blob.bytes.length, MiB);
      await partial.writePiece(index, blob.bytes.subarray(span.start, span.end + 1));
    }
    const sending = partial.readRange(0, blob.bytes.length - 1)[Symbol.asyncIterator]();
    const first = (await sending.next()).value as Buffer; // one read of up to 1 MiB, then the commit
    await partial.commit();
    expect(await readdir(join(dir, "partial"))).toEqual([]);
    const parts = [first];
    for (let next = await sending.next(); !next.done; next = await sending.next())
      parts.push(next.value as Buffer);
    expect(parts.length).toBeGreaterThan(1);
    expect(Buffer.concat(parts).equals(blob.bytes)).toBe(true);
    expect((await readAll(await store.open(blob.digest))).equals(blob.bytes)).toBe(true);
    expect(() => partial.readRange(0, 10)).toThrow("committed or aborted");
  });
});
