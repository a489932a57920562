import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryBlobStore } from "../testing/memory-blob-store";
import { blobOf, readAll } from "../testing/blob-store-conformance";
import { BlobWriter } from "./blob-store";
import { FsBlobStore } from "./fs-blob-store";
import { InFlight } from "./in-flight";

/** A fill the test drives by hand: write a part, then let the next part go. */
function manualFill(bytes: Buffer, parts: number) {
  const gates: (() => void)[] = [];
  let fills = 0;
  const fill = async (writer: BlobWriter) => {
    fills++;
    const step = Math.ceil(bytes.length / parts);
    for (let at = 0; at < bytes.length; at += step) {
      await writer.write(bytes.subarray(at, at + step));
      await new Promise<void>(resolve => gates.push(resolve));
    }
    await writer.commit();
  };
  const release = () => gates.shift()?.();
  return { fill, release, fills: () => fills };
}

it("runs one fill for concurrent joiners, who all get exact bytes, streaming before it ends", async () => {
  const store = new MemoryBlobStore();
  const inFlight = new InFlight(store);
  const blob = blobOf(100_000);
  const driver = manualFill(blob.bytes, 4);
  const handles = Array.from({ length: 5 }, () => inFlight.join(blob.digest, blob.bytes.length, driver.fill));
  expect(new Set(handles).size).toBe(1);
  const reader = handles[0].createReader();
  const first = await new Promise<Buffer>(resolve => reader.once("data", resolve));
  expect(first.length).toBeGreaterThan(0);
  expect(await store.stat(blob.digest)).toBeUndefined(); // still filling
  reader.pause();
  const others = handles.slice(1).map(handle => readAll(handle.createReader()));
  const ranged = readAll(handles[0].createReader({ start: 30_000, end: 79_999 }));
  const timer = setInterval(driver.release, 5);
  const rest = readAll(reader);
  const results = await Promise.all(others);
  clearInterval(timer);
  expect(Buffer.concat([first, await rest]).equals(blob.bytes)).toBe(true);
  for (const result of results) expect(result.equals(blob.bytes)).toBe(true);
  expect((await ranged).equals(blob.bytes.subarray(30_000, 80_000))).toBe(true);
  expect(driver.fills()).toBe(1);
  await new Promise(resolve => setImmediate(resolve));
  expect(inFlight.size).toBe(0);
});

it("destroys readers when the fill fails, and the next join starts a new fill", async () => {
  const store = new MemoryBlobStore();
  const inFlight = new InFlight(store);
  const blob = blobOf(10_000);
  const failing = inFlight.join(blob.digest, blob.bytes.length, async writer => {
    await writer.write(blob.bytes.subarray(0, 5000));
    throw new Error("origin went away");
  });
  await expect(readAll(failing.createReader())).rejects.toThrow("origin went away");
  await new Promise(resolve => setImmediate(resolve));
  const retried = inFlight.join(blob.digest, blob.bytes.length, async writer => {
    await writer.write(blob.bytes);
    await writer.commit();
  });
  expect(retried).not.toBe(failing);
  expect((await readAll(retried.createReader())).equals(blob.bytes)).toBe(true);
});

it("never ends a reader normally when the bytes do not match the digest", async () => {
  const store = new MemoryBlobStore();
  const inFlight = new InFlight(store);
  const blob = blobOf(10_000);
  const bad = inFlight.join(blob.digest, blob.bytes.length, async writer => {
    await writer.write(Buffer.alloc(10_000));
    await writer.commit();
  });
  await expect(readAll(bad.createReader())).rejects.toMatchObject({ code: "PEERPULL_DIGEST_MISMATCH" });
});

it("aborts the writer of a fill that fails without aborting it: no temp file or handle is left", async () => {
  const dir = await mkdtemp(join(tmpdir(), "pp-inflight-"));
  try {
    const store = await FsBlobStore.open(dir, { ttlMs: 60_000, maxBytes: 0 });
    const inFlight = new InFlight(store);
    const blob = blobOf(10_000);
    for (const fill of [
      async (writer: BlobWriter) => {
        await writer.write(blob.bytes.subarray(0, 5000));
        throw new Error("origin went away");
      },
      async (writer: BlobWriter) => void (await writer.write(blob.bytes)), // ends without committing
    ]) {
      const failed = inFlight.join(blob.digest, blob.bytes.length, fill);
      await expect(readAll(failed.createReader())).rejects.toThrow();
      await failed.settled(5_000);
      expect(await readdir(join(dir, "tmp"))).toEqual([]);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it("streams to a waiting reader as a fill that adopted a file (a swarm download) takes its pieces", async () => {
  const dir = await mkdtemp(join(tmpdir(), "pp-inflight-"));
  try {
    const store = await FsBlobStore.open(dir, { ttlMs: 60_000, maxBytes: 0 });
    const inFlight = new InFlight(store);
    const blob = blobOf(3 * 1024 * 1024);
    await mkdir(join(dir, "partial"), { recursive: true });
    const file = join(dir, "partial", "download.data");
    await writeFile(file, blob.bytes); // the pieces, as the swarm stored them
    let firstSliceSeen!: () => void;
    const firstSlice = new Promise<void>(resolve => (firstSliceSeen = resolve));
    const fill = inFlight.join(blob.digest, blob.bytes.length, async writer => {
      const adopted = await writer.adopt!(file);
      await adopted.write(blob.bytes.subarray(0, 1024 * 1024));
      await firstSlice; // the next piece only comes once the client got the first one
      await adopted.write(blob.bytes.subarray(1024 * 1024));
      await adopted.commit();
    });
    const reader = fill.createSliceReader();
    const into = Buffer.alloc(1024 * 1024);
    expect(await reader.readInto(into, 0, into.length)).toBeGreaterThan(0); // woken, not left waiting
    firstSliceSeen();
    const rest = Buffer.alloc(2 * 1024 * 1024);
    for (let at = 0; at < rest.length; )
      at += await reader.readInto(rest.subarray(at), 1024 * 1024 + at, rest.length - at);
    expect(rest.equals(blob.bytes.subarray(1024 * 1024))).toBe(true);
    await reader.close();
    await fill.settled(10_000); // the last byte went out on the digest match, before the rename
    expect(await store.stat(blob.digest)).toMatchObject({ size: blob.bytes.length });
    expect(await readdir(join(dir, "partial"))).toEqual([]); // the file itself became the blob
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
