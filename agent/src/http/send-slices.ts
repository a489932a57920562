/**
 * Sends a span of a slice source (a cached file, or a fill still running) as a response body with
 * two reusable buffers per response: the next
 * slice is read while the previous one is being written, and a buffer is reused only after the
 * socket took it. No per-slice garbage, so many concurrent pulls of large cached blobs cost a few
 * MiB each instead of whatever the garbage collector has not reclaimed yet.
 */
import type { ServerResponse } from "node:http";
import type { ByteSpan } from "../../../protocol/range";
import type { SliceSource } from "../cache/blob-store";

const SLICE_BYTES = 1024 * 1024;

export async function sendSlices(res: ServerResponse, source: SliceSource, span: ByteSpan): Promise<void> {
  const buffers = [Buffer.allocUnsafe(SLICE_BYTES), Buffer.allocUnsafe(SLICE_BYTES)];
  const writes: (Promise<void> | undefined)[] = [undefined, undefined];
  const gone = new Promise<never>((_resolve, reject) =>
    res.once("close", () => {
      if (!res.writableFinished)
        reject(Object.assign(new Error("client went away"), { code: "ERR_STREAM_PREMATURE_CLOSE" }));
    }),
  );
  gone.catch(() => undefined);
  let position = span.start;
  for (let slot = 0; position <= span.end; slot ^= 1) {
    if (writes[slot]) await Promise.race([writes[slot], gone]);
    const length = Math.min(SLICE_BYTES, span.end - position + 1);
    const bytesRead = await source.readInto(buffers[slot], position, length);
    if (bytesRead === 0) throw new Error(`blob ended at byte ${position}`);
    position += bytesRead;
    writes[slot] = write(res, buffers[slot].subarray(0, bytesRead));
    writes[slot]!.catch(() => undefined);
  }
  await Promise.race([Promise.all(writes), gone]);
  await new Promise<void>(resolve => res.end(resolve));
}

function write(res: ServerResponse, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => res.write(chunk, err => (err ? reject(err) : resolve())));
}
