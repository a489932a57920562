import { UpstreamStatusError } from "./errors";

/** Reads a whole (small) origin body, refusing one larger than `maxBytes` (413: not worth a retry). */
export async function readBounded(body: AsyncIterable<Buffer>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) throw new UpstreamStatusError(413, `origin response larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
