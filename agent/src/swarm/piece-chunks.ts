/**
 * Byte streams of pieces, no I/O: cutting one into whole pieces, and stopping one whose origin lease
 * was taken away.
 */
import { pieceSpan } from "../../../protocol/pieces";

/**
 * Cuts a byte stream that starts at piece `first` into whole pieces `first`..`end - 1`, each as the
 * views of the stream's chunks it spans: no copy (joining them cost a lone pull a tenth of its
 * time in copies and GC, issue 10).
 */
export async function* intoPieces(
  chunks: AsyncIterable<Buffer>,
  first: number,
  end: number,
  size: number,
  pieceSize: number,
): AsyncGenerator<{ index: number; parts: Buffer[] }> {
  let index = first;
  let parts: Buffer[] = [];
  let got = 0;
  for await (const chunk of chunks) {
    for (let at = 0; at < chunk.length; ) {
      if (index >= end) throw new Error(`stream runs past piece ${end - 1}`);
      const span = pieceSpan(index, size, pieceSize);
      const length = span.end - span.start + 1;
      const take = Math.min(chunk.length - at, length - got);
      parts.push(chunk.subarray(at, at + take));
      got += take;
      at += take;
      if (got < length) continue;
      const piece = parts;
      parts = [];
      got = 0;
      yield { index: index++, parts: piece };
    }
  }
  if (index < end) throw new Error(`stream ended inside piece ${index} (wanted up to ${end - 1})`);
}

/** The tracker moved a piece's lease to another member while this one was fetching it. */
export class LeaseLostError extends Error {}

/** Passes chunks through while `leased()` holds; throws LeaseLostError (ending the fetch) once not. */
export async function* whileLeased(
  chunks: AsyncIterable<Buffer>,
  leased: () => boolean,
): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    if (!leased()) throw new LeaseLostError("lease lost");
    yield chunk;
  }
}
