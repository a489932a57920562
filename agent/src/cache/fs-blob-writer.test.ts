/** FsBlobWriter with a real temp file whose writes can be made to fail (a full disk). */
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blobOf } from "../testing/blob-store-conformance";
import { FsBlobWriter } from "./fs-blob-writer";

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map(dir => rm(dir, { recursive: true, force: true }))));

/** A writer whose disk writes touching bytes failFrom..failTo-1 fail (a bad stretch of disk). */
async function writerOver(failFrom: number, failTo = Infinity) {
  const dir = await mkdtemp(join(tmpdir(), "pp-writer-"));
  dirs.push(dir);
  const path = join(dir, "blob.tmp");
  const handle = await open(path, "w+");
  const write = handle.write.bind(handle) as (b: Buffer, o: number, l: number, p: number) => Promise<unknown>;
  (handle as unknown as { write: typeof write }).write = async (bytes, offset, length, position) => {
    const bad = position < failTo && position + length > failFrom;
    // The bad stretch fails a little later, and the writes after it land later still, so they
    // land after the failure is known (and would push what counts as on disk past the hole).
    if (bad || position >= failTo) await new Promise(resolve => setTimeout(resolve, bad ? 20 : 60));
    if (bad) throw Object.assign(new Error("input/output error"), { code: "EIO" });
    return write(bytes, offset, length, position);
  };
  const blob = blobOf(6 * 1024 * 1024);
  const published: string[] = [];
  const writer = new FsBlobWriter(handle, path, {
    digest: blob.digest,
    expectedSize: blob.bytes.length,
    publish: async (size, file) => {
      published.push(file);
      return { digest: blob.digest, size, lastUsedMs: 0 };
    },
    adopt: async () => {
      throw new Error("not in this test");
    },
  });
  return { writer, path, blob, published };
}

it("fails for good on a failed disk write: later writes reject, verify throws it, the temp file goes", async () => {
  const { writer, path, blob, published } = await writerOver(2 * 1024 * 1024, 3 * 1024 * 1024);
  let rejected: unknown;
  for (let at = 0; at < blob.bytes.length && !rejected; at += 256 * 1024)
    await writer.write(blob.bytes.subarray(at, at + 256 * 1024)).catch(err => (rejected = err));
  await writer.flush().catch(() => undefined);
  // What reads back is the blob's bytes, up to where they stop: never the hole the failed write left
  // in the file, even once later writes landed (the bytes kept in memory may go further than the disk).
  const all = Buffer.alloc(writer.written);
  let got = 0;
  while (got < all.length) {
    const read = await writer.readInto(all.subarray(got), got, all.length - got);
    if (read === 0) break;
    got += read;
  }
  expect(got).toBeGreaterThanOrEqual(2 * 1024 * 1024);
  expect(all.subarray(0, got).equals(blob.bytes.subarray(0, got))).toBe(true);
  await expect(writer.write(Buffer.alloc(1))).rejects.toMatchObject({ code: "EIO" });
  await expect(writer.commit()).rejects.toMatchObject({ code: "EIO" });
  expect(published).toEqual([]);
  await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
});

it("reuses its run memory: a long blob goes through a handful of runs", async () => {
  const { writer, blob, published } = await writerOver(Infinity);
  for (let at = 0; at < blob.bytes.length; at += 100_000)
    await writer.write(blob.bytes.subarray(at, at + 100_000));
  await writer.commit();
  expect(published).toHaveLength(1);
  const runs = (writer as unknown as { runs: unknown[]; spare: unknown[] }).runs.length;
  const spare = (writer as unknown as { spare: unknown[] }).spare.length;
  expect(runs + spare).toBeLessThanOrEqual(7); // 4 on their way, 2 kept, 1 filling
});
